//! Elementwise affine ops with requantization: Add, Sub, Add of a constant (bias, with
//! broadcast), and Relu. `y[j] = requant(Σ_k mul_k·x_k[idx_k[j]] + c[j])`.
//!
//! Layout: one requant row per output value; its `x` (and `x2`) are copy-constrained to the
//! input cells the broadcast index names. Relu is the requant row's `relu` flag: the output
//! is `s·y` with `s` the proven sign of `y`.
//!
//! Soundness: see the requant chip; the inputs are copies of range-checked cells, the
//! multipliers and constant are fixed columns.

use super::{synth, LayoutCtx, NodeIo, Operator};
use crate::chips::requant_row::RequantRow;
use crate::error::EvalError;
use crate::requant::Requant;
use crate::rows::RowCounter;
use halo2_proofs::circuit::Cell;
use halo2_proofs::plonk::Error;
use serde::{Deserialize, Serialize};

/// An affine combination of one or two tensors and a constant, requantized.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Elementwise {
    /// One multiplier per input (1 or 2 inputs).
    pub mul: Vec<i64>,
    /// Constant per output value at the pre-shift scale (empty: zero).
    pub constant: Vec<i64>,
    /// Per input, the source index of every output value (numpy broadcast), or empty for
    /// the identity.
    pub index: Vec<Vec<u32>>,
    /// Final requantization (its `relu` flag makes this a Relu).
    pub requant: Requant,
    /// Coefficient of the product of the two inputs (Mul of two activations).
    #[serde(default)]
    pub product: i64,
}

impl Elementwise {
    /// Number of output values.
    pub fn out_len_of(&self, first_input_len: usize) -> usize {
        broadcast_len(&self.index, &self.constant, first_input_len)
    }

    fn source(&self, k: usize, j: usize) -> usize {
        broadcast_source(&self.index, k, j)
    }

    fn coefficients(&self, j: usize) -> (i128, i128, i128) {
        let c = self.constant.get(j).copied().unwrap_or(0) as i128;
        (
            self.mul[0] as i128,
            self.mul.get(1).copied().unwrap_or(0) as i128,
            c,
        )
    }

    fn out_len(&self, first_input_len: usize) -> usize {
        self.out_len_of(first_input_len)
    }
}

/// Output length of an op reading one or two inputs through broadcast index maps (an
/// empty map is the identity) and a per-output constant: [`Elementwise`], `Compare`.
pub(crate) fn broadcast_len(index: &[Vec<u32>], constant: &[i64], first_input_len: usize) -> usize {
    index
        .first()
        .filter(|i| !i.is_empty())
        .map_or(first_input_len, |i| i.len())
        .max(constant.len())
}

/// Where output `j` reads input `k` under those index maps.
pub(crate) fn broadcast_source(index: &[Vec<u32>], k: usize, j: usize) -> usize {
    index[k].get(j).map_or(j, |&i| i as usize)
}

/// Checks such an op's one or two inputs, multipliers, index maps and constant against the
/// input shapes and the output shape.
pub(crate) fn check_broadcast(
    mul: &[i64],
    constant: &[i64],
    index: &[Vec<u32>],
    inputs: &[&[usize]],
    out: &[usize],
) -> Result<(), String> {
    let n: usize = out.iter().product();
    if inputs.is_empty() || inputs.len() > 2 || mul.len() != inputs.len() {
        return Err("the op takes one or two inputs, one multiplier each".into());
    }
    if !(constant.is_empty() || constant.len() == n) || index.len() != inputs.len() {
        return Err("constant or index does not match the output".into());
    }
    for (shape, idx) in inputs.iter().zip(index) {
        let len: usize = shape.iter().product();
        let fits = if idx.is_empty() {
            len == n
        } else {
            idx.len() == n && idx.iter().all(|&i| (i as usize) < len)
        };
        if !fits {
            return Err(format!("input {shape:?} does not broadcast to {out:?}"));
        }
    }
    Ok(())
}

impl Operator for Elementwise {
    fn requant(&self) -> Option<Requant> {
        Some(self.requant)
    }

    /// One or two inputs; indices and constant sized to the output and within bounds.
    fn check(&self, inputs: &[&[usize]], out: &[usize]) -> Result<(), String> {
        check_broadcast(&self.mul, &self.constant, &self.index, inputs, out)
    }

