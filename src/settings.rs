//! `settings.json`: what `compile` decided and measured, for people. Verification never
//! reads it (the circuit is laid out from `model.zkc` alone), so editing it changes nothing
//! a proof states.

use serde::{Deserialize, Serialize};
use zkonnx_circuits::{InputSpec, LayoutPlan};
use zkonnx_onnx::CalibrationReport;

/// One node's line in the settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSummary {
    /// Node name.
    pub name: String,
    /// ONNX op type.
    pub op_type: String,
    /// Output shape.
    pub shape: Vec<usize>,
    /// log2 output scale.
    pub scale: u32,
    /// Domain bits, if range-checked.
    pub bits: Option<u32>,
    /// Requant shift, if any.
    pub shift: Option<u32>,
    /// Rows in the circuit.
    pub rows: usize,
}

/// `settings.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// zkonnx version that wrote the file.
    pub zkonnx_version: String,
    /// SHA-256 of the compiled model ([`model_hash`]), which `setup` writes into `vk.bin`
    /// and every proof names.
    pub model_hash: String,
    /// SHA-256 of the ONNX file.
    pub onnx_sha256: String,
    /// Input visibility: "public" or "private".
    pub input_visibility: String,
    /// The layout plan (k, lanes, columns, rows, predicted prove time).
    pub layout: LayoutPlan,
    /// Inputs: name, shape, scale, domain.
    pub inputs: Vec<InputSpec>,
    /// Nodes with their row counts.
    pub nodes: Vec<NodeSummary>,
    /// Calibration report (float-vs-quantized error, per-tensor ranges).
    pub calibration: CalibrationReport,
}
