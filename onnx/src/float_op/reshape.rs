//! The same values under another shape (Reshape, Flatten, Identity, and every node folded
//! into the op before it).
//!
//! Quantization: none; the output keeps the input's scale.

use super::FloatOperator;
use crate::error::OnnxError;
use crate::quantize::{QuantCtx, Quantized};
use zkonnx_circuits::ops::{self, Op};

/// A view with another shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Reshape;

impl FloatOperator for Reshape {
    fn eval(&self, ins: &[&[f64]]) -> Vec<f64> {
        ins[0].to_vec()
    }

    fn is_view(&self) -> bool {
        true
    }

    fn quantize(&self, q: &QuantCtx) -> Result<Quantized, OnnxError> {
        Ok((Op::Reshape(ops::Reshape {}), q.s_in()))
    }
}
