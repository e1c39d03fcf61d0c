//! Errors of the ONNX front end. Every error about a node names its op type and node name.

use thiserror::Error;

/// What can go wrong loading, lowering or calibrating a model.
#[derive(Debug, Error)]
pub enum OnnxError {
    /// The file could not be read.
    #[error("cannot read ONNX file {path}: {reason}")]
    Io {
        /// File path.
        path: String,
        /// OS error.
        reason: String,
    },
    /// The bytes are not an ONNX model.
    #[error("{path} is not a valid ONNX model: {reason}")]
    Parse {
        /// File path.
        path: String,
        /// Decoder error.
        reason: String,
    },
    /// A tensor file (`.pb`) cannot be read, or holds a type zkonnx does not read.
    #[error("{path}: {reason}")]
    Tensor {
        /// File path.
        path: String,
        /// What is wrong, naming the tensor type when it is the cause.
        reason: String,
    },
    /// A tensor's element type is one zkonnx does not read (strings, complex numbers,
    /// bfloat16, float8, 4-bit and 2-bit storage types).
    #[error("{what}: tensor type {type_name} is not supported (zkonnx reads numeric and boolean tensors)")]
    ElementType {
        /// The tensor: a file, an input or a constant.
        what: String,
        /// The ONNX name of its element type.
        type_name: &'static str,
    },
    /// The model uses an op that is not a fixed function of fixed-shape numeric tensors.
    #[error("operator '{op_type}' at node '{node}' is out of scope: {}", nature.describe())]
    OutOfScope {
        /// ONNX op type.
        op_type: String,
        /// Node name.
        node: String,
        /// Why.
        nature: crate::scope::Nature,
    },
    /// The model uses an operator zkonnx cannot prove.
    #[error("unsupported operator '{op_type}' at node '{node}' (supported: {supported})")]
    Unsupported {
        /// ONNX op type.
        op_type: String,
        /// Node name.
        node: String,
        /// Supported op types.
        supported: String,
    },
    /// A node is supported but used in a way zkonnx does not handle.
    #[error("node '{node}' ({op_type}): {reason}")]
    Node {
        /// ONNX op type.
        op_type: String,
        /// Node name.
        node: String,
        /// What is wrong.
        reason: String,
    },
    /// Calibration finds a value at a node that the circuit cannot hold: a float result that
    /// is NaN or infinite, or a range or shift wider than the field arithmetic allows.
    #[error("node '{node}' ({op_type}): {reason}")]
    Range {
        /// ONNX op type.
        op_type: String,
        /// Node name.
        node: String,
        /// What is out of range.
        reason: String,
    },
    /// The model's structure is unusable (no inputs, dynamic shapes, …).
    #[error("invalid model: {0}")]
    Invalid(String),
    /// tract failed to run the float reference.
    #[error("tract could not run the model: {0}")]
    Tract(String),
    /// A sample input is unusable or drives a value out of range.
    #[error(transparent)]
    Eval(#[from] zkonnx_circuits::EvalError),
    /// The quantized model cannot be laid out.
    #[error(transparent)]
    Circuit(#[from] zkonnx_circuits::CircuitError),
}
