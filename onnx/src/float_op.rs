//! The float operators ONNX is lowered to, before quantization: one module each, holding
//! the op's float semantics (what calibration measures ranges with, checked against tract)
//! beside its quantization (how it becomes a circuit operator at calibrated scales).
//!
//! [`FloatOperator`] is what each implements; the [`float_ops!`] table is the one place
//! that lists them, and generates [`FloatOp`] and its one forwarding function.

mod add;
mod add_const;
mod compare;
mod embed;
mod gather;
mod linear;
mod matmul;
mod mul;
mod relu;
mod reshape;
mod sparse_dot;
mod table_fn;

use crate::error::OnnxError;
use crate::quantize::{QuantCtx, Quantized};

pub use add::Add;
pub use add_const::AddConst;
pub use compare::Compare;
pub use embed::Embed;
pub use gather::Gather;
pub use linear::Linear;
pub use matmul::MatMul;
pub use mul::Mul;
pub use relu::Relu;
pub use reshape::Reshape;
pub use sparse_dot::SparseDot;
pub use table_fn::TableFn;

/// One float operator.
pub trait FloatOperator {
    /// The output values from the input values, before a fused ReLU (the graph's run
    /// applies it, after recording the pre-activation range).
    fn eval(&self, ins: &[&[f64]]) -> Vec<f64>;

    /// The circuit operator at calibrated scales, and its output scale.
    fn quantize(&self, q: &QuantCtx) -> Result<Quantized, OnnxError>;

    /// Whether a ReLU after it folds into its final requantization.
    fn takes_relu(&self) -> bool {
        false
    }

    /// Whether it is a ReLU (applied to its value by the graph's run).
    fn is_relu(&self) -> bool {
        false
    }

    /// Whether it is a view of its input (a ReLU looks through it to fold).
    fn is_view(&self) -> bool {
        false
    }
}

/// The float operator table: it generates [`FloatOp`] and [`FloatOp::operator`].
macro_rules! float_ops {
    ($($(#[doc = $doc:literal])* $name:ident,)*) => {
        /// A lowered float operator.
        #[derive(Clone, Debug, PartialEq)]
        pub enum FloatOp {
            $($(#[doc = $doc])* $name($name),)*
        }

        impl FloatOp {
            /// The operator behind this arm.
            pub fn operator(&self) -> &dyn FloatOperator {
                match self {
                    $(FloatOp::$name(op) => op,)*
                }
            }
        }
    };
}

float_ops! {
    /// `y = x·Wᵀ + b` against constant weights.
    Linear,
    /// `y = x + c`, `c` expanded to the output.
    AddConst,
    /// `y = x_a + sign·x_b` with broadcast index maps.
    Add,
    /// `y = x_a · x_b + c` with broadcast index maps.
    Mul,
    /// `C = A·B` of two activations, by index maps into the inputs.
    MatMul,
    /// `y = max(x, 0)`.
    Relu,
    /// Same values, another shape.
    Reshape,
    /// `y[j] = b[j] + Σ w·inputs[k][i]` over the terms of output `j`.
    SparseDot,
    /// `y = f(x)` elementwise, by table lookup in the circuit.
    TableFn,
    /// `y[i, j] = table[idx_i, j]`: a constant table indexed by an activation.
    Embed,
    /// `y[j] = inputs[k][i]` for the source `(k, i)` of output `j`.
    Gather,
    /// `y = [Σ sign_k·x_k + bias > 0]` (or `≥ 0`), exact on the quantized values.
    Compare,
}
