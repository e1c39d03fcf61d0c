//! `y[j] = inputs[k][i]` for the source `(k, i)` of output `j`: every copy of values
//! (Transpose, Concat, Slice, Split, Expand, Tile, Gather by constant indices, …).
//!
//! Quantization: inputs at one scale are copied as they are; inputs at different scales (a
//! Concat) are aligned by a one-term dot product each.

use super::sparse_dot::SparseDot;
use super::FloatOperator;
use crate::error::OnnxError;
use crate::quantize::{QuantCtx, Quantized};
use zkonnx_circuits::ops::{self, Op};

/// Copies of input values.
#[derive(Clone, Debug, PartialEq)]
pub struct Gather {
    /// Source per output value.
    pub sources: Vec<(u32, u32)>,
}

impl FloatOperator for Gather {
    fn eval(&self, ins: &[&[f64]]) -> Vec<f64> {
        self.sources
            .iter()
            .map(|&(k, i)| ins[k as usize][i as usize])
            .collect()
    }

    fn quantize(&self, q: &QuantCtx) -> Result<Quantized, OnnxError> {
        let s_in = q.s_in();
        if q.in_scales.iter().all(|&s| s == s_in) {
            let op = ops::Gather {
                sources: self.sources.clone(),
            };
            return Ok((Op::Gather(op), s_in));
        }
        let aligned = SparseDot {
            terms: self
                .sources
                .iter()
                .map(|&(k, i)| vec![(k, i, 1.0)])
                .collect(),
            b: vec![0.0; self.sources.len()],
        };
        aligned.quantize(q)
    }
}
