//! Prover errors.

use thiserror::Error;

/// What can go wrong setting up or proving.
#[derive(Debug, Error)]
pub enum ProverError {
    /// A file could not be read or written.
    #[error("{path}: {reason}")]
    Io {
        /// Path.
        path: String,
        /// OS error.
        reason: String,
    },
    /// An artifact is corrupt or from another version.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// Which artifact.
        what: String,
        /// What is wrong.
        reason: String,
    },
    /// The input is unusable or leaves the calibrated domain.
    #[error(transparent)]
    Eval(#[from] zkonnx_circuits::EvalError),
    /// The model cannot be laid out.
    #[error(transparent)]
    Circuit(#[from] zkonnx_circuits::CircuitError),
    /// A verifier-side format error (SRS or vk).
    #[error(transparent)]
    Verify(#[from] zkonnx_verifier::VerifyError),
    /// halo2 failed (a bug if the plan was right).
    #[error("halo2 failed: {0}")]
    Halo2(String),
}

/// Maps an I/O error with its path.
pub fn io(path: &std::path::Path) -> impl Fn(std::io::Error) -> ProverError + '_ {
    move |e| ProverError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}
