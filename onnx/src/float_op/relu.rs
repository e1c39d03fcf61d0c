//! `y = max(x, 0)` on its own (a Relu that could not be folded into the op before it).
//!
//! Quantization: a requant row with no shift and the ReLU flag, at the input's scale. The
//! ReLU itself is applied by the graph's run, after the pre-activation range is recorded.

use super::FloatOperator;
use crate::error::OnnxError;
use crate::quantize::{QuantCtx, Quantized};
use zkonnx_circuits::ops::{Elementwise, Op};
use zkonnx_circuits::requant::Requant;

/// A standalone ReLU.
#[derive(Clone, Debug, PartialEq)]
pub struct Relu;

impl FloatOperator for Relu {
    fn eval(&self, ins: &[&[f64]]) -> Vec<f64> {
        ins[0].to_vec()
    }

    fn is_relu(&self) -> bool {
        true
    }

    fn quantize(&self, q: &QuantCtx) -> Result<Quantized, OnnxError> {
        let s_in = q.s_in();
        let requant = Requant {
            relu: true,
            ..q.requant(0, s_in)?
        };
        let op = Elementwise {
            mul: vec![1],
            constant: vec![],
            index: vec![vec![]],
            requant,
            product: 0,
        };
        Ok((Op::Elementwise(op), s_in))
    }
}
