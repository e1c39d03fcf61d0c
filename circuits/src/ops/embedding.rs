//! Embedding lookup: `Gather` of a constant table by indices that are activations
//! (`y[i, j] = W[idx_i, j]` for a `V × D` table `W`).
//!
//! Layout per output value: a requant row computes the flat table position
//! `key = D·idx + j` from the index (at its input scale `2^s`: `(D·x + j·2^s) >> s`, exact for
//! integer indices) and range-checks it; a function-table row looks up `(key, W[key])` in a
//! table that holds exactly the `V·D` entries of `W`, its input copy-constrained to the
//! requant's output.
//!
//! Soundness: the key is fixed by the index cell and fixed columns; the lookup admits only
//! the table's own `(position, value)` pairs, so an index outside `[0, V)` has no row to
//! match and a wrong value for a right index cannot be proven.

use super::{requant_then_lookup, LayoutCtx, NodeIo, Operator, TableKey, TableRead};
use crate::error::EvalError;
use crate::requant::Requant;
use crate::rows::RowCounter;
use halo2_proofs::circuit::Cell;
use halo2_proofs::plonk::Error;
use serde::{Deserialize, Serialize};

/// A constant table indexed by an activation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Embedding {
    /// Entries per table row (`D`).
    pub dim: usize,
    /// The table, row-major `V × D`, quantized at the output scale.
    pub table: Vec<i64>,
    /// Turns `D·x + j·2^shift` into the key: its shift is the index's scale, its domain
    /// covers `V·D`.
    pub requant: Requant,
}

impl Embedding {
    /// Rows of the table (`V`).
    pub fn rows(&self) -> usize {
        self.table.len() / self.dim.max(1)
    }

    /// The table this op looks up in.
    pub fn key(&self) -> TableKey {
        TableKey::Values(self.table.clone())
    }

    /// The table's `(position, value)` rows.
    pub fn table_rows(&self) -> Vec<(i128, i128)> {
        self.table
            .iter()
            .enumerate()
            .map(|(k, &v)| (k as i128, v as i128))
            .collect()
    }

    /// The key of output `j` of the index `x`; `None` outside the table.
    fn position(&self, x: i128, j: usize, node: &str) -> Result<Option<usize>, EvalError> {
        let key = self.requant.apply(self.pre(x, j), node)?.out;
        Ok(usize::try_from(key).ok().filter(|&k| k < self.table.len()))
    }

    /// The value before the key's requantization.
    fn pre(&self, x: i128, j: usize) -> i128 {
        x * self.dim as i128 + self.add(j)
    }

    fn add(&self, j: usize) -> i128 {
        (j as i128) << self.requant.shift
    }
}

impl Operator for Embedding {
    fn requant(&self) -> Option<Requant> {
        Some(self.requant)
    }

    /// One index tensor; the output is the index shape times `D`.
    fn check(&self, inputs: &[&[usize]], out: &[usize]) -> Result<(), String> {
        let ok = self.dim > 0
            && !self.table.is_empty()
            && self.table.len().is_multiple_of(self.dim)
            && !self.requant.relu
            && (1i128 << self.requant.bits) >= self.table.len() as i128;
        match inputs {
            [idx]
                if ok
                    && idx.iter().product::<usize>() * self.dim
                        == out.iter().product::<usize>() =>
            {
                Ok(())
            }
            _ => Err("an embedding maps one index tensor to index shape × table row".into()),
        }
    }

    /// Integer reference semantics; an index outside the table is an error.
    fn reference(&self, node: &str, inputs: &[&[i128]]) -> Result<Vec<i128>, EvalError> {
        let mut out = Vec::with_capacity(inputs[0].len() * self.dim);
        for &x in inputs[0] {
            for j in 0..self.dim {
                let k = self.position(x, j, node)?.ok_or(EvalError::OutOfDomain {
                    node: node.to_string(),
                    value: x >> self.requant.shift,
                    bits: (self.rows() as f64).log2().ceil() as u32,
                })?;
                out.push(self.table[k] as i128);
            }
        }
        Ok(out)
    }

