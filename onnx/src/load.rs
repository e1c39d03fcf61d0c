//! Reading an ONNX file: bytes, hash, protobuf, and the lowered float graph.

use crate::error::OnnxError;
use crate::graph::FloatGraph;
use crate::lower::lower;
use sha2::{Digest, Sha256};
use std::path::Path;
use tract_onnx::pb::ModelProto;
use tract_onnx::prelude::Framework;

/// A loaded model.
#[derive(Clone, Debug)]
pub struct LoadedModel {
    /// The ONNX bytes as read.
    pub bytes: Vec<u8>,
    /// SHA-256 of the bytes, hex.
    pub hash: String,
    /// The decoded protobuf.
    pub proto: ModelProto,
    /// The lowered float graph (before fusion).
    pub graph: FloatGraph,
}

/// Reads, decodes and lowers an ONNX file.
pub fn load(path: &Path) -> Result<LoadedModel, OnnxError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| OnnxError::Io {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    load_bytes(bytes, &shown)
}

/// Decodes ONNX bytes into the protobuf model.
pub fn decode(bytes: &[u8]) -> Result<ModelProto, String> {
    tract_onnx::onnx()
        .proto_model_for_read(&mut &bytes[..])
        .map_err(|e| e.to_string())
}

/// Decodes and lowers ONNX bytes; `name` is used in messages.
pub fn load_bytes(bytes: Vec<u8>, name: &str) -> Result<LoadedModel, OnnxError> {
    let proto = tract_onnx::onnx()
        .proto_model_for_read(&mut bytes.as_slice())
        .map_err(|e| OnnxError::Parse {
            path: name.to_string(),
            reason: e.to_string(),
        })?;
    if proto.graph.as_ref().is_none_or(|g| g.node.is_empty()) {
        return Err(OnnxError::Parse {
            path: name.to_string(),
            reason: "it holds no graph".into(),
        });
    }
    let graph = lower(&proto)?;
    let hash = hex::encode(Sha256::digest(&bytes));
    Ok(LoadedModel {
        bytes,
        hash,
        proto,
        graph,
    })
}
