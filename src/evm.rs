//! On-chain verification: the Solidity verifier of a model directory, call data, and a check
//! in an in-process EVM.

use crate::Error;
use std::path::Path;
use zkonnx_evm::execute::{deploy_and_call, Receipt};
use zkonnx_evm::solc::{compile, Compiled};
use zkonnx_evm::{calldata, solidity};
use zkonnx_verifier::ProofFile;

/// A model's verifier contract: its source and compiled code.
pub struct EvmVerifier {
    /// Solidity source.
    pub source: String,
    /// Compiled code.
    pub compiled: Compiled,
}

/// The Solidity source of the verifier for the keys in `dir`.
pub fn evm_verifier_source(dir: &Path) -> Result<String, Error> {
    let v = crate::load_verifier(dir)?;
    Ok(solidity::generate(&v.srs, &v.vk)?)
}

impl EvmVerifier {
    /// Generates and compiles the verifier for the keys in `dir`.
    pub fn build(dir: &Path) -> Result<Self, Error> {
        let source = evm_verifier_source(dir)?;
        let compiled = compile(&source)?;
        Ok(Self { source, compiled })
    }

    /// Deploys the contract in revm and calls it with the proof; `Ok` only if it accepted.
    pub fn verify(&self, proof: &ProofFile) -> Result<Receipt, Error> {
        Ok(deploy_and_call(&self.compiled, calldata::encode(proof)?)?)
    }
}

/// The contract's call data for a proof, as 0x-hex.
pub fn evm_calldata(proof: &ProofFile) -> Result<String, Error> {
    Ok(calldata::encode_hex(proof)?)
}
