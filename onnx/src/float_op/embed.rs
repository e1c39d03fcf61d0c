//! `y[i, j] = table[idx_i, j]`: a constant table indexed by an activation (Gather with
//! activation indices, token embeddings).
//!
//! Quantization: the table at the output scale; the index is brought to scale 0 by a shift
//! of its own scale, range-checked to the table's rows.

use super::FloatOperator;
use crate::error::OnnxError;
use crate::quantize::{QuantCtx, Quantized};
use zkonnx_circuits::fixed_point::bits_for;
use zkonnx_circuits::ops::{Embedding, Op};
use zkonnx_circuits::requant::Requant;

/// A constant table read at activation indices.
#[derive(Clone, Debug, PartialEq)]
pub struct Embed {
    /// The table, row-major `V × dim`.
    pub table: Vec<f64>,
    /// Values per table row.
    pub dim: usize,
}

impl Embed {
    /// Row `i` of the table, when `i` is a row index.
    fn row(&self, i: f64) -> Option<usize> {
        let fits = i >= 0.0 && i.fract() == 0.0 && (i as usize) * self.dim < self.table.len();
        fits.then_some(i as usize)
    }
}

impl FloatOperator for Embed {
    /// An index that is not a row of the table gives NaN, which calibration refuses.
    fn eval(&self, ins: &[&[f64]]) -> Vec<f64> {
        let dim = self.dim;
        ins[0]
            .iter()
            .flat_map(|&i| {
                let row = self.row(i);
                (0..dim).map(move |j| row.map_or(f64::NAN, |r| self.table[r * dim + j]))
            })
            .collect()
    }

    fn quantize(&self, q: &QuantCtx) -> Result<Quantized, OnnxError> {
        let s_in = q.s_in();
        let table = q.q_all(&self.table, q.want)?;
        let bits = bits_for(table.len() as i128).max(1);
        q.fits(s_in, bits)?;
        let requant = Requant {
            shift: s_in,
            bits,
            relu: false,
        };
        let op = Embedding {
            dim: self.dim,
            table,
            requant,
        };
        Ok((Op::Embedding(op), q.want))
    }
}
