//! The facade's error: which step failed and why, in one line.

use thiserror::Error;

/// Any zkonnx failure.
#[derive(Debug, Error)]
pub enum Error {
    /// Loading, lowering or calibrating the model.
    #[error(transparent)]
    Onnx(#[from] zkonnx_onnx::OnnxError),
    /// Setting up or proving.
    #[error(transparent)]
    Prover(#[from] zkonnx_prover::ProverError),
    /// Verifying, or reading a proof, vk or SRS.
    #[error(transparent)]
    Verify(#[from] zkonnx_verifier::VerifyError),
    /// Generating, compiling or running the Solidity verifier.
    #[error(transparent)]
    Evm(#[from] zkonnx_evm::EvmError),
    /// The model cannot be laid out.
    #[error(transparent)]
    Circuit(#[from] zkonnx_circuits::CircuitError),
    /// An input file is unreadable or malformed.
    #[error("input {path}: {reason}")]
    Input {
        /// Path.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A model directory lacks a file an earlier step writes.
    #[error("{path} is missing: run `zkonnx {step}` first")]
    Missing {
        /// Path.
        path: String,
        /// The step that writes it.
        step: &'static str,
    },
}
