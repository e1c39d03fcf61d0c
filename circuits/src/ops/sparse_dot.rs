//! A dot product per output over any input values, against constant weights:
//! `y[j] = requant(bias[j] + Σ_t w_t · inputs[k_t][i_t])`. Conv, AveragePool,
//! GlobalAveragePool, ReduceSum/Mean, BatchNormalization, Pad (constant), Mul/Div by a
//! constant, Neg, Sum and the linear half of PRelu/LeakyRelu lower to it.
//!
//! Layout: per output, `⌈terms/W⌉` rows of the dot chip (at least one, which holds the bias
//! when there are no terms), lanes copy-constrained to the named input cells, then a requant
//! row copy-constrained to the final accumulator: the same chips, and the same soundness
//! argument, as [`super::linear`].

use super::{dot_then_requant, LaneTerm, LayoutCtx, NodeIo, Operator};
use crate::error::EvalError;
use crate::requant::Requant;
use crate::rows::RowCounter;
use halo2_proofs::circuit::Cell;
use halo2_proofs::plonk::Error;
use serde::{Deserialize, Serialize};

/// One term: input number, flat index, weight.
pub type Term = (u32, u32, i64);

/// Per-output dot products with constant weights.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SparseDot {
    /// Terms of each output value.
    pub terms: Vec<Vec<Term>>,
    /// Bias of each output value, at the product scale.
    pub bias: Vec<i64>,
    /// Final requantization.
    pub requant: Requant,
}

impl SparseDot {
    fn pre(&self, j: usize, inputs: &[&[i128]]) -> i128 {
        let sum: i128 = self.terms[j]
            .iter()
            .map(|&(k, i, w)| inputs[k as usize][i as usize] * w as i128)
            .sum();
        self.bias[j] as i128 + sum
    }
}

impl Operator for SparseDot {
    fn requant(&self) -> Option<Requant> {
        Some(self.requant)
    }

    /// Terms name existing input values; one bias and one term list per output value.
    fn check(&self, inputs: &[&[usize]], out: &[usize]) -> Result<(), String> {
        let lens: Vec<usize> = inputs.iter().map(|s| s.iter().product()).collect();
        let n: usize = out.iter().product();
        let ok = self.terms.len() == n
            && self.bias.len() == n
            && self
                .terms
                .iter()
                .flatten()
                .all(|&(k, i, _)| lens.get(k as usize).is_some_and(|&len| (i as usize) < len));
        ok.then_some(())
            .ok_or_else(|| format!("dot product does not fit inputs {inputs:?} / output {out:?}"))
    }

    /// Integer reference semantics.
    fn reference(&self, node: &str, inputs: &[&[i128]]) -> Result<Vec<i128>, EvalError> {
        (0..self.terms.len())
            .map(|j| Ok(self.requant.apply(self.pre(j, inputs), node)?.out))
            .collect()
    }

    /// Counts rows: per output, its dot rows and a requant row.
    fn count_rows(&self, lanes: usize, _input_len: usize, rows: &mut RowCounter) {
        for t in &self.terms {
            rows.dot_then_requant(t.len(), lanes, &self.requant);
        }
    }

    /// Lays out every output; returns the output cells.
    fn layout(&self, ctx: &mut LayoutCtx<'_, '_>, io: &NodeIo<'_>) -> Result<Vec<Cell>, Error> {
        let (node, inputs, values) = io.parts();
        let mut out = Vec::with_capacity(self.terms.len());
        for (j, terms) in self.terms.iter().enumerate() {
            let lanes: Vec<LaneTerm> = terms
                .iter()
                .map(|&(k, i, w)| {
                    (
                        inputs[k as usize][i as usize],
                        values.map(|v| v[k as usize][i as usize]),
                        w,
                    )
                })
                .collect();
            out.push(dot_then_requant(
                ctx,
                node,
                self.requant,
                self.bias[j] as i128,
                &lanes,
                values.is_some(),
            )?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_sums_terms_across_inputs() {
        let d = SparseDot {
            terms: vec![vec![(0, 1, 2), (1, 0, -1)], vec![]],
            bias: vec![3, 7],
            requant: Requant {
                shift: 0,
                bits: 8,
                relu: false,
            },
        };
        assert_eq!(
            d.reference("n", &[&[0, 5], &[4]]).unwrap(),
            vec![2 * 5 - 4 + 3, 7]
        );
        assert!(d.check(&[&[2], &[1]], &[2]).is_ok());
        assert!(d.check(&[&[1], &[1]], &[2]).is_err());
    }

    /// `y = [x0, 0, x2]`: the middle row has no terms, as the masked positions of
    /// `MaskedSoftmax` and the border of a `Pad` do.
    fn scatter() -> crate::Model {
        use crate::ops::test_support::OneNode;
        let op = SparseDot {
            terms: vec![vec![(0, 0, 1)], vec![], vec![(0, 2, 1)]],
            bias: vec![0; 3],
            requant: Requant {
                shift: 0,
                bits: 8,
                relu: false,
            },
        };
        OneNode {
            name: "scatter",
            op: crate::ops::Op::SparseDot(op),
            reads: vec![0],
            shape: vec![3],
            scale: 0,
            bits: 6,
            out: vec![3],
            out_scale: 0,
        }
        .model()
    }

    #[test]
    fn a_row_without_terms_is_proven_to_be_its_bias() {
        use crate::chips::requant_row::RequantRow;
        use crate::ops::test_support::{failure_names, model_failures, ChipCircuit, OwnedDotRow};
        let x = vec![5, 9, -7];
        assert!(model_failures(&scatter(), None, x.clone(), |_, _| ()).is_ok());
        // A prover that publishes weight at a masked position: the output binding (a dot
        // row that reads the instance) fails.
        let f = model_failures(&scatter(), None, x, |_, inst| {
            inst[1] = crate::fixed_point::to_field(9);
        })
        .unwrap_err();
        assert!(
            !f.is_empty() && f.iter().all(|f| f.ends_with("('dot')")),
            "{f:?}"
        );
        // Nor can it make the row say 9: a dot row whose weights are all 0 (fixed columns)
        // sums to 0 whatever its lanes hold, so a sum of 9 fails the dot gate.
        let rq = Requant {
            shift: 0,
            bits: 8,
            relu: false,
        };
        let row = OwnedDotRow {
            lanes: vec![Some(9), Some(1), Some(0), Some(0)],
            weights: vec![0; 4],
            cont: false,
            acc: Some(9),
        };
        let requant = RequantRow::honest(rq, (1, 0, 0), Some(9), None, "scatter").unwrap();
        let c = ChipCircuit::new(vec![row], vec![requant]);
        let f = c
            .verify()
            .err()
            .map_or_else(Vec::new, |f| failure_names(&f));
        assert!(
            !f.is_empty() && f.iter().all(|f| f.ends_with("('dot')")),
            "{f:?}"
        );
    }
}
