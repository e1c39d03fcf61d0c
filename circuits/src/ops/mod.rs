//! The operator table: every quantized operator zkonnx can prove.
//!
//! Each operator module holds one operator whole: its typed attributes, shape rule, integer
//! reference semantics, constraint layout, soundness note and its honest and malicious
//! tests. It implements [`Operator`]; the [`operators!`] table below is the one place that
//! lists them, and generates the [`Op`] enum the model stores (one arm per operator, each
//! forwarding to its [`Operator`] impl), so adding an operator is one module and one line.
//! The ONNX front end maps op types onto these (see `zkonnx-onnx`'s `lower` module).

pub mod compare;
mod context;
pub mod elementwise;
pub mod embedding;
pub mod gather;
pub mod linear;
pub mod matmul;
pub mod reshape;
pub mod sparse_dot;
pub mod table_fn;

use crate::error::EvalError;
use crate::requant::Requant;
use crate::rows::RowCounter;
use halo2_proofs::circuit::Cell;
use halo2_proofs::plonk::Error;
use serde::{Deserialize, Serialize};

pub use compare::Compare;
pub(crate) use context::{dot_then_requant, requant_then_lookup, synth, LaneTerm, TableRead};
pub use context::{LayoutCtx, NodeIo};
pub use elementwise::Elementwise;
pub use embedding::Embedding;
pub use gather::Gather;
pub use linear::Linear;
pub use matmul::MatMul;
pub use reshape::Reshape;
pub use sparse_dot::SparseDot;
pub use table_fn::{FnKind, TableFn};

/// One quantized operator: what the reference execution, the planner and the circuit need
/// to know of it. Each implementation documents its layout and why it is sound: which
/// constraints fix every cell it outputs, so that no witness other than the reference's
/// satisfies them.
pub trait Operator {
    /// Checks the op against its input shapes and declared output shape, so that executing
    /// or laying it out cannot index out of bounds.
    fn check(&self, inputs: &[&[usize]], out: &[usize]) -> Result<(), String>;

    /// The op's final requantization, if it computes anything (`None` for views and copies).
    fn requant(&self) -> Option<Requant> {
        None
    }

    /// Integer reference semantics: the output values from the input values. `node` names
    /// the node in errors.
    fn reference(&self, node: &str, inputs: &[&[i128]]) -> Result<Vec<i128>, EvalError>;

    /// Counts the op's rows with `lanes`-wide dot products; `input_len` is the length of its
    /// first input. Must take exactly the rows [`Operator::layout`] takes (none, for views
    /// and copies, which reuse their input cells).
    fn count_rows(&self, lanes: usize, input_len: usize, rows: &mut RowCounter) {
        let _ = (lanes, input_len, rows);
    }

    /// Lays the op out over its input cells (with their values when proving). Returns the
    /// output cells.
    fn layout(&self, ctx: &mut LayoutCtx<'_, '_>, io: &NodeIo<'_>) -> Result<Vec<Cell>, Error>;

    /// The lookup table the op reads, with its `(x, f(x))` rows.
    fn table(&self) -> Option<(TableKey, Vec<(i128, i128)>)> {
        None
    }
}

/// The operator table: each line is an operator module's type, with the ONNX ops lowered to
/// it. It generates [`Op`] and its one forwarding function, [`Op::operator`].
macro_rules! operators {
    ($($(#[doc = $doc:literal])* $name:ident,)*) => {
        /// A lowered operator (serialized by its arm's name in `model.zkc`).
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        pub enum Op {
            $($(#[doc = $doc])* $name($name),)*
        }

        impl Op {
            /// The operator behind this arm.
            pub fn operator(&self) -> &dyn Operator {
                match self {
                    $(Op::$name(op) => op,)*
                }
            }
        }
    };
}

operators! {
    /// `y = x·Wᵀ + b` against constant weights (Gemm, MatMul).
    Linear,
    /// `y = Σ mul_k·x_k + c`, then requantize and optionally ReLU (Add, Sub, Relu).
    Elementwise,
    /// A view with another shape (Reshape, Flatten, Identity).
    Reshape,
    /// Per-output dot products over any input values (Conv, pooling, reductions, …).
    SparseDot,
    /// Copies of input values (Transpose, Concat, Slice, …).
    Gather,
    /// A nonlinear function by table lookup (Sigmoid, Tanh, Exp, …).
    TableFn,
    /// A constant table indexed by an activation (Gather with input indices).
    Embedding,
    /// A product of two activation matrices, checked by Freivalds (MatMul, Gemm).
    MatMul,
    /// An exact comparison `one·[Σ mul_k·x_k + c > 0]` (Greater, Less, Equal, …).
    Compare,
}

/// Identifies one block of the function-table chip.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TableKey {
    /// A function table: the function, domain bits, input scale and output scale.
    Fn(FnKind, u32, u32, u32),
    /// An explicit table of values indexed from 0.
    Values(Vec<i64>),
}

#[cfg(test)]
pub(crate) mod test_support;
