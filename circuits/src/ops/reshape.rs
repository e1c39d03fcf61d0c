//! Reshape, Flatten and Identity: a new shape over the same values.
//!
//! Layout: none. The output tensor is the input's cells, so no new cell exists and nothing
//! needs a constraint.

use serde::{Deserialize, Serialize};

/// A view of the input with another shape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reshape {}

impl Reshape {
    /// The input and output hold the same number of values.
    pub fn check(&self, inputs: &[&[usize]], out: &[usize]) -> Result<(), String> {
        match inputs {
            [x] if x.iter().product::<usize>() == out.iter().product::<usize>() => Ok(()),
            _ => Err(format!("cannot reshape {inputs:?} to {out:?}")),
        }
    }

    /// The values, unchanged.
    pub fn reference(&self, inputs: &[&[i128]]) -> Vec<i128> {
        inputs[0].to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_values_and_checks_sizes() {
        let r = Reshape {};
        assert_eq!(r.reference(&[&[1, 2, 3, 4]]), vec![1, 2, 3, 4]);
        assert!(r.check(&[&[1, 4]], &[2, 2]).is_ok());
        assert!(r.check(&[&[1, 4]], &[3]).is_err());
    }
}
