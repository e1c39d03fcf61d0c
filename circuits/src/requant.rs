//! Requantization: the integer step every arithmetic op ends with.
//!
//! Given a pre-activation `pre` (already at the sum of the operand scales), it divides by
//! `2^shift` rounding half up, checks the quotient against its calibrated domain, and
//! optionally applies ReLU:
//!
//! ```text
//! pre + 2^(shift-1) = y·2^shift + rem,   0 ≤ rem < 2^shift
//! y + 2^bits        = s·2^bits + m,      s ∈ {0,1}, 0 ≤ m < 2^bits
//! out               = relu ? s·y : y
//! ```
//! The second line proves `y ∈ [-2^bits, 2^bits)` and yields its sign `s` (1 iff y ≥ 0).
//! The circuit's row ([`crate::chips::requant_row`]) proves the same quotient with the shift
//! aligned to whole limbs, and a looser bound `±2^(2b)` on `y`; the calibrated domain is this
//! function's check.
//! This is the single function the reference execution and the circuit's witness both use.

use crate::error::EvalError;
use serde::{Deserialize, Serialize};

/// Largest shift or domain width (in bits) a requantization may use.
pub const MAX_BITS: u32 = 40;

/// Parameters of one requantization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requant {
    /// Right shift (with rounding) applied to the pre-activation.
    pub shift: u32,
    /// The result lies in `[-2^bits, 2^bits)`.
    pub bits: u32,
    /// Apply ReLU after the shift.
    pub relu: bool,
}

/// Every witness value of one requantization row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequantWitness {
    /// Quotient after rounding.
    pub y: i128,
    /// Remainder, in `[0, 2^shift)`.
    pub rem: i128,
    /// Sign bit of `y` (true iff `y ≥ 0`). The circuit's row derives the magnitude
    /// `m = y + 2^w − sign·2^w` at its own, limb-aligned width `w` from `y` and this bit.
    pub sign: bool,
    /// The op's output.
    pub out: i128,
}

impl Requant {
    /// The constant added before the shift so that the division rounds half up.
    pub fn half(&self) -> i128 {
        if self.shift == 0 {
            0
        } else {
            1i128 << (self.shift - 1)
        }
    }

    /// Requantizes `pre`, or reports that the result leaves the domain at `node`.
    pub fn apply(&self, pre: i128, node: &str) -> Result<RequantWitness, EvalError> {
        let shifted = pre + self.half();
        let div = 1i128 << self.shift;
        let y = shifted.div_euclid(div);
        let rem = shifted.rem_euclid(div);
        let bound = 1i128 << self.bits;
        if y < -bound || y >= bound {
            return Err(EvalError::OutOfDomain {
                node: node.to_string(),
                value: y,
                bits: self.bits,
            });
        }
        let sign = y >= 0;
        let out = if self.relu && !sign { 0 } else { y };
        Ok(RequantWitness { y, rem, sign, out })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn rounds_half_up_and_decomposes(pre in -(1i128 << 30)..(1i128 << 30), shift in 0u32..12, relu: bool) {
            let rq = Requant { shift, bits: 30, relu };
            let w = rq.apply(pre, "n").unwrap();
            let expect = (pre as f64 / 2f64.powi(shift as i32) + 0.5).floor() as i128;
            prop_assert_eq!(w.y, expect);
            prop_assert_eq!(pre + rq.half(), w.y * (1 << shift) + w.rem);
            prop_assert!(w.rem >= 0 && w.rem < (1 << shift));
            prop_assert_eq!(w.sign, w.y >= 0);
            prop_assert!(w.y >= -(1 << 30) && w.y < (1 << 30));
            prop_assert_eq!(w.out, if relu { w.y.max(0) } else { w.y });
        }
    }

    #[test]
    fn out_of_domain_names_the_node() {
        let rq = Requant {
            shift: 0,
            bits: 4,
            relu: false,
        };
        assert!(rq.apply(15, "a").is_ok());
        assert!(rq.apply(-16, "a").is_ok());
        let err = rq.apply(16, "dense_1").unwrap_err();
        assert!(err.to_string().contains("dense_1"), "{err}");
        assert!(rq.apply(-17, "a").is_err());
    }
}
