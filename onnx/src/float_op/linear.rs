//! `y = x·Wᵀ + b` against constant weights (Gemm, MatMul by a constant), row by row of `x`.
//!
//! Quantization: weights at `weight_bits` significant bits, the bias at the product's scale
//! `s_in + s_w`, one shift down to the output scale.

use super::FloatOperator;
use crate::error::OnnxError;
use crate::quantize::{scale_for, QuantCtx, Quantized};
use zkonnx_circuits::ops::{self, Op};

/// A linear layer over the last axis.
#[derive(Clone, Debug, PartialEq)]
pub struct Linear {
    /// Input features.
    pub in_dim: usize,
    /// Output features.
    pub out_dim: usize,
    /// Weights, row-major `out × in`.
    pub w: Vec<f64>,
    /// Bias, `out` values.
    pub b: Vec<f64>,
}

impl FloatOperator for Linear {
    fn eval(&self, ins: &[&[f64]]) -> Vec<f64> {
        let (n, m) = (self.in_dim, self.out_dim);
        ins[0]
            .chunks(n)
            .flat_map(|x| {
                (0..m).map(move |o| {
                    let w = &self.w[o * n..(o + 1) * n];
                    self.b[o] + x.iter().zip(w).map(|(a, w)| a * w).sum::<f64>()
                })
            })
            .collect()
    }

    fn takes_relu(&self) -> bool {
        true
    }

    fn quantize(&self, q: &QuantCtx) -> Result<Quantized, OnnxError> {
        let s_in = q.s_in();
        let max_w = self.w.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        let (s_w, s_out) = q.weight_scale(s_in, scale_for(max_w, q.opts.weight_bits));
        let op = ops::Linear {
            in_dim: self.in_dim,
            out_dim: self.out_dim,
            weights: q.q_all(&self.w, s_w)?,
            bias: q.q_all(&self.b, s_in + s_w)?,
            requant: q.requant(s_in + s_w - s_out, s_out)?,
        };
        Ok((Op::Linear(op), s_out))
    }
}
