//! zkonnx-prover: SRS, keys, witness and proofs.
//!
//! [`srs`] makes or loads KZG parameters, [`keys`] generates and stores the proving and
//! verifying keys, [`prove`] turns an input into a [`zkonnx_verifier::ProofFile`], and
//! [`artifacts`] reads and writes the files of a compiled-model directory (atomically).

pub mod artifacts;
pub mod error;
pub mod keys;
pub mod prove;
pub mod srs;

pub use error::ProverError;
pub use prove::Prover;
