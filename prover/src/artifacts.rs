//! The files of a compiled-model directory, and atomic writes.
//!
//! `settings.json` is for people (and is never trusted by verification; its type lives in
//! the `zkonnx` crate, beside the calibration report it holds); `model.zkc` is the
//! compiled IR (magic, version, bincode); `kzg.srs`, `pk.bin` and `vk.bin` are the keys.

use crate::error::{io, ProverError};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use zkonnx_circuits::Model;

/// File names inside a model directory.
pub mod names {
    /// Human-readable settings.
    pub const SETTINGS: &str = "settings.json";
    /// Compiled model.
    pub const MODEL: &str = "model.zkc";
    /// SRS.
    pub const SRS: &str = "kzg.srs";
    /// Proving key.
    pub const PK: &str = "pk.bin";
    /// Verifying key.
    pub const VK: &str = "vk.bin";
}

const ZKC_MAGIC: &[u8; 8] = b"ZKONNXMC";

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, then rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ProverError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp: PathBuf = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

/// Reads a file with its path in the error.
pub fn read(path: &Path) -> Result<Vec<u8>, ProverError> {
    std::fs::read(path).map_err(io(path))
}

/// The compiled model and the lane width its layout uses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Compiled {
    /// The quantized model.
    pub model: Model,
    /// Dot-product lanes chosen at compile time.
    pub lanes: usize,
}

/// `model.zkc` bytes.
///
/// # Errors
/// [`ProverError::Malformed`] if bincode cannot encode the model (it always can: the IR
/// holds no maps and no unsized sequences).
pub fn model_to_bytes(compiled: &Compiled) -> Result<Vec<u8>, ProverError> {
    let body = bincode::serialize(compiled).map_err(|e| ProverError::Malformed {
        what: "model.zkc".into(),
        reason: e.to_string(),
    })?;
    let mut out = ZKC_MAGIC.to_vec();
    out.extend(body);
    Ok(out)
}

/// The compiled model's hash: SHA-256 of its canonical `model.zkc` bytes, hex. It covers
/// every weight, scale, domain and the layout's lane width, and the ONNX file's hash.
///
/// # Errors
/// As [`model_to_bytes`].
pub fn model_hash(compiled: &Compiled) -> Result<String, ProverError> {
    use sha2::{Digest, Sha256};
    Ok(hex::encode(Sha256::digest(model_to_bytes(compiled)?)))
}

/// Parses `model.zkc` and validates it.
pub fn model_from_bytes(bytes: &[u8]) -> Result<Compiled, ProverError> {
    let bad = |reason: String| ProverError::Malformed {
        what: "model.zkc".into(),
        reason,
    };
    let body = bytes
        .strip_prefix(ZKC_MAGIC.as_slice())
        .ok_or_else(|| bad("bad magic".into()))?;
    use bincode::Options;
    let compiled: Compiled = bincode::DefaultOptions::new()
        .with_fixint_encoding()
        .reject_trailing_bytes()
        .with_limit(1 << 30)
        .deserialize(body)
        .map_err(|e| bad(e.to_string()))?;
    compiled.model.validate().map_err(bad)?;
    Ok(compiled)
}
