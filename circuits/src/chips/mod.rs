//! The chips every operator is laid out with: a wide dot product against fixed
//! weights ([`dot`]), requantization with a proven range and optional ReLU ([`requant_row`]),
//! and the range table its limbs look up into ([`range_table`]).

pub mod dot;
pub mod fn_table;
pub mod freivalds;
pub mod range_table;
pub mod requant_row;

use crate::fixed_point::to_field;
use crate::Fr;
use halo2_proofs::circuit::Value;

/// A witness value that is known when proving and unknown during key generation.
pub fn value(v: Option<i128>) -> Value<Fr> {
    match v {
        Some(v) => Value::known(to_field(v)),
        None => Value::unknown(),
    }
}
