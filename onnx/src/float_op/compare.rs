//! `y = [Σ sign_k·x_k + bias > 0]` (or `≥ 0`) of one or two activations with numpy
//! broadcasting: Greater, Less, GreaterOrEqual, LessOrEqual, and And/Or of booleans.
//!
//! Quantization: the inputs are aligned to the finer scale `s` by exact multipliers, so the
//! difference `d` is an integer with nothing rounded; the constant `bias·2^s` is rounded in
//! the direction that keeps the comparison exact on the quantized inputs (`z + u > 0` is
//! `z + ⌈u⌉ > 0` for an integer `z`; `z + u ≥ 0` is `z + ⌊u⌋ + 1 > 0`). The result is a
//! boolean at scale 0 (1 for true), proven by the circuit's [`Compare`].

use super::FloatOperator;
use crate::error::OnnxError;
use crate::quantize::{QuantCtx, Quantized};
use zkonnx_circuits::fixed_point::bits_for;
use zkonnx_circuits::ops::{Compare as CircuitCompare, Op};

/// A comparison against zero of a signed sum of activations and a constant.
#[derive(Clone, Debug, PartialEq)]
pub struct Compare {
    /// +1 or −1 per input (one or two inputs).
    pub sign: Vec<i64>,
    /// Per input, the source index of each output value.
    pub index: Vec<Vec<u32>>,
    /// Constant per output value (a constant operand, with its sign).
    pub bias: Vec<f64>,
    /// `≥ 0` instead of `> 0`.
    pub or_equal: bool,
}

impl Compare {
    fn difference(&self, ins: &[&[f64]], j: usize) -> f64 {
        let sum: f64 = (self.sign.iter().zip(&self.index).enumerate())
            .map(|(k, (&s, idx))| s as f64 * ins[k][idx[j] as usize])
            .sum();
        sum + self.bias[j]
    }
}

/// The integer `c` with `[z + c > 0]` equal to `[z + u > 0]` (or to `[z + u ≥ 0]`) for
/// every integer `z`.
fn integer_bias(u: f64, or_equal: bool) -> f64 {
    if or_equal {
        u.floor() + 1.0
    } else {
        u.ceil()
    }
}

impl FloatOperator for Compare {
    fn eval(&self, ins: &[&[f64]]) -> Vec<f64> {
        (0..self.bias.len())
            .map(|j| {
                let d = self.difference(ins, j);
                f64::from(u8::from(d > 0.0 || (self.or_equal && d == 0.0)))
            })
            .collect()
    }

    fn quantize(&self, q: &QuantCtx) -> Result<Quantized, OnnxError> {
        let s = q.in_scales.iter().copied().max().unwrap_or(0);
        let step = 2f64.powi(s as i32);
        let constant = (self.bias.iter())
            .map(|&b| q.q(integer_bias(b * step, self.or_equal), 0))
            .collect::<Result<Vec<_>, _>>()?;
        let reach: f64 =
            q.in_maxes.iter().sum::<f64>() + self.bias.iter().fold(0.0f64, |m, b| m.max(b.abs()));
        let diff_bits = bits_for((reach * step).ceil() as i128 + 1) + q.opts.margin_bits;
        q.fits(0, diff_bits)?;
        let op = CircuitCompare {
            mul: (self.sign.iter().zip(q.in_scales))
                .map(|(&sg, &si)| sg << (s - si))
                .collect(),
            constant,
            index: self.index.clone(),
            diff_bits,
            one: 1,
        };
        Ok((Op::Compare(op), 0))
    }
}

#[cfg(test)]
mod tests {
    use super::integer_bias;

    #[test]
    fn the_integer_bias_keeps_every_comparison_of_integers() {
        for u in [-2.5, -1.0, -0.25, 0.0, 0.4, 1.0, 3.75] {
            for z in -6i32..6 {
                let z = f64::from(z);
                assert_eq!(
                    z + u > 0.0,
                    z + integer_bias(u, false) > 0.0,
                    "{z} + {u} > 0"
                );
                assert_eq!(
                    z + u >= 0.0,
                    z + integer_bias(u, true) > 0.0,
                    "{z} + {u} ≥ 0"
                );
            }
        }
    }
}
