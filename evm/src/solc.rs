//! Compiling Solidity with the pinned solc: npm's `solc@0.8.19` (the official compiler built
//! to WebAssembly), run by node through `evm/solc/compile.js`. No binary is downloaded.

use crate::error::EvmError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// solc's settings (standard JSON's `settings`, less the output selection): the optimizer,
/// the pipeline, and no metadata hash, so that a contract's code depends only on its source
/// and these settings (a split verifier's main contract pins its parts' code hashes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Settings {
    /// The optimizer.
    pub optimizer: Optimizer,
    /// The via-IR pipeline.
    #[serde(rename = "viaIR")]
    pub via_ir: bool,
    /// No metadata hash or CBOR section.
    pub metadata: Metadata,
}

/// solc's `optimizer` object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Optimizer {
    /// Whether the optimizer runs.
    pub enabled: bool,
    /// Expected number of calls (the optimizer's size/gas trade-off).
    pub runs: u32,
}

/// solc's `metadata` object, fixed to leave no hash in the code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// `"none"`.
    pub bytecode_hash: &'static str,
    /// `false`.
    #[serde(rename = "appendCBOR")]
    pub append_cbor: bool,
}

impl Settings {
    /// What zkonnx compiles with: the optimizer on, tuned for a contract that runs many
    /// times (`runs: 100000`), the legacy pipeline. Measured on the digits MLP
    /// (`--target evm`, revm): 347,083 gas; runs 200: 349,492; runs 1: 349,987; optimizer
    /// off: 347,451; via-IR with the optimizer off: 347,628 (and with it on, no compile).
    pub fn zkonnx() -> Self {
        Self::with(Optimizer {
            enabled: true,
            runs: 100_000,
        })
    }

    /// The legacy pipeline with `optimizer`.
    pub fn with(optimizer: Optimizer) -> Self {
        Self {
            optimizer,
            via_ir: false,
            metadata: Metadata {
                bytecode_hash: "none",
                append_cbor: false,
            },
        }
    }

    /// The same settings through via-IR.
    pub fn via_ir(self) -> Self {
        Self {
            via_ir: true,
            ..self
        }
    }

    /// The settings in words, for reports.
    pub fn describe(&self) -> String {
        let opt = if self.optimizer.enabled {
            format!("optimizer on, runs {}", self.optimizer.runs)
        } else {
            "optimizer off".to_string()
        };
        let pipe = if self.via_ir { ", via-IR" } else { "" };
        format!("solc 0.8.19, {opt}{pipe}, no metadata hash")
    }

    /// The same settings as a Foundry profile.
    pub fn foundry_toml(&self) -> String {
        format!(
            "# The solc settings zkonnx compiled Verifier.sol with (`zkonnx evm verifier` writes\n\
             # this file). A split verifier's parts must be compiled with exactly these.\n\
             [profile.default]\nsolc_version = \"0.8.19\"\noptimizer = {}\noptimizer_runs = {}\n\
             via_ir = {}\nbytecode_hash = \"none\"\ncbor_metadata = false\n",
            self.optimizer.enabled, self.optimizer.runs, self.via_ir
        )
    }

    /// solc's standard-JSON input for `source` (file `Verifier.sol`) with these settings.
    pub fn standard_json(&self, source: &str) -> Result<String, EvmError> {
        let input = serde_json::json!({
            "language": "Solidity",
            "sources": { "Verifier.sol": { "content": source } },
            "settings": {
                "optimizer": self.optimizer,
                "viaIR": self.via_ir,
                "metadata": self.metadata,
                "outputSelection": { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
            },
        });
        serde_json::to_string_pretty(&input).map_err(|e| EvmError::Compile(e.to_string()))
    }
}

/// One compiled contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compiled {
    /// Contract name.
    pub name: String,
    /// Creation code.
    pub bytecode: Vec<u8>,
    /// Runtime code (what EIP-170 limits).
    pub deployed: Vec<u8>,
    /// Where the runtime code holds immutables, set by the constructor: (offset, length).
    pub immutables: Vec<(usize, usize)>,
}

impl Compiled {
    /// Whether `code` is this contract's runtime code, whatever its immutables hold.
    pub fn is_deployed_code(&self, code: &[u8]) -> bool {
        if code.len() != self.deployed.len() || code.is_empty() {
            return false;
        }
        let mut masked = code.to_vec();
        for &(at, len) in &self.immutables {
            if let (Some(dst), Some(src)) = (
                masked.get_mut(at..at + len),
                self.deployed.get(at..at + len),
            ) {
                dst.copy_from_slice(src);
            }
        }
        masked == self.deployed
    }
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
    #[serde(default)]
    immutables: Vec<Immutable>,
}

#[derive(Deserialize)]
struct Immutable {
    start: usize,
    length: usize,
}

/// The folder holding `compile.js` and `node_modules/solc`: `ZKONNX_SOLC_DIR`, or this
/// crate's `solc/` folder.
pub fn solc_dir() -> PathBuf {
    std::env::var_os("ZKONNX_SOLC_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("solc"))
}

/// Compiles `source` with zkonnx's settings ([`Settings::zkonnx`]).
pub fn compile(source: &str) -> Result<CompiledSource, EvmError> {
    compile_with(source, &Settings::zkonnx())
}

/// Compiles `source` with `settings`.
pub fn compile_with(source: &str, settings: &Settings) -> Result<CompiledSource, EvmError> {
    let settings_json =
        serde_json::to_string(settings).map_err(|e| EvmError::Compile(e.to_string()))?;
    let dir = solc_dir();
    if !dir.join("node_modules/solc/package.json").exists() {
        return Err(EvmError::CompilerMissing(format!(
            "no solc package in {}",
            dir.join("node_modules").display()
        )));
    }
    let mut child = Command::new("node")
        .arg(dir.join("compile.js"))
        .arg(settings_json)
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
                immutables: c.immutables.iter().map(|i| (i.start, i.length)).collect(),
                name,
            })
        })
        .collect::<Result<Vec<_>, EvmError>>()?;
    Ok(CompiledSource {
        version: parsed.version.unwrap_or_default(),
        contracts,
        settings: settings.describe(),
    })
}
