//! Fixed point numbers with power-of-two scales, and their embedding in the field.
//!
//! A real `x` at scale `s` is the integer `round(x·2^s)`; a negative integer `-v` is the
//! field element `p - v`. Values handled here are far below `2^127`, so `i128` is exact.

use crate::Fr;
use ff::PrimeField;

/// `round(x·2^scale)`, or `None` if the result does not fit comfortably in an `i64`.
pub fn quantize(x: f64, scale: u32) -> Option<i128> {
    let v = (x * 2f64.powi(scale as i32)).round();
    if v.is_finite() && v.abs() < 2f64.powi(62) {
        Some(v as i128)
    } else {
        None
    }
}

/// The real number an integer at `scale` stands for.
pub fn dequantize(q: i128, scale: u32) -> f64 {
    q as f64 / 2f64.powi(scale as i32)
}

/// Embeds a signed integer in the field.
pub fn to_field(v: i128) -> Fr {
    let f = Fr::from_u128(v.unsigned_abs());
    if v < 0 {
        -f
    } else {
        f
    }
}

/// Reads a field element back as a signed integer, if it is within `±2^126`.
pub fn from_field(f: &Fr) -> Option<i128> {
    let small = |x: &Fr| -> Option<i128> {
        let repr = x.to_repr();
        let bytes = repr.as_ref();
        if bytes[16..].iter().any(|b| *b != 0) {
            return None;
        }
        let mut lo = [0u8; 16];
        lo.copy_from_slice(&bytes[..16]);
        let v = u128::from_le_bytes(lo);
        (v < (1u128 << 126)).then_some(v as i128)
    };
    small(f).or_else(|| small(&-*f).map(|v| -v))
}

/// Number of bits needed to hold `|v|` (0 for 0).
pub fn bits_for(v: i128) -> u32 {
    128 - v.unsigned_abs().leading_zeros()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn field_roundtrip(v in -(1i128 << 100)..(1i128 << 100)) {
            prop_assert_eq!(from_field(&to_field(v)), Some(v));
        }

        #[test]
        fn quantize_is_within_half_a_step(x in -1000.0f64..1000.0, s in 0u32..20) {
            let q = quantize(x, s).unwrap();
            prop_assert!((dequantize(q, s) - x).abs() <= 0.5 / 2f64.powi(s as i32) + 1e-9);
        }
    }

    #[test]
    fn huge_field_element_is_not_small() {
        assert_eq!(from_field(&Fr::from_u128(1u128 << 127).double()), None);
        assert_eq!(bits_for(0), 0);
        assert_eq!(bits_for(-8), 4);
    }
}
