//! The wide dot-product chip: one row adds `W` products against fixed weights to a running
//! sum.
//!
//! Gate "dot": `q · (acc - (cont·acc_prev + Σ_i lane_i·w_i + inst)) = 0`, where `w_i` and
//! `cont` are fixed columns and `inst` is the instance column. A dot product of length `n`
//! takes `⌈n/W⌉` rows: the first has `cont = 0`, later rows `cont = 1`. Lanes past `n` have weight 0. A bias is not the chip's
//! business: the requant row that reads the sum adds it as a constant.
//!
//! **Public values.** The instance column holds the public values in its first rows and 0
//! below them. The circuit lays out one dot row with no lanes (`acc = inst`) at each of those
//! rows and copy-constrains its `acc` to the public cell; on every other dot row `inst = 0`
//! and the gate is the plain dot product. So the instance column needs no equality (its
//! permutation column would cost the on-chain verifier another commitment).
//!
//! **Shared fixed columns.** Each committed column costs the on-chain verifier ~8k gas, so
//! the `W + 1` fixed columns are taken first from `shared`: fixed columns of a chip whose
//! gates are off on dot rows (the requant chip's multipliers and constant). The layout gives
//! every row to one chip, so on a dot row those columns hold the dot chip's weights and on a
//! requant row the requant chip's constants; each gate reads them only where its own
//! selector is on. Two lanes add no fixed column at all.
//!
//! Soundness: the weights are fixed, so they are committed in the verifying key; every lane
//! is copy-constrained to the cell it reads; each `acc` is fixed by the gate from the row
//! before, so the final `acc` equals the true sum (in the field; the caller's inputs are
//! range-checked, so the sum does not wrap).

use super::value;
use crate::fixed_point::to_field;
use crate::Fr;
use halo2_proofs::circuit::{Cell, Region};
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Fixed, Instance, Selector};
use halo2_proofs::poly::Rotation;

/// Columns and selector of the dot chip.
#[derive(Clone, Debug)]
pub struct DotConfig {
    /// Enables the gate.
    pub q: Selector,
    /// `W` input lanes.
    pub lanes: Vec<Column<Advice>>,
    /// Running sum.
    pub acc: Column<Advice>,
    /// Fixed weights, one per lane.
    pub weights: Vec<Column<Fixed>>,
    /// 1 where the row continues the previous row's sum.
    pub cont: Column<Fixed>,
}

/// One row of a dot product: the lane values, its weights, and what it adds to.
#[derive(Clone, Debug)]
pub struct DotRow<'a> {
    /// Lane values (`None` during key generation); at most `W`.
    pub lanes: &'a [Option<i128>],
    /// Weights, same length as `lanes`.
    pub weights: &'a [i64],
    /// Continue the previous row's sum.
    pub cont: bool,
    /// The running sum after this row.
    pub acc: Option<i128>,
}

impl DotConfig {
    /// Creates the gate over the given lanes and accumulator; its fixed columns come from
    /// `shared` (columns of a chip never enabled on a dot row) before new ones are made.
    pub fn configure(
        meta: &mut ConstraintSystem<Fr>,
        lanes: Vec<Column<Advice>>,
        acc: Column<Advice>,
        shared: &[Column<Fixed>],
        instance: Column<Instance>,
    ) -> Self {
        let q = meta.selector();
        let mut shared = shared.iter().copied();
        let mut next = || shared.next().unwrap_or_else(|| meta.fixed_column());
        let weights: Vec<_> = lanes.iter().map(|_| next()).collect();
        let cont = next();
        meta.create_gate("dot", |m| {
            let q = m.query_selector(q);
            let acc_cur = m.query_advice(acc, Rotation::cur());
            let acc_prev = m.query_advice(acc, Rotation::prev());
            let mut sum = m.query_fixed(cont, Rotation::cur()) * acc_prev
                + m.query_instance(instance, Rotation::cur());
            for (lane, w) in lanes.iter().zip(&weights) {
                sum = sum
                    + m.query_advice(*lane, Rotation::cur()) * m.query_fixed(*w, Rotation::cur());
            }
            vec![q * (acc_cur - sum)]
        });
        Self {
            q,
            lanes,
            acc,
            weights,
            cont,
        }
    }

