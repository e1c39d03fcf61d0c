//! Reshape, Flatten and Identity: a new shape over the same values.
//!
//! Layout: none. The output tensor is the input's cells, so no new cell exists and nothing
//! needs a constraint.

use super::{LayoutCtx, NodeIo, Operator};
use crate::error::EvalError;
use halo2_proofs::circuit::Cell;
use halo2_proofs::plonk::Error;
use serde::{Deserialize, Serialize};

/// A view of the input with another shape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reshape {}

impl Operator for Reshape {
    /// The input and output hold the same number of values.
    fn check(&self, inputs: &[&[usize]], out: &[usize]) -> Result<(), String> {
        match inputs {
            [x] if x.iter().product::<usize>() == out.iter().product::<usize>() => Ok(()),
            _ => Err(format!("cannot reshape {inputs:?} to {out:?}")),
        }
    }

    /// The values, unchanged.
    fn reference(&self, _node: &str, inputs: &[&[i128]]) -> Result<Vec<i128>, EvalError> {
        Ok(inputs[0].to_vec())
    }

    /// The input's cells.
    fn layout(&self, _ctx: &mut LayoutCtx<'_, '_>, io: &NodeIo<'_>) -> Result<Vec<Cell>, Error> {
        let inputs = io.cells;
        Ok(inputs[0].to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_values_and_checks_sizes() {
        let r = Reshape {};
        assert_eq!(
            r.reference("r", &[&[1, 2, 3, 4]]).unwrap(),
            vec![1, 2, 3, 4]
        );
        assert!(r.check(&[&[1, 4]], &[2, 2]).is_ok());
        assert!(r.check(&[&[1, 4]], &[3]).is_err());
    }
}
