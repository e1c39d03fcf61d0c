//! `y[j] = b[j] + Σ w·inputs[k][i]` over the terms `(k, i, w)` of output `j`: every dot
//! product whose terms are not a dense matrix (Conv, pooling, reductions, normalizations,
//! a Concat of inputs at different scales).
//!
//! Quantization: integer weights (sums, differences, copies) stay exact at scale 0; others
//! get `weight_bits`. A term on input `k` carries its weight at `s_w + (smax - s_k)`, so every
//! product lands at `smax + s_w`; one shift to the output scale.

use super::FloatOperator;
use crate::error::OnnxError;
use crate::quantize::{scale_for, QuantCtx, Quantized};
use zkonnx_circuits::fixed_point::{dequantize, quantize};
use zkonnx_circuits::ops::{self, Op};

/// Per-output dot products over any input values.
#[derive(Clone, Debug, PartialEq)]
pub struct SparseDot {
    /// Terms per output value.
    pub terms: Vec<Vec<(u32, u32, f64)>>,
    /// Bias per output value.
    pub b: Vec<f64>,
}

impl SparseDot {
    /// Whether every weight is an integer and every bias exact at scale `s`: then the dot
    /// product is exact at the inputs' scale and needs no shift.
    fn integral(&self, s: u32) -> bool {
        self.terms.iter().flatten().all(|t| t.2.fract() == 0.0)
            && self
                .b
                .iter()
                .all(|&x| quantize(x, s).is_some_and(|q| dequantize(q, s) == x))
    }

    /// The weight scale before it is capped by the shift.
    fn weight_bits(&self, q: &QuantCtx, smax: u32) -> u32 {
        let max_w = self
            .terms
            .iter()
            .flatten()
            .fold(0.0f64, |m, t| m.max(t.2.abs()));
        if self.integral(smax) && max_w < (1u64 << q.opts.weight_bits) as f64 {
            0
        } else {
            scale_for(max_w, q.opts.weight_bits)
        }
    }
}

impl FloatOperator for SparseDot {
    fn eval(&self, ins: &[&[f64]]) -> Vec<f64> {
        self.terms
            .iter()
            .zip(&self.b)
            .map(|(t, b)| {
                let sum: f64 = t
                    .iter()
                    .map(|&(k, i, w)| w * ins[k as usize][i as usize])
                    .sum();
                b + sum
            })
            .collect()
    }

    fn takes_relu(&self) -> bool {
        true
    }

    fn quantize(&self, q: &QuantCtx) -> Result<Quantized, OnnxError> {
        let smax = q.in_scales.iter().copied().max().unwrap_or(0);
        let (s_w, s_out) = q.weight_scale(smax, self.weight_bits(q, smax));
        let term = |&(k, i, w): &(u32, u32, f64)| {
            q.q(w, s_w + smax - q.in_scales[k as usize])
                .map(|v| (k, i, v))
        };
        let terms = self
            .terms
            .iter()
            .map(|t| t.iter().map(term).collect::<Result<Vec<_>, _>>())
            .collect::<Result<Vec<_>, _>>()?;
        let op = ops::SparseDot {
            terms,
            bias: q.q_all(&self.b, smax + s_w)?,
            requant: q.requant(smax + s_w - s_out, s_out)?,
        };
        Ok((Op::SparseDot(op), s_out))
    }
}
