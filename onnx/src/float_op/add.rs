//! `y = a + sign·b` of two activations with numpy broadcasting (Add, Sub).
//!
//! Quantization: the coarser input is multiplied up to the finer one's scale, so the sum is
//! exact; one shift brings it to the output scale.

use super::FloatOperator;
use crate::error::OnnxError;
use crate::quantize::{QuantCtx, Quantized};
use zkonnx_circuits::ops::{Elementwise, Op};

/// A sum or difference of two activations.
#[derive(Clone, Debug, PartialEq)]
pub struct Add {
    /// +1 for Add, -1 for Sub.
    pub sign: i64,
    /// Per input, the source index of each output value.
    pub index: [Vec<u32>; 2],
}

impl FloatOperator for Add {
    fn eval(&self, ins: &[&[f64]]) -> Vec<f64> {
        let sign = self.sign as f64;
        self.index[0]
            .iter()
            .zip(&self.index[1])
            .map(|(&a, &b)| ins[0][a as usize] + sign * ins[1][b as usize])
            .collect()
    }

    fn takes_relu(&self) -> bool {
        true
    }

    fn quantize(&self, q: &QuantCtx) -> Result<Quantized, OnnxError> {
        let (sa, sb) = (q.in_scales[0], q.in_scales[1]);
        let smax = sa.max(sb);
        let s_out = q.want.min(smax);
        let op = Elementwise {
            mul: vec![1i64 << (smax - sa), self.sign << (smax - sb)],
            constant: vec![],
            index: self.index.to_vec(),
            requant: q.requant(smax - s_out, s_out)?,
            product: 0,
        };
        Ok((Op::Elementwise(op), s_out))
    }
}
