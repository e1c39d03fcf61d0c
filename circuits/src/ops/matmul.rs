//! MatMul between two activations, `C = A·B` (`m×k` by `k×n`), checked by the Freivalds chip
//! with a second-phase challenge instead of `m·n·k` product rows.
//!
//! Layout: one requant row per entry of `C`, whose input cell is the exact (unshifted) entry;
//! then the Freivalds rows: copies of `B`'s rows, of those `C` cells and of `A`'s rows in the
//! chip's first-phase column. The chip's second-phase cells are filled after the first
//! phase is committed (see [`crate::ModelCircuit`]).
//!
//! Soundness: see the Freivalds chip; `C`'s entries are bounded by their requant rows, and
//! every copy is constrained to the cell it reads.

use super::{synth, LayoutCtx, NodeIo, Operator};
use crate::chips::freivalds::{ChainRow, FreivaldsJob, Step};
use crate::chips::requant_row::RequantRow;
use crate::error::EvalError;
use crate::requant::Requant;
use crate::rows::RowCounter;
use halo2_proofs::circuit::Cell;
use halo2_proofs::plonk::Error;
use serde::{Deserialize, Serialize};

/// `requant(A·B)` for activations `A` (input 0) and `B` (input 1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatMul {
    /// Rows of `A` and `C`.
    pub m: usize,
    /// Columns of `A`, rows of `B`.
    pub k: usize,
    /// Columns of `B` and `C`.
    pub n: usize,
    /// Flat index into input 0 of each `A[i][t]`, row-major `m×k`.
    pub a_index: Vec<u32>,
    /// Flat index into input 1 of each `B[t][j]`, row-major `k×n`.
    pub b_index: Vec<u32>,
    /// Requantization of each entry of `C`.
    pub requant: Requant,
}

impl MatMul {
    /// The exact product, row-major `m×n`.
    pub fn product(&self, a: &[i128], b: &[i128]) -> Vec<i128> {
        let (k, n) = (self.k, self.n);
        (0..self.m * n)
            .map(|o| {
                let (i, j) = (o / n, o % n);
                (0..k)
                    .map(|t| {
                        a[self.a_index[i * k + t] as usize] * b[self.b_index[t * n + j] as usize]
                    })
                    .sum()
            })
            .collect()
    }

    /// Rows of the Freivalds check.
    fn check_rows(&self) -> usize {
        self.k * self.n + self.m * self.n + self.m * self.k
    }
}

impl Operator for MatMul {
    fn requant(&self) -> Option<Requant> {
        Some(self.requant)
    }

    /// Two inputs; the index maps sized `m×k` and `k×n` and within the inputs.
    fn check(&self, inputs: &[&[usize]], out: &[usize]) -> Result<(), String> {
        let [a, b] = inputs else {
            return Err("a product of activations takes two inputs".into());
        };
        let (la, lb) = (a.iter().product::<usize>(), b.iter().product::<usize>());
        let ok = self.m * self.k == self.a_index.len()
            && self.k * self.n == self.b_index.len()
            && self.m * self.n == out.iter().product::<usize>()
            && self.k > 0
            && self.a_index.iter().all(|&i| (i as usize) < la)
            && self.b_index.iter().all(|&i| (i as usize) < lb);
        if ok {
            Ok(())
        } else {
            Err("matrix shapes or index maps do not match".into())
        }
    }

    /// Integer reference semantics.
    fn reference(&self, node: &str, inputs: &[&[i128]]) -> Result<Vec<i128>, EvalError> {
        self.product(inputs[0], inputs[1])
            .into_iter()
            .map(|c| Ok(self.requant.apply(c, node)?.out))
            .collect()
    }

    /// Counts rows: a requant row per entry of `C`, then the Freivalds rows.
    fn count_rows(&self, _lanes: usize, _input_len: usize, rows: &mut RowCounter) {
        for _ in 0..self.m * self.n {
            rows.requant(&self.requant);
        }
        for _ in 0..self.check_rows() {
            rows.dot();
        }
    }

