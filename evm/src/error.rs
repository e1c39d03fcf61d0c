//! Errors of the EVM path, each one line.

use thiserror::Error;

/// What can go wrong generating, compiling or running a verifier contract.
#[derive(Debug, Error)]
pub enum EvmError {
    /// The verifier generator failed for this key.
    #[error("cannot generate the Solidity verifier: {0}")]
    Generate(String),
    /// node or the solc package is missing.
    #[error("the Solidity compiler is not installed ({0}); run `npm ci --prefix evm/solc` (needs node), or set ZKONNX_SOLC_DIR to a folder holding compile.js and node_modules/solc")]
    CompilerMissing(String),
    /// solc rejected the source.
    #[error("solc failed: {0}")]
    Compile(String),
    /// The deployed code exceeds EIP-170.
    #[error("the verifier's deployed code is {size} bytes, over the EIP-170 limit of {limit}")]
    TooLarge {
        /// Deployed bytes.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The proof uses another transcript.
    #[error("proof transcript is '{0}'; the contract reads only \"evm\" proofs")]
    WrongTranscript(String),
    /// Deployment failed.
    #[error("deploying the verifier failed: {0}")]
    Deploy(String),
    /// The contract rejected the proof.
    #[error("the contract rejected the proof: {0}")]
    Rejected(String),
    /// The node could not be reached, or answered with an error.
    #[error("node: {0}")]
    Node(String),
    /// The address does not hold this model's verifier.
    #[error("{0}")]
    NotTheVerifier(String),
    /// Reading the proof or keys failed.
    #[error(transparent)]
    Verify(#[from] zkonnx_verifier::VerifyError),
}
