//! On-chain verification: the Solidity verifier of a model directory, call data, and a check
//! in an in-process EVM.

use crate::Error;
use std::path::Path;
use zkonnx_evm::execute::{deploy_and_call, Receipt};
use zkonnx_evm::solc::{compile, CompiledSource};
use zkonnx_evm::split::VerifierSource;
use zkonnx_evm::{calldata, solidity};
use zkonnx_verifier::ProofFile;

/// A model's verifier contracts: their source and compiled code.
pub struct EvmVerifier {
    /// Solidity source: one contract, or a main contract and parts.
    pub source: VerifierSource,
    /// Compiled code of every contract.
    pub compiled: CompiledSource,
}

/// The Solidity source of the verifier for the keys in `dir` (split into a main contract
/// and parts when one contract would exceed EIP-170).
pub fn evm_verifier_source(dir: &Path) -> Result<VerifierSource, Error> {
    let v = crate::load_verifier(dir)?;
    Ok(solidity::verifier(&v.srs, &v.vk)?)
}

impl EvmVerifier {
    /// Generates and compiles the verifier for the keys in `dir`.
    pub fn build(dir: &Path) -> Result<Self, Error> {
        let source = evm_verifier_source(dir)?;
        let compiled = compile(&source.solidity)?;
        Ok(Self { source, compiled })
    }

    /// Deploys the contracts in revm and calls the main one with the proof; `Ok` only if it
    /// accepted.
    pub fn verify(&self, proof: &ProofFile) -> Result<Receipt, Error> {
        Ok(deploy_and_call(
            &self.source,
            &self.compiled,
            calldata::encode(proof)?,
        )?)
    }
}

/// The contract's call data for a proof, as 0x-hex.
pub fn evm_calldata(proof: &ProofFile) -> Result<String, Error> {
    Ok(calldata::encode_hex(proof)?)
}