    /// Lays out the requant rows and the first-phase Freivalds rows; queues the job.
    fn layout(&self, ctx: &mut LayoutCtx<'_, '_>, io: &NodeIo<'_>) -> Result<Vec<Cell>, Error> {
        let (node, inputs, values) = io.parts();
        let chip = ctx.freivalds.ok_or(Error::Synthesis)?;
        let c = values.map(|v| self.product(v[0], v[1]));
        let (mut c_cells, mut out) = (Vec::new(), Vec::new());
        for o in 0..self.m * self.n {
            let x = c.as_ref().map(|c| c[o]);
            let row = synth(RequantRow::honest(self.requant, (1, 0, 0), x, None, node))?;
            let at = ctx.requant_row(&self.requant)?;
            let cells = ctx.requant.assign(ctx.region, at, &row)?;
            c_cells.push(cells.x);
            out.push(cells.out);
        }
        let (m, k, n) = (self.m, self.k, self.n);
        let mut job = FreivaldsJob::default();
        let chain = |ctx: &mut LayoutCtx<'_, '_>,
                     entries: &mut dyn Iterator<Item = (Cell, Option<i128>)>,
                     horner: bool|
         -> Result<Vec<ChainRow>, Error> {
            let mut rows = Vec::new();
            for (pos, (cell, x)) in entries.enumerate() {
                let row = ctx.dot_row()?;
                let xc = chip.assign_x(ctx.region, row, Step::at(horner, pos), x)?;
                ctx.region.constrain_equal(xc, cell);
                rows.push((row, x));
            }
            Ok(rows)
        };
        for t in 0..k {
            let mut it = (0..n).rev().map(|j| {
                let src = self.b_index[t * n + j] as usize;
                (inputs[1][src], values.map(|v| v[1][src]))
            });
            job.b_rows.push(chain(ctx, &mut it, true)?);
        }
        for i in 0..m {
            let mut it = (0..n)
                .rev()
                .map(|j| (c_cells[i * n + j], c.as_ref().map(|c| c[i * n + j])));
            job.c_rows.push(chain(ctx, &mut it, true)?);
            let mut it = (0..k).map(|t| {
                let src = self.a_index[i * k + t] as usize;
                (inputs[0][src], values.map(|v| v[0][src]))
            });
            job.a_rows.push(chain(ctx, &mut it, false)?);
        }
        ctx.freivalds_jobs.push(job);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execute::execute;
    use crate::ir::Model;
    use crate::ops::test_support::{model_failures, run_model, OneNode};
    use crate::ops::Op;
    use crate::Fr;

    /// `X·Xᵀ` for a 2×3 input `X`: both operands read the input.
    fn model() -> Model {
        let op = MatMul {
            m: 2,
            k: 3,
            n: 2,
            a_index: (0..6).collect(),
            b_index: vec![0, 3, 1, 4, 2, 5],
            requant: Requant {
                shift: 2,
                bits: 10,
                relu: false,
            },
        };
        OneNode {
            name: "gram",
            op: Op::MatMul(op),
            reads: vec![0, 0],
            shape: vec![2, 3],
            scale: 2,
            bits: 6,
            out: vec![2, 2],
            out_scale: 2,
        }
        .model()
    }

    fn x() -> Vec<i128> {
        vec![3, -1, 4, 10, 5, -9]
    }

    #[test]
    fn reference_is_the_rounded_product() {
        let t = execute(&model(), vec![x()]).unwrap();
        // X·Xᵀ = [[26, -11], [-11, 206]], then a rounding shift by 2.
        assert_eq!(t.tensors[1], vec![7, -3, -3, 52]);
    }

    #[test]
    fn honest_product_verifies_and_binds_outputs() {
        run_model(&model(), x(), |_, _| {}).unwrap();
        let f =
            model_failures(&model(), None, x(), |_, inst| inst[3] += Fr::from(1u64)).unwrap_err();
        assert!(f.iter().all(|f| f.ends_with("('dot')")), "{f:?}");
    }
}
