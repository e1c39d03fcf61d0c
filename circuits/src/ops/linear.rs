//! Gemm and MatMul against constant weights: `y[b, o] = requant(bias[o] + Σ_i x[b, i]·w[o, i])`.
//!
//! Layout: for each batch row and output, `⌈in/W⌉` rows of the dot chip (weights in fixed
//! columns, lanes copy-constrained to the input cells), then one requant row whose `x` is
//! copy-constrained to the final accumulator.
//!
//! Soundness: the dot chip fixes the accumulator from range-checked inputs and committed
//! weights; the requant chip fixes the output from the accumulator (see both chips).
//! The weights are at scale `s_w`, the bias at `s_in + s_w`; the requant shift brings the sum
//! to the output scale.

use super::{dot_then_requant, LaneTerm, LayoutCtx, NodeIo, Operator};
use crate::error::EvalError;
use crate::requant::Requant;
use crate::rows::RowCounter;
use crate::Fr;
use halo2_proofs::circuit::Cell;
use halo2_proofs::plonk::Error;
use serde::{Deserialize, Serialize};

/// A dense layer with constant weights.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Linear {
    /// Input features.
    pub in_dim: usize,
    /// Output features.
    pub out_dim: usize,
    /// Weights, `out_dim × in_dim`, row-major.
    pub weights: Vec<i64>,
    /// Bias at the product scale, `out_dim` values.
    pub bias: Vec<i64>,
    /// Final requantization.
    pub requant: Requant,
}

impl Linear {
    /// The exact pre-activation of output `o` for one input row.
    pub fn dot(&self, x: &[i128], o: usize) -> i128 {
        let w = &self.weights[o * self.in_dim..(o + 1) * self.in_dim];
        self.bias[o] as i128 + x.iter().zip(w).map(|(a, b)| a * *b as i128).sum::<i128>()
    }

    /// The dot rows and the requant row of one output value.
    fn layout_output(
        &self,
        ctx: &mut LayoutCtx<'_, '_>,
        node: &str,
        cells: &[Cell],
        x: Option<&[i128]>,
        o: usize,
    ) -> Result<Cell, Error> {
        let w = &self.weights[o * self.in_dim..(o + 1) * self.in_dim];
        let terms: Vec<LaneTerm> = (0..self.in_dim)
            .map(|i| (cells[i], x.map(|x| x[i]), w[i]))
            .collect();
        dot_then_requant(
            ctx,
            node,
            self.requant,
            self.bias[o] as i128,
            &terms,
            x.is_some(),
        )
    }
}

impl Operator for Linear {
    fn requant(&self) -> Option<Requant> {
        Some(self.requant)
    }

    /// Input is `[.., in_dim]`, output `[.., out_dim]` with the same leading dims.
    fn check(&self, inputs: &[&[usize]], out: &[usize]) -> Result<(), String> {
        let [x] = inputs else {
            return Err("Linear takes one activation input".into());
        };
        let ok = self.in_dim > 0
            && self.weights.len() == self.in_dim * self.out_dim
            && self.bias.len() == self.out_dim
            && x.last() == Some(&self.in_dim)
            && out.last() == Some(&self.out_dim)
            && x[..x.len() - 1] == out[..out.len() - 1];
        if ok {
            Ok(())
        } else {
            Err(format!(
                "Linear {}→{} does not fit input {x:?} / output {out:?}",
                self.in_dim, self.out_dim
            ))
        }
    }

    /// Integer reference semantics.
    fn reference(&self, node: &str, inputs: &[&[i128]]) -> Result<Vec<i128>, EvalError> {
        let mut out = Vec::with_capacity(inputs[0].len() / self.in_dim * self.out_dim);
        for row in inputs[0].chunks(self.in_dim) {
            for o in 0..self.out_dim {
                out.push(self.requant.apply(self.dot(row, o), node)?.out);
            }
        }
        Ok(out)
    }

    /// Counts rows: per output value, `⌈in/lanes⌉` dot rows and one requant row.
    fn count_rows(&self, lanes: usize, input_len: usize, rows: &mut RowCounter) {
        for _ in 0..(input_len / self.in_dim) * self.out_dim {
            rows.dot_then_requant(self.in_dim, lanes, &self.requant);
        }
    }

    /// Lays out every output; returns the output cells.
    fn layout(&self, ctx: &mut LayoutCtx<'_, '_>, io: &NodeIo<'_>) -> Result<Vec<Cell>, Error> {
        let (node, inputs, values) = io.parts();
        let batch = inputs[0].len() / self.in_dim;
        let mut out = Vec::with_capacity(batch * self.out_dim);
        for b in 0..batch {
            let cells = &inputs[0][b * self.in_dim..(b + 1) * self.in_dim];
            let x = values.map(|v| &v[0][b * self.in_dim..(b + 1) * self.in_dim]);
            for o in 0..self.out_dim {
                out.push(self.layout_output(ctx, node, cells, x, o)?);
            }
        }
        Ok(out)
    }
}

/// Convenience for tests and benches: the field value of an integer.
pub fn fe(v: i128) -> Fr {
    crate::fixed_point::to_field(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixed_point::to_field;
    use crate::ops::test_support::{model_failures, OneNode};
    use crate::ops::Op;
    use proptest::prelude::*;

    fn layer() -> Linear {
        Linear {
            in_dim: 6,
            out_dim: 1,
            weights: vec![3, -2, 5, 7, -1, 4],
            bias: vec![-9],
            requant: Requant {
                shift: 3,
                bits: 8,
                relu: false,
            },
        }
    }

    /// The layer over `batch` rows of 6 features.
    fn model(batch: usize) -> crate::Model {
        OneNode {
            name: "dense",
            op: Op::Linear(layer()),
            reads: vec![0],
            shape: vec![batch, 6],
            scale: 0,
            bits: 6,
            out: vec![batch, 1],
            out_scale: 0,
        }
        .model()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(8))]
        #[test]
        fn the_circuit_proves_the_reference(x in proptest::collection::vec(-20i128..20, 6)) {
            let exact: i128 = x.iter().zip(&layer().weights).map(|(a, &w)| a * w as i128).sum();
            let expect = (exact - 9 + 4) >> 3;
            prop_assert_eq!(layer().reference("n", &[&x]).unwrap(), vec![expect]);
            let proven = model_failures(&model(1), Some(4), x, |_, _| ());
            prop_assert!(proven.is_ok(), "{:?}", proven);
        }
    }

    #[test]
    fn a_changed_output_fails_its_instance_binding() {
        // The second of two outputs (MockProver cannot describe a failure on row 0, whose
        // gate reads the row before).
        let x = vec![1, 2, 3, 4, 5, 6, -6, 5, -4, 3, -2, 1];
        let f = model_failures(&model(2), Some(4), x, |_, inst| {
            inst[1] += to_field(1);
        })
        .unwrap_err();
        assert!(f.iter().all(|f| f.ends_with("('dot')")), "{f:?}");
    }

    #[test]
    fn reference_rounds_and_names_node_out_of_domain() {
        let mut l = layer();
        // 3 - 4 + 15 + 28 - 5 + 24 - 9 = 52; (52 + 4) >> 3 = 7
        assert_eq!(l.reference("n", &[&[1, 2, 3, 4, 5, 6]]).unwrap(), vec![7]);
        l.requant.bits = 2;
        let err = l.reference("dense", &[&[1, 2, 3, 4, 5, 6]]).unwrap_err();
        assert!(err.to_string().contains("dense"));
    }
}
