//! `y = a·b + c` of two activations with numpy broadcasting (Mul, Div's reciprocal product,
//! squares, normalization products).
//!
//! Quantization: the product lands at `s_a + s_b`; the constant at that scale; one shift to
//! the output scale.

use super::FloatOperator;
use crate::error::OnnxError;
use crate::quantize::{QuantCtx, Quantized};
use zkonnx_circuits::ops::{Elementwise, Op};

/// A product of two activations plus a constant.
#[derive(Clone, Debug, PartialEq)]
pub struct Mul {
    /// Per input, the source index of each output value.
    pub index: [Vec<u32>; 2],
    /// Constant per output value (empty: zero).
    pub bias: Vec<f64>,
}

impl FloatOperator for Mul {
    fn eval(&self, ins: &[&[f64]]) -> Vec<f64> {
        self.index[0]
            .iter()
            .zip(&self.index[1])
            .enumerate()
            .map(|(j, (&a, &b))| {
                let c = self.bias.get(j).copied().unwrap_or(0.0);
                ins[0][a as usize] * ins[1][b as usize] + c
            })
            .collect()
    }

    fn takes_relu(&self) -> bool {
        true
    }

    fn quantize(&self, q: &QuantCtx) -> Result<Quantized, OnnxError> {
        let (s_pre, s_out) = q.product_scales();
        let op = Elementwise {
            mul: vec![0, 0],
            constant: q.q_all(&self.bias, s_pre)?,
            index: self.index.to_vec(),
            requant: q.requant(s_pre - s_out, s_out)?,
            product: 1,
        };
        Ok((Op::Elementwise(op), s_out))
    }
}
