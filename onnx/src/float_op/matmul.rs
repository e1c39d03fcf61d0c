//! `C = A·B` of two activations (`m×k` by `k×n`), read from the inputs by index maps
//! (attention's `Q·Kᵀ` and `P·V`).
//!
//! Quantization: the products land at `s_a + s_b`; one shift to the output scale.

use super::FloatOperator;
use crate::error::OnnxError;
use crate::quantize::{QuantCtx, Quantized};
use zkonnx_circuits::ops::{self, Op};

/// A product of two activation matrices.
#[derive(Clone, Debug, PartialEq)]
pub struct MatMul {
    /// Rows of `A`, columns of `A`, columns of `B`.
    pub dims: [usize; 3],
    /// Flat index into input 0 of each `A[i][t]`, row-major.
    pub a_index: Vec<u32>,
    /// Flat index into input 1 of each `B[t][j]`, row-major.
    pub b_index: Vec<u32>,
}

impl FloatOperator for MatMul {
    fn eval(&self, ins: &[&[f64]]) -> Vec<f64> {
        let [m, k, n] = self.dims;
        let a = |i: usize, t: usize| ins[0][self.a_index[i * k + t] as usize];
        let b = |t: usize, j: usize| ins[1][self.b_index[t * n + j] as usize];
        (0..m * n)
            .map(|o| (0..k).map(|t| a(o / n, t) * b(t, o % n)).sum())
            .collect()
    }

    fn takes_relu(&self) -> bool {
        true
    }

    fn quantize(&self, q: &QuantCtx) -> Result<Quantized, OnnxError> {
        let (s_pre, s_out) = q.product_scales();
        let [m, k, n] = self.dims;
        let op = ops::MatMul {
            m,
            k,
            n,
            a_index: self.a_index.clone(),
            b_index: self.b_index.clone(),
            requant: q.requant(s_pre - s_out, s_out)?,
        };
        Ok((Op::MatMul(op), s_out))
    }
}
