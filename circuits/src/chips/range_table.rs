//! The tagged range table: rows `(t, v)` for every width `t` the circuit uses and every
//! `v ∈ [0, 2^t)`, plus `(0, 0)`.
//!
//! A lookup of `(t, x)` proves `0 ≤ x < 2^t`. Rows that do not look anything up present
//! `(0, 0)`, which is in the table. The table holds only the widths this circuit needs, so
//! its size follows the work instead of setting a floor on `k`.

use crate::fixed_point::to_field;
use crate::Fr;
use halo2_proofs::circuit::{Layouter, Value};
use halo2_proofs::plonk::{ConstraintSystem, Error, TableColumn};
use std::collections::BTreeSet;

/// The two table columns.
#[derive(Clone, Copy, Debug)]
pub struct RangeTableConfig {
    /// Width tag `t`.
    pub tag: TableColumn,
    /// Value `v < 2^t`.
    pub value: TableColumn,
}

/// Number of table rows for a set of widths.
pub fn table_rows(widths: &BTreeSet<u32>) -> usize {
    1 + widths
        .iter()
        .filter(|&&t| t > 0)
        .map(|&t| 1usize << t)
        .sum::<usize>()
}

impl RangeTableConfig {
    /// Allocates the table columns.
    pub fn configure(meta: &mut ConstraintSystem<Fr>) -> Self {
        Self {
            tag: meta.lookup_table_column(),
            value: meta.lookup_table_column(),
        }
    }

    /// Fills the table with every `(t, v)` for `t` in `widths`.
    pub fn load(
        &self,
        layouter: &mut impl Layouter<Fr>,
        widths: &BTreeSet<u32>,
    ) -> Result<(), Error> {
        layouter.assign_table(
            || "range table",
            |mut table| {
                let mut row = 0;
                let mut put = |t: u32, v: i128, row: &mut usize| -> Result<(), Error> {
                    table.assign_cell(
                        || "tag",
                        self.tag,
                        *row,
                        || Value::known(to_field(t as i128)),
                    )?;
                    table.assign_cell(
                        || "value",
                        self.value,
                        *row,
                        || Value::known(to_field(v)),
                    )?;
                    *row += 1;
                    Ok(())
                };
                put(0, 0, &mut row)?;
                for &t in widths.iter().filter(|&&t| t > 0) {
                    for v in 0..(1i128 << t) {
                        put(t, v, &mut row)?;
                    }
                }
                Ok(())
            },
        )
    }
}
