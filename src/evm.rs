//! On-chain verification: the Solidity verifier of a model directory, call data, a check in
//! an in-process EVM, and deployment and checks on a real node.

use crate::Error;
use std::path::{Path, PathBuf};
use zkonnx_evm::in_process::{deploy_and_call, Receipt};
use zkonnx_evm::node::{self, Deployment};
use zkonnx_evm::solc::{compile, CompiledSource, Settings};
use zkonnx_evm::split::{VerifierSource, MAIN};
use zkonnx_evm::{calldata, solidity};
use zkonnx_prover::artifacts::write_atomic;
use zkonnx_verifier::ProofFile;

pub use zkonnx_evm::node::{signer, KEY_VAR};
pub use zkonnx_evm::primitives::Address;
pub use zkonnx_evm::{EvmError, MAX_CODE_SIZE};

/// A model's verifier contracts: their source and compiled code.
pub struct EvmVerifier {
    /// Solidity source: one contract, or a main contract and parts.
    pub source: VerifierSource,
    /// Compiled code of every contract.
    pub compiled: CompiledSource,
}

/// The Solidity source of the verifier for the keys in `dir` (split into a main contract
/// and parts when one contract would exceed EIP-170).
///
/// # Errors
/// Missing or malformed keys, or a verifying key the generator cannot handle.
pub fn evm_verifier_source(dir: &Path) -> Result<VerifierSource, Error> {
    let v = crate::load_verifier(dir)?;
    Ok(solidity::verifier(&v.srs, &v.vk)?)
}

/// The files `zkonnx evm verifier` writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrittenVerifier {
    /// The Solidity source.
    pub source: VerifierSource,
    /// solc's standard-JSON input with zkonnx's settings, beside the contract.
    pub standard_json: PathBuf,
    /// `foundry.toml` with the same settings, unless one was there already.
    pub foundry_toml: Option<PathBuf>,
}

/// Writes the verifier of `dir` to `out`, with solc's standard-JSON input for it
/// (`<stem>.solc.json`) and, unless the folder already has one, a `foundry.toml` that sets
/// the compiler settings zkonnx used.
///
/// # Errors
/// As [`evm_verifier_source`], and any file that cannot be written.
pub fn write_verifier(dir: &Path, out: &Path) -> Result<WrittenVerifier, Error> {
    let source = evm_verifier_source(dir)?;
    let settings = Settings::zkonnx();
    write_atomic(out, source.solidity.as_bytes())?;
    let folder = out.parent().unwrap_or(Path::new(""));
    let stem = out
        .file_stem()
        .map_or("Verifier".into(), |s| s.to_string_lossy());
    let standard_json = folder.join(format!("{stem}.solc.json"));
    write_atomic(
        &standard_json,
        settings.standard_json(&source.solidity)?.as_bytes(),
    )?;
    let toml = folder.join("foundry.toml");
    let foundry_toml = if toml.exists() {
        None
    } else {
        write_atomic(&toml, settings.foundry_toml().as_bytes())?;
        Some(toml)
    };
    Ok(WrittenVerifier {
        source,
        standard_json,
        foundry_toml,
    })
}

impl EvmVerifier {
    /// Generates and compiles the verifier for the keys in `dir`.
    ///
    /// # Errors
    /// As [`evm_verifier_source`], and a missing or failing compiler.
    pub fn build(dir: &Path) -> Result<Self, Error> {
        let source = evm_verifier_source(dir)?;
        let compiled = compile(&source.solidity)?;
        Ok(Self { source, compiled })
    }

    /// Deploys the contracts in revm and calls the main one with the proof; `Ok` only if it
    /// accepted.
    ///
    /// # Errors
    /// [`zkonnx_evm::EvmError::Rejected`] if the contract rejected the proof; a malformed
    /// proof, or a contract over EIP-170.
    pub fn verify(&self, proof: &ProofFile) -> Result<Receipt, Error> {
        self.verify_calldata(calldata::encode(proof)?)
    }

    /// As [`EvmVerifier::verify`], with raw call data.
    ///
    /// # Errors
    /// As [`EvmVerifier::verify`].
    pub fn verify_calldata(&self, data: Vec<u8>) -> Result<Receipt, Error> {
        Ok(deploy_and_call(&self.source, &self.compiled, data)?)
    }

    /// Deploys the contracts on the node at `rpc` from the account of `key` (parts first).
    ///
    /// # Errors
    /// [`zkonnx_evm::EvmError::Node`] if the node cannot be reached or refuses a transaction.
    pub fn deploy(&self, rpc: &str, key: &node::Signer) -> Result<Deployment, Error> {
        Ok(node::deploy(rpc, key, &self.source, &self.compiled)?)
    }

    /// Checks `data` against the verifier deployed at `address` with `eth_call`, after
    /// checking that the code there is this verifier; returns the gas a transaction would
    /// use.
    ///
    /// # Errors
    /// [`zkonnx_evm::EvmError::Rejected`] if it rejected the proof,
    /// [`zkonnx_evm::EvmError::NotTheVerifier`] if the address holds other code or none.
    pub fn verify_at(&self, rpc: &str, address: Address, data: Vec<u8>) -> Result<u64, Error> {
        Ok(node::verify_at(rpc, address, self.main()?, data)?)
    }

    /// Sends `data` to the verifier at `address` in a transaction; returns its gas.
    ///
    /// # Errors
    /// As [`EvmVerifier::verify_at`], without the code check.
    pub fn transact(
        &self,
        rpc: &str,
        key: &node::Signer,
        address: Address,
        data: Vec<u8>,
    ) -> Result<u64, Error> {
        Ok(node::transact(rpc, key, address, data)?)
    }

    fn main(&self) -> Result<&zkonnx_evm::solc::Compiled, Error> {
        self.compiled.get(MAIN).ok_or_else(|| {
            zkonnx_evm::EvmError::Deploy(format!("solc produced no contract {MAIN}")).into()
        })
    }
}

/// The contract's call data for a proof, as 0x-hex.
///
/// # Errors
/// A proof with another transcript or malformed values.
pub fn evm_calldata(proof: &ProofFile) -> Result<String, Error> {
    Ok(calldata::encode_hex(proof)?)
}

/// The contract's call data for a proof.
///
/// # Errors
/// As [`evm_calldata`].
pub fn evm_calldata_bytes(proof: &ProofFile) -> Result<Vec<u8>, Error> {
    Ok(calldata::encode(proof)?)
}

/// The solc settings zkonnx compiles its verifiers with, in words (for messages).
pub fn solc_settings() -> String {
    Settings::zkonnx().describe()
}