    /// Counts rows: a requant row and a table row per output value.
    fn count_rows(&self, _lanes: usize, input_len: usize, rows: &mut RowCounter) {
        for _ in 0..input_len * self.dim {
            rows.requant_then_lookup(&self.requant);
        }
    }

    /// Lays out every output value; returns the output cells.
    fn layout(&self, ctx: &mut LayoutCtx<'_, '_>, io: &NodeIo<'_>) -> Result<Vec<Cell>, Error> {
        let (node, inputs, values) = io.parts();
        let mut out = Vec::with_capacity(inputs[0].len() * self.dim);
        // Outside the table there is no honest value: 0 leaves the lookup unmatched.
        let value = |k: i128| {
            usize::try_from(k)
                .ok()
                .and_then(|k| self.table.get(k))
                .map_or(0, |&v| v as i128)
        };
        let read = TableRead {
            tag: ctx.tag(&self.key())?,
            requant: self.requant,
            lookup: &value,
        };
        for (i, cell) in inputs[0].iter().enumerate() {
            let x = values.map(|v| v[0][i]);
            for j in 0..self.dim {
                let coefficients = (self.dim as i128, self.add(j));
                let y = requant_then_lookup(ctx, node, &read, coefficients, (*cell, x))?;
                out.push(y);
            }
        }
        Ok(out)
    }

    fn table(&self) -> Option<(TableKey, Vec<(i128, i128)>)> {
        Some((self.key(), self.table_rows()))
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

    /// Three indices at scale 2 into a 4 × 3 table.
    fn model() -> Model {
        let op = Embedding {
            dim: 3,
            table: vec![5, -7, 9, 11, 0, -3, 40, 41, 42, -1, -2, -100],
            requant: Requant {
                shift: 2,
                bits: 4,
                relu: false,
            },
        };
        OneNode {
            name: "embed",
            op: Op::Embedding(op),
            reads: vec![0],
            shape: vec![3],
            scale: 2,
            bits: 5,
            out: vec![3, 3],
            out_scale: 6,
        }
        .model()
    }

    /// Indices 2, 0, 3 at scale 2.
    fn indices() -> Vec<i128> {
        vec![8, 0, 12]
    }

    #[test]
    fn honest_lookup_verifies() {
        let m = model();
        let trace = execute(&m, vec![indices()]).unwrap();
        assert_eq!(trace.tensors[1], vec![40, 41, 42, 5, -7, 9, -1, -2, -100]);
        run_model(&m, indices(), |_, _| {}).unwrap();
    }

    #[test]
    fn rejects_a_changed_output() {
        // Its instance binding (a dot row: `acc = instance`) fails, and nothing else.
        let f = model_failures(&model(), None, indices(), |_, inst| {
            inst[4] += Fr::from(1u64)
        })
        .unwrap_err();
        assert!(f.iter().all(|f| f.ends_with("('dot')")), "{f:?}");
    }

    #[test]
    fn the_table_admits_only_its_own_entries() {
        let op = match &model().nodes[0].op {
            Op::Embedding(e) => e.clone(),
            _ => unreachable!(),
        };
        let lookup = |key: i128, value: i128| {
            crate::chips::fn_table::lookups_verify(op.table_rows(), vec![(1, key, value)])
        };
        assert!(lookup(6, 40));
        // W[0, 0] claimed at the key of W[2, 0]; and a key past the table's end.
        assert!(!lookup(6, 5));
        assert!(!lookup(12, 0));
        assert!(!lookup(-1, 0));
    }

    #[test]
    fn an_index_outside_the_table_is_refused() {
        // Index 4 of a 4-row table: the reference refuses it, and a witness that carries it
        // anyway finds no table row.
        assert!(execute(&model(), vec![vec![16, 0, 0]]).is_err());
        let f = model_failures(&model(), None, indices(), |t, _| t.tensors[0][0] = 16).unwrap_err();
        assert!(f.iter().any(|f| f == "lookup 'fn table'"), "{f:?}");
    }
}
