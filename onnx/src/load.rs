//! Reading an ONNX file: bytes, hash, protobuf, and the lowered float graph.

use crate::error::OnnxError;
use crate::graph::FloatGraph;
use crate::lower::{declared_shape, graph_inputs, lower, lower_with, shape_inputs};
use sha2::{Digest, Sha256};
use std::path::Path;
use tract_onnx::pb::ModelProto;
use tract_onnx::prelude::Framework;
use zkonnx_circuits::ir::{without_fixed, FixedInput};

/// A loaded model.
#[derive(Clone, Debug)]
pub struct LoadedModel {
    /// The ONNX bytes as read.
    pub bytes: Vec<u8>,
    /// SHA-256 of the bytes, hex.
    pub hash: String,
    /// The decoded protobuf.
    pub proto: ModelProto,
    /// The lowered float graph (before fusion). Empty while `shape_inputs` are not fixed:
    /// see [`LoadedModel::fix_shape_inputs`].
    pub graph: FloatGraph,
    /// Integer graph inputs read only as shapes (position among the graph inputs, name).
    pub shape_inputs: Vec<(usize, String)>,
    /// The values the shape inputs were fixed to.
    pub fixed: Vec<FixedInput>,
}

impl LoadedModel {
    /// Fixes the shape inputs to their values in `sample` (one value list per graph input)
    /// and lowers the graph; a model without shape inputs is left as it is.
    pub fn fix_shape_inputs(&mut self, sample: &[Vec<f64>]) -> Result<(), OnnxError> {
        if self.shape_inputs.is_empty() || !self.fixed.is_empty() {
            return Ok(());
        }
        let inputs = graph_inputs(&self.proto);
        let mut values = Vec::new();
        for (pos, name) in &self.shape_inputs {
            let data = sample.get(*pos).ok_or_else(|| {
                OnnxError::Invalid(format!(
                    "the sample has no value for the parameter input '{name}'"
                ))
            })?;
            let input = inputs.get(*pos).copied();
            let integer = input.is_some_and(crate::lower::is_integer);
            if data
                .iter()
                .any(|v| !v.is_finite() || (integer && v.fract() != 0.0))
            {
                return Err(OnnxError::Invalid(format!(
                    "the parameter input '{name}' must hold finite {}",
                    if integer { "integers" } else { "numbers" }
                )));
            }
            let declared = input.map(declared_shape).unwrap_or_default();
            let shape = if declared.iter().product::<usize>() == data.len() {
                declared
            } else {
                vec![data.len()]
            };
            values.push((name.clone(), shape.clone(), data.clone()));
            self.fixed.push(FixedInput {
                position: *pos,
                name: name.clone(),
                shape,
                values: data.clone(),
            });
        }
        self.graph = lower_with(&self.proto, &values)?;
        Ok(())
    }

    /// Drops the fixed shape inputs from a sample (one value list per graph input).
    pub fn circuit_sample(&self, sample: &[Vec<f64>]) -> Vec<Vec<f64>> {
        without_fixed(&self.fixed, sample)
            .into_iter()
            .cloned()
            .collect()
    }
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
    let shape_inputs = shape_inputs(&proto);
    let graph = if shape_inputs.is_empty() {
        lower(&proto)?
    } else {
        FloatGraph::default()
    };
    let hash = hex::encode(Sha256::digest(&bytes));
    Ok(LoadedModel {
        bytes,
        hash,
        proto,
        graph,
        shape_inputs,
        fixed: vec![],
    })
}
