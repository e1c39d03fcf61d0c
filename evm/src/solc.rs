//! Compiling Solidity with the pinned solc: npm's `solc@0.8.19` (the official compiler built
//! to WebAssembly), run by node through `evm/solc/compile.js`. No binary is downloaded.

use crate::error::EvmError;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// solc's optimizer settings (standard-JSON `optimizer`): on, tuned for a contract that runs
/// many times (`runs: 100000`). snark-verifier's verifier is one large inline-assembly block;
/// solc 0.8.19's default Yul optimizer sequence fails on it with "stack too deep" (its
/// expression-splitting and SSA steps need more stack slots than the block has), so the Yul
/// optimizer runs a short step sequence without them, plus stack allocation, and the legacy
/// bytecode optimizer (peephole, common subexpressions, constants, dead code) runs in full.
/// Measured on the digits MLP (`scripts/evm_settings.js` compares the settings): off 476.7k
/// gas, 19,678 bytes; this 476.2k gas, 19,330 bytes; `runs: 1` 479.4k gas, 19,082 bytes.
pub const OPTIMIZER: &str = r#"{"enabled":true,"runs":100000,"details":{"yul":true,"yulDetails":{"stackAllocation":true,"optimizerSteps":"dhfoDgvulfnTUtnIf"}}}"#;

/// The settings in words, for reports.
pub const SETTINGS: &str =
    "solc 0.8.19, optimizer on (runs 100000; Yul steps dhfoDgvulfnTUtnIf, stack allocation)";

/// One compiled contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compiled {
    /// Contract name.
    pub name: String,
    /// Creation code.
    pub bytecode: Vec<u8>,
    /// Runtime code (what EIP-170 limits).
    pub deployed: Vec<u8>,
}

/// Every contract of one source file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompiledSource {
    /// solc's version string.
    pub version: String,
    /// The contracts, sorted by name.
    pub contracts: Vec<Compiled>,
    /// Optimizer settings, for reports.
    pub settings: String,
}

impl CompiledSource {
    /// The contract called `name`.
    pub fn get(&self, name: &str) -> Option<&Compiled> {
        self.contracts.iter().find(|c| c.name == name)
    }
}

#[derive(Deserialize)]
struct Output {
    version: Option<String>,
    contracts: Option<BTreeMap<String, ContractOutput>>,
    errors: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct ContractOutput {
    bytecode: String,
    #[serde(rename = "deployedBytecode")]
    deployed: String,
}

/// The folder holding `compile.js` and `node_modules/solc`: `ZKONNX_SOLC_DIR`, or this
/// crate's `solc/` folder.
pub fn solc_dir() -> PathBuf {
    std::env::var_os("ZKONNX_SOLC_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("solc"))
}

/// Compiles `source` with the [`OPTIMIZER`] settings.
pub fn compile(source: &str) -> Result<CompiledSource, EvmError> {
    let dir = solc_dir();
    if !dir.join("node_modules/solc/package.json").exists() {
        return Err(EvmError::CompilerMissing(format!(
            "no solc package in {}",
            dir.join("node_modules").display()
        )));
    }
    let mut child = Command::new("node")
        .arg(dir.join("compile.js"))
        .arg(OPTIMIZER)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| EvmError::CompilerMissing(format!("cannot run node: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(source.as_bytes())
            .map_err(|e| EvmError::Compile(e.to_string()))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| EvmError::Compile(e.to_string()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(EvmError::Compile(
            err.lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("node failed")
                .to_string(),
        ));
    }
    let parsed: Output = serde_json::from_slice(&out.stdout)
        .map_err(|e| EvmError::Compile(format!("unreadable compiler output: {e}")))?;
    if let Some(errors) = parsed.errors {
        let first = errors
            .first()
            .map(|e| e.lines().next().unwrap_or("").to_string())
            .unwrap_or_default();
        return Err(EvmError::Compile(first));
    }
    let decode = |h: &str| hex::decode(h).map_err(|e| EvmError::Compile(e.to_string()));
    let contracts = parsed
        .contracts
        .unwrap_or_default()
        .into_iter()
        .map(|(name, c)| {
            Ok(Compiled {
                bytecode: decode(&c.bytecode)?,
                deployed: decode(&c.deployed)?,
                name,
            })
        })
        .collect::<Result<Vec<_>, EvmError>>()?;
    Ok(CompiledSource {
        version: parsed.version.unwrap_or_default(),
        contracts,
        settings: SETTINGS.to_string(),
    })
}
