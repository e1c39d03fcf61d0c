//! Gather: every output value is a copy of one input value (Transpose, Concat, Slice, Split,
//! Squeeze/Unsqueeze, Expand, Tile, Gather with constant indices, Pad in reflect/edge mode).
//!
//! Layout: none. The output tensor reuses the input cells, so no new cell exists and nothing
//! needs a constraint; the index map is part of the compiled model, fixed at compile time.

use super::{LayoutCtx, NodeIo, Operator};
use crate::error::EvalError;
use halo2_proofs::circuit::Cell;
use halo2_proofs::plonk::Error;
use serde::{Deserialize, Serialize};

/// Output value `j` is `inputs[sources[j].0][sources[j].1]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gather {
    /// (input number, flat index) per output value.
    pub sources: Vec<(u32, u32)>,
}

impl Operator for Gather {
    /// Every source names an existing input value and the output has one value per source.
    fn check(&self, inputs: &[&[usize]], out: &[usize]) -> Result<(), String> {
        let lens: Vec<usize> = inputs.iter().map(|s| s.iter().product()).collect();
        let ok = self.sources.len() == out.iter().product::<usize>()
            && self
                .sources
                .iter()
                .all(|&(k, i)| lens.get(k as usize).is_some_and(|&n| (i as usize) < n));
        ok.then_some(())
            .ok_or_else(|| format!("gather does not fit inputs {inputs:?} / output {out:?}"))
    }

    /// The selected values.
    fn reference(&self, _node: &str, inputs: &[&[i128]]) -> Result<Vec<i128>, EvalError> {
        Ok(self
            .sources
            .iter()
            .map(|&(k, i)| inputs[k as usize][i as usize])
            .collect())
    }

    /// The selected cells.
    fn layout(&self, _ctx: &mut LayoutCtx<'_, '_>, io: &NodeIo<'_>) -> Result<Vec<Cell>, Error> {
        let inputs = io.cells;
        Ok(self
            .sources
            .iter()
            .map(|&(k, i)| inputs[k as usize][i as usize])
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selects_and_checks_bounds() {
        let g = Gather {
            sources: vec![(1, 0), (0, 2), (0, 0)],
        };
        assert_eq!(
            g.reference("g", &[&[5, 6, 7], &[9]]).unwrap(),
            vec![9, 7, 5]
        );
        assert!(g.check(&[&[3], &[1]], &[3]).is_ok());
        assert!(g.check(&[&[2], &[1]], &[3]).is_err());
        assert!(g.check(&[&[3], &[1]], &[2]).is_err());
    }
}
