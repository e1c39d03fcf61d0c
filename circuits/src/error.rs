//! Errors of the circuits crate: evaluation (an input outside the calibrated domain) and
//! layout (a model that cannot be laid out in any supported `k`).

use thiserror::Error;

/// A value fell outside the domain the model was calibrated for, or inputs were malformed.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum EvalError {
    /// The number of input tensors differs from the model's.
    #[error("expected {expected} input tensor(s), got {got}")]
    InputCount {
        /// Inputs the model takes.
        expected: usize,
        /// Inputs given.
        got: usize,
    },
    /// A graph input the model was compiled for holds other values.
    #[error(
        "input '{name}' was fixed at compile time to {}; recompile for other values",
        shown(expected)
    )]
    FixedInput {
        /// Input name.
        name: String,
        /// The compiled values.
        expected: Vec<f64>,
    },
    /// An input tensor has the wrong number of values.
    #[error("input '{name}' needs {expected} values (shape {shape:?}), got {got}")]
    InputLength {
        /// Input name.
        name: String,
        /// Shape of the input.
        shape: Vec<usize>,
        /// Values the shape holds.
        expected: usize,
        /// Values given.
        got: usize,
    },
    /// An input value is NaN or infinite.
    #[error("input '{name}' value #{index} is not a finite number")]
    NotFinite {
        /// Input name.
        name: String,
        /// Flat index of the value.
        index: usize,
    },
    /// An input value lies outside its input's domain (the statement's `D`).
    #[error("input '{name}' value #{index} ({value}) is outside the input's domain [{lo}, {hi}] (compile --input-range sets it)")]
    InputOutOfDomain {
        /// Input name.
        name: String,
        /// Flat index of the value.
        index: usize,
        /// The value given.
        value: f64,
        /// Smallest allowed value.
        lo: f64,
        /// Largest allowed value.
        hi: f64,
    },
    /// A value at a node left its calibrated domain `[-2^bits, 2^bits)`.
    #[error("value {value} at node '{node}' is outside its calibrated domain [-2^{bits}, 2^{bits}); the input is outside the range the model was compiled for")]
    OutOfDomain {
        /// Node (or input) name.
        node: String,
        /// The quantized value.
        value: i128,
        /// Domain bits.
        bits: u32,
    },
}

/// The circuit could not be built for a model.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CircuitError {
    /// The model needs more rows than the largest supported `k` holds.
    #[error("the model needs {rows} rows, more than k = {max_k} allows")]
    TooLarge {
        /// Rows needed.
        rows: usize,
        /// Largest supported k.
        max_k: u32,
    },
    /// A shift or domain is wider than two lookup limbs can range-check.
    #[error(
        "node '{node}' needs a {bits}-bit range check, wider than the supported {max_bits} bits"
    )]
    RangeTooWide {
        /// Node name.
        node: String,
        /// Bits needed.
        bits: u32,
        /// Bits supported.
        max_bits: u32,
    },
    /// A forced lane width the planner does not support.
    #[error("{lanes} is not a supported lane width (choose one of {choices:?})")]
    BadLanes {
        /// The width asked for.
        lanes: usize,
        /// The supported widths.
        choices: Vec<usize>,
    },
    /// The model is internally inconsistent (a bug in the front end or a corrupt file).
    #[error("invalid model: {0}")]
    InvalidModel(String),
}

/// A list of values for a message: all of a short one, the start of a long one.
fn shown(values: &[f64]) -> String {
    const SHOWN: usize = 8;
    if values.len() <= SHOWN {
        return format!("{values:?}");
    }
    format!("{:?}… ({} values)", &values[..SHOWN], values.len())
}