    /// Assigns one row; returns the lane cells (to copy-constrain) and the accumulator cell.
    pub fn assign(
        &self,
        region: &mut Region<'_, Fr>,
        offset: usize,
        row: &DotRow<'_>,
    ) -> Result<(Vec<Cell>, Cell), Error> {
        self.q.enable(region, offset)?;
        let mut cells = Vec::with_capacity(row.lanes.len());
        for (i, lane) in self.lanes.iter().enumerate() {
            let (v, w) = match (row.lanes.get(i), row.weights.get(i)) {
                (Some(v), Some(w)) => (*v, *w),
                _ => (Some(0), 0),
            };
            let cell = region.assign_advice(*lane, offset, value(v)).cell();
            region.assign_fixed(self.weights[i], offset, to_field(w as i128));
            if i < row.lanes.len() {
                cells.push(cell);
            }
        }
        region.assign_fixed(self.cont, offset, to_field(row.cont as i128));
        let acc = region
            .assign_advice(self.acc, offset, value(row.acc))
            .cell();
        Ok((cells, acc))
    }
}

#[cfg(test)]
mod tests {
    use crate::chips::requant_row::RequantRow;
    use crate::ops::test_support::{failure_names, ChipCircuit, OwnedDotRow};
    use crate::requant::Requant;

    const WEIGHTS: [i64; 6] = [3, -2, 5, 7, -1, 4];
    const RQ: Requant = Requant {
        shift: 3,
        bits: 8,
        relu: false,
    };

    /// The honest rows of `Σ x·w - 9` over 4 lanes (two dot rows, the second continuing the
    /// first), then the requant row reading the sum.
    fn honest(x: &[i128]) -> ChipCircuit {
        let mut dots = Vec::new();
        let mut acc = 0;
        for (c, (xs, ws)) in x.chunks(4).zip(WEIGHTS.chunks(4)).enumerate() {
            acc += xs.iter().zip(ws).map(|(a, b)| a * *b as i128).sum::<i128>();
            dots.push(OwnedDotRow {
                lanes: xs.iter().map(|v| Some(*v)).collect(),
                weights: ws.to_vec(),
                cont: c > 0,
                acc: Some(acc),
            });
        }
        let rq = RequantRow::honest(RQ, (1, 0, -9), Some(acc), None, "n").unwrap();
        ChipCircuit::new(dots, vec![rq])
    }

    fn failures(c: &ChipCircuit) -> Vec<String> {
        c.verify()
            .err()
            .map_or_else(Vec::new, |f| failure_names(&f))
    }

    #[test]
    fn honest_rows_verify() {
        for x in [[1, 2, 3, 4, 5, 6], [-20, 19, 0, -1, 7, -13]] {
            let c = honest(&x);
            assert_eq!(failures(&c), Vec::<String>::new());
            let exact: i128 = x.iter().zip(WEIGHTS).map(|(a, w)| a * w as i128).sum();
            assert_eq!(c.dots[1].acc, Some(exact));
        }
    }

    #[test]
    fn a_wrong_final_sum_fails_the_dot_gate() {
        // The requant row is honest for the wrong sum, so only the gate that forms it fails.
        let mut c = honest(&[1, 2, 3, 4, 5, 6]);
        c.dots[1].acc = c.dots[1].acc.map(|a| a + 1);
        c.requants[0] = RequantRow::honest(RQ, (1, 0, -9), c.dots[1].acc, None, "n").unwrap();
        let f = failures(&c);
        assert!(
            !f.is_empty() && f.iter().all(|f| f.ends_with("('dot')")),
            "{f:?}"
        );
    }

    #[test]
    fn a_wrong_running_sum_fails_the_dot_gate_on_both_rows() {
        // The first row's sum is off: its own gate fails, and so does the second row's, which
        // continues from it.
        let mut c = honest(&[1, 2, 3, 4, 5, 6]);
        c.dots[0].acc = c.dots[0].acc.map(|a| a - 5);
        let f = failures(&c);
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(f.iter().all(|f| f.ends_with("('dot')")), "{f:?}");
    }

    #[test]
    fn a_sum_not_carried_into_the_requant_row_fails_the_copy() {
        // The requant row starts from another value than the dot rows' sum: every row is
        // honest on its own, only the copy between them is broken.
        let mut c = honest(&[1, 2, 3, 4, 5, 6]);
        let acc = c.dots[1].acc.map(|a| a + 8);
        c.requants[0] = RequantRow::honest(RQ, (1, 0, -9), acc, None, "n").unwrap();
        let f = failures(&c);
        assert!(
            !f.is_empty() && f.iter().all(|f| f == "permutation"),
            "{f:?}"
        );
    }
}
