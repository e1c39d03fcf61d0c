//! `y = f(x)` elementwise for a nonlinear `f` (Sigmoid, Tanh, Exp, …), by table lookup in
//! the circuit.
//!
//! Quantization: the input is requantized to a table scale whose domain
//! `[-2^table_bits, 2^table_bits)` holds the calibrated inputs with the margin; the table
//! maps each of those integers to `f` at the output scale.

use super::FloatOperator;
use crate::error::OnnxError;
use crate::quantize::{scale_for, QuantCtx, Quantized, MAX_SCALE};
use zkonnx_circuits::ops::{self, FnKind, Op};
use zkonnx_circuits::requant::{Requant, MAX_BITS};

/// A table function.
#[derive(Clone, Debug, PartialEq)]
pub struct TableFn {
    /// The function.
    pub kind: FnKind,
}

impl FloatOperator for TableFn {
    fn eval(&self, ins: &[&[f64]]) -> Vec<f64> {
        ins[0].iter().map(|&x| self.kind.eval_checked(x)).collect()
    }

    fn quantize(&self, q: &QuantCtx) -> Result<Quantized, OnnxError> {
        let (s_in, bits) = (q.s_in(), q.opts.table_bits);
        // `1/√x` sees only positive inputs (variances), so the table's negative half is idle:
        // its inputs get the margin bit as resolution instead (headroom up to the next power
        // of two above the calibrated maximum), which small variances need.
        let margin = match self.kind {
            FnKind::Rsqrt => 0,
            _ => q.opts.margin_bits,
        };
        let mut s_t = scale_for(q.in_max(), bits.saturating_sub(margin)).min(MAX_SCALE);
        if s_t > 0 && q.in_max() * 2f64.powi(s_t as i32) >= 2f64.powi(bits as i32) {
            s_t -= 1; // a maximum that is a power of two would land on the domain's end
        }
        let (mul, shift) = if s_t >= s_in {
            (1i64 << (s_t - s_in), 0)
        } else {
            (1, s_in - s_t)
        };
        if shift > MAX_BITS {
            return Err(q.err(format!("needs a {shift}-bit shift, more than {MAX_BITS}")));
        }
        let requant = Requant {
            shift,
            bits,
            relu: false,
        };
        let op = ops::TableFn {
            kind: self.kind,
            mul,
            requant,
            in_scale: s_t,
            out_scale: q.want,
        };
        Ok((Op::TableFn(op), q.want))
    }
}
