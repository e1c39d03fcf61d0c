//! `y = x + c` with a constant `c` per output value (Add or Sub of a constant, a bias).
//!
//! Quantization: `c` at the input's scale, so the sum needs no multiplier; the shift brings
//! it down to the output scale when that is coarser.

use super::FloatOperator;
use crate::error::OnnxError;
use crate::quantize::{QuantCtx, Quantized};
use zkonnx_circuits::ops::{Elementwise, Op};

/// An activation plus a constant.
#[derive(Clone, Debug, PartialEq)]
pub struct AddConst {
    /// Constant per output value.
    pub c: Vec<f64>,
}

impl FloatOperator for AddConst {
    fn eval(&self, ins: &[&[f64]]) -> Vec<f64> {
        let x = ins[0];
        self.c
            .iter()
            .enumerate()
            .map(|(j, c)| x[j % x.len()] + c)
            .collect()
    }

    fn takes_relu(&self) -> bool {
        true
    }

    fn quantize(&self, q: &QuantCtx) -> Result<Quantized, OnnxError> {
        let s_in = q.s_in();
        let s_out = q.want.min(s_in);
        let op = Elementwise {
            mul: vec![1],
            constant: q.q_all(&self.c, s_in)?,
            index: vec![vec![]],
            requant: q.requant(s_in - s_out, s_out)?,
            product: 0,
        };
        Ok((Op::Elementwise(op), s_out))
    }
}