    /// Integer reference semantics.
    fn reference(&self, node: &str, inputs: &[&[i128]]) -> Result<Vec<i128>, EvalError> {
        (0..self.out_len(inputs[0].len()))
            .map(|j| {
                let (ma, mb, c) = self.coefficients(j);
                let x = inputs[0][self.source(0, j)];
                let x2 = inputs.get(1).map_or(0, |i| i[self.source(1, j)]);
                let p = self.product as i128;
                Ok(self
                    .requant
                    .apply(x * x2 * p + x * ma + x2 * mb + c, node)?
                    .out)
            })
            .collect()
    }

    /// One requant row per output value.
    fn count_rows(&self, _lanes: usize, input_len: usize, rows: &mut RowCounter) {
        for _ in 0..self.out_len_of(input_len) {
            rows.requant(&self.requant);
        }
    }

    /// Lays out one requant row per output value.
    fn layout(&self, ctx: &mut LayoutCtx<'_, '_>, io: &NodeIo<'_>) -> Result<Vec<Cell>, Error> {
        let (node, inputs, values) = io.parts();
        let n = self.out_len(inputs[0].len());
        let mut out = Vec::with_capacity(n);
        for j in 0..n {
            let (s0, s1) = (self.source(0, j), inputs.get(1).map(|_| self.source(1, j)));
            let x = values.map(|v| v[0][s0]);
            let x2 = match (values, s1) {
                (Some(v), Some(s1)) => Some(v[1][s1]),
                _ => None,
            };
            let (ma, mb, c) = self.coefficients(j);
            let coefficients = (ma, mb, self.product as i128, c);
            let row = synth(RequantRow::honest_product(
                self.requant,
                coefficients,
                x,
                x2,
                node,
            ))?;
            let at = ctx.requant_row(&self.requant)?;
            let cells = ctx.requant.assign(ctx.region, at, &row)?;
            ctx.region.constrain_equal(cells.x, inputs[0][s0]);
            if let Some(s1) = s1 {
                ctx.region.constrain_equal(cells.x2, inputs[1][s1]);
            }
            out.push(cells.out);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::{model_failures, OneNode};
    use crate::ops::Op;
    use proptest::prelude::*;

    /// `relu(2·a + 3·b[j] - 5)` over a 4-vector `a` and a broadcast scalar `b`, shifted by 2.
    fn add() -> Elementwise {
        Elementwise {
            mul: vec![2, 3],
            constant: vec![-5; 4],
            index: vec![vec![], vec![0; 4]],
            requant: Requant {
                shift: 2,
                bits: 8,
                relu: true,
            },
            product: 0,
        }
    }

    /// The model's one input `x` (5 values) is both operands: `a = x[0..4]` by the first
    /// index map, `b = x[4]` broadcast by the second.
    fn model() -> crate::Model {
        let op = Elementwise {
            index: vec![vec![0, 1, 2, 3], vec![4; 4]],
            ..add()
        };
        OneNode {
            name: "add",
            op: Op::Elementwise(op),
            reads: vec![0, 0],
            shape: vec![5],
            scale: 0,
            bits: 6,
            out: vec![4],
            out_scale: 0,
        }
        .model()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(8))]
        #[test]
        fn the_circuit_proves_the_reference(x in proptest::collection::vec(-60i128..60, 5)) {
            let out = model().nodes[0].op.operator().reference("add", &[&x, &x]).unwrap();
            for (j, &y) in out.iter().enumerate() {
                prop_assert_eq!(y, ((2 * x[j] + 3 * x[4] - 5 + 2) >> 2).max(0));
            }
            let proven = model_failures(&model(), None, x, |_, _| ());
            prop_assert!(proven.is_ok(), "{:?}", proven);
        }
    }

    #[test]
    fn a_changed_output_fails_its_instance_binding() {
        let x = vec![7, -3, 20, 0, 4];
        let f = model_failures(&model(), None, x, |_, inst| {
            inst[2] += crate::fixed_point::to_field(1);
        })
        .unwrap_err();
        assert!(f.iter().all(|f| f.ends_with("('dot')")), "{f:?}");
    }
}
