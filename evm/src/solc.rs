//! Compiling Solidity with the pinned solc: npm's `solc@0.8.19` (the official compiler built
//! to WebAssembly), run by node through `evm/solc/compile.js`. No binary is downloaded.

use crate::error::EvmError;
use serde::Deserialize;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Optimizer setting passed to solc. snark-verifier's generated verifier is one large inline
/// assembly block: solc 0.8.19's legacy optimizer fails on it with "stack too deep", and the
/// via-IR pipeline strips it to an empty contract, so it is compiled as snark-verifier itself
/// compiles it, with the optimizer off (measured in `scripts/evm_settings.js`).
pub const OPTIMIZER: &str = "off";

/// A compiled contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compiled {
    /// solc's version string.
    pub version: String,
    /// Creation code.
    pub bytecode: Vec<u8>,
    /// Runtime code (what EIP-170 limits).
    pub deployed: Vec<u8>,
    /// Optimizer settings, for reports.
    pub settings: String,
}

#[derive(Deserialize)]
struct Output {
    version: Option<String>,
    bytecode: Option<String>,
    #[serde(rename = "deployedBytecode")]
    deployed: Option<String>,
    errors: Option<Vec<String>>,
}

/// The folder holding `compile.js` and `node_modules/solc`: `ZKONNX_SOLC_DIR`, or this
/// crate's `solc/` folder.
pub fn solc_dir() -> PathBuf {
    std::env::var_os("ZKONNX_SOLC_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("solc"))
}

/// Compiles `source` with the [`OPTIMIZER`] setting.
pub fn compile(source: &str) -> Result<Compiled, EvmError> {
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
    let decode = |h: Option<String>| {
        hex::decode(h.unwrap_or_default()).map_err(|e| EvmError::Compile(e.to_string()))
    };
    Ok(Compiled {
        version: parsed.version.unwrap_or_default(),
        bytecode: decode(parsed.bytecode)?,
        deployed: decode(parsed.deployed)?,
        settings: format!("solc 0.8.19, optimizer {OPTIMIZER}"),
    })
}
