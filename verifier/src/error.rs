//! Verification errors: each says in one line whether the proof is invalid or an input is
//! unreadable, so callers can tell them apart.

use thiserror::Error;

/// Why a proof was not accepted.
#[derive(Debug, Error)]
pub enum VerifyError {
    /// A file could not be read.
    #[error("cannot read {path}: {reason}")]
    Io {
        /// Path.
        path: String,
        /// OS error.
        reason: String,
    },
    /// `vk.bin` is truncated, corrupt or from another version.
    #[error("malformed verifying key: {0}")]
    MalformedVk(String),
    /// `proof.json` is not a zkonnx proof.
    #[error("malformed proof: {0}")]
    MalformedProof(String),
    /// `kzg.srs` is truncated or corrupt.
    #[error("malformed SRS: {0}")]
    MalformedSrs(String),
    /// The SRS is not the one the keys were made with.
    #[error("the SRS is not the one the verifying key was made with (its srs_hash differs)")]
    WrongSrs,
    /// The proof names another verifying key.
    #[error("the proof is for another model (proof vk_hash {proof}, this vk {vk})")]
    WrongModel {
        /// vk hash in the proof.
        proof: String,
        /// hash of the vk given.
        vk: String,
    },
    /// The proof names another compiled model than the vk's header.
    #[error("the proof names the model {proof}, but this vk is for the model {vk}")]
    WrongModelHash {
        /// model_hash in the proof.
        proof: String,
        /// model_hash in the vk header.
        vk: String,
    },
    /// The proof uses a transcript this verifier does not read.
    #[error("unsupported transcript '{0}' (zkonnx proofs use \"evm\")")]
    WrongTranscript(String),
    /// The number of public values differs from the vk's instance layout.
    #[error("the proof has {got} public values, the verifying key expects {expected}")]
    InstanceCount {
        /// Values the vk expects.
        expected: usize,
        /// Values in the proof.
        got: usize,
    },
    /// The proof does not verify against the key and public values.
    #[error(
        "invalid proof: it does not verify against this verifying key and these public values"
    )]
    InvalidProof,
}
