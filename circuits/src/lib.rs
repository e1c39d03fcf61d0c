//! zkonnx-circuits: the quantized model (IR), its integer reference execution, and the halo2
//! circuit that constrains that execution.
//!
//! One IR, two interpreters: [`execute`] runs a [`Model`] on integers and produces the
//! [`Trace`] every witness cell is taken from; [`ModelCircuit`] lays the same model out as
//! halo2 constraints. Both call the same integer functions ([`requant::Requant::apply`],
//! [`ops::linear::Linear::dot`]), so they agree by construction.
//!
//! This crate has no file I/O and no ONNX dependency: the verifier depends on it to
//! re-run `configure` when it reads a verifying key.

pub mod chips;
pub mod circuit;
pub mod error;
pub mod execute;
pub mod fixed_point;
pub mod input_domain;
pub mod ir;
pub mod ops;
pub mod planner;
pub mod requant;
pub mod rows;

pub use circuit::{CircuitParams, ModelCircuit};
pub use error::{CircuitError, EvalError};
pub use execute::{execute, Trace};
pub use ir::{Domain, FixedInput, InputSpec, Model, Node, TensorId};
pub use planner::{CostModel, LayoutPlan};

/// The BN254 scalar field every circuit value lives in.
pub use halo2_proofs::halo2curves::bn256::Fr;
