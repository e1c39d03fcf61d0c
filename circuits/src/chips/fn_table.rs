//! The function-table chip: a lookup of `(tag, x, y)` in a fixed table of
//! `(function id, x, round(f(x/2^s_in)·2^s_out))` rows, one block per function the circuit
//! uses, spanning only that function's calibrated input domain.
//!
//! Lookup "fn table": `(tag, q·x, q·y) ∈ (T_tag, T_x, T_y)`, with `tag` a fixed column (0 off
//! table rows) and `q` a complex selector; the table holds `(0, 0, 0)` for rows that look
//! nothing up.
//!
//! Soundness: each `(tag, x)` appears once in the table, so `y` is fixed by `x`; an `x`
//! outside the function's domain has no row and the lookup fails. `x` is a copy of a requant
//! output, so it is already proven to lie in `[-2^bits, 2^bits)`, the table's span.

use super::value;
use crate::fixed_point::to_field;
use crate::Fr;
use halo2_proofs::circuit::{Cell, Layouter, Region, Value};
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Fixed, Selector, TableColumn};
use halo2_proofs::poly::Rotation;

/// Columns of the function-table chip.
#[derive(Clone, Debug)]
pub struct FnTableConfig {
    /// Enables the lookup.
    pub q: Selector,
    /// Function id of the row.
    pub tag: Column<Fixed>,
    /// Input.
    pub x: Column<Advice>,
    /// Output.
    pub y: Column<Advice>,
    /// Table: function id, input, output.
    pub table: [TableColumn; 3],
}

impl FnTableConfig {
    /// Creates the lookup over two existing advice columns.
    pub fn configure(
        meta: &mut ConstraintSystem<Fr>,
        x: Column<Advice>,
        y: Column<Advice>,
    ) -> Self {
        let q = meta.complex_selector();
        let tag = meta.fixed_column();
        let table = [(); 3].map(|_| meta.lookup_table_column());
        meta.lookup("fn table", |m| {
            let q = m.query_selector(q);
            let t = m.query_fixed(tag, Rotation::cur());
            let xv = m.query_advice(x, Rotation::cur());
            let yv = m.query_advice(y, Rotation::cur());
            vec![
                (t, table[0]),
                (q.clone() * xv, table[1]),
                (q * yv, table[2]),
            ]
        });
        Self {
            q,
            tag,
            x,
            y,
            table,
        }
    }

    /// Fills the table: `(0, 0, 0)`, then each function's `(id, x, y)` rows.
    pub fn load(
        &self,
        layouter: &mut impl Layouter<Fr>,
        entries: &[(u32, Vec<(i128, i128)>)],
    ) -> Result<(), Error> {
        layouter.assign_table(
            || "fn table",
            |mut t| {
                let mut row = 0;
                let mut put = |vals: [i128; 3], row: &mut usize| -> Result<(), Error> {
                    for (col, v) in self.table.iter().zip(vals) {
                        t.assign_cell(|| "fn", *col, *row, || Value::known(to_field(v)))?;
                    }
                    *row += 1;
                    Ok(())
                };
                put([0, 0, 0], &mut row)?;
                for (id, rows) in entries {
                    for &(x, y) in rows {
                        put([*id as i128, x, y], &mut row)?;
                    }
                }
                Ok(())
            },
        )
    }

    /// Assigns one lookup row; returns the `x` and `y` cells.
    pub fn assign(
        &self,
        region: &mut Region<'_, Fr>,
        offset: usize,
        tag: u32,
        x: Option<i128>,
        y: Option<i128>,
    ) -> Result<(Cell, Cell), Error> {
        self.q.enable(region, offset)?;
        region.assign_fixed(self.tag, offset, to_field(tag as i128));
        let xc = region.assign_advice(self.x, offset, value(x)).cell();
        let yc = region.assign_advice(self.y, offset, value(y)).cell();
        Ok((xc, yc))
    }
}

/// Looks up each `(tag, x, y)` in a table that holds one block with id 1; true if MockProver
/// accepts. Shared by the tests of the ops that read tables.
#[cfg(test)]
pub(crate) fn lookups_verify(table: Vec<(i128, i128)>, rows: Vec<(u32, i128, i128)>) -> bool {
    lookup_failures(table, rows).is_empty()
}

/// The constraints MockProver reports as failed when each `(tag, x, y)` is looked up in a
/// table that holds one block with id 1 (see [`crate::ops::test_support::failure_names`]).
#[cfg(test)]
pub(crate) fn lookup_failures(
    table: Vec<(i128, i128)>,
    rows: Vec<(u32, i128, i128)>,
) -> Vec<String> {
    use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner};
    use halo2_proofs::dev::MockProver;
    use halo2_proofs::plonk::Circuit;

    #[derive(Clone, Default)]
    struct Lookups {
        table: Vec<(i128, i128)>,
        rows: Vec<(u32, i128, i128)>,
    }

    impl Circuit<Fr> for Lookups {
        type Config = FnTableConfig;
        type FloorPlanner = SimpleFloorPlanner;
        type Params = ();

        fn without_witnesses(&self) -> Self {
            self.clone()
        }

        fn configure(meta: &mut ConstraintSystem<Fr>) -> FnTableConfig {
            let (x, y) = (meta.advice_column(), meta.advice_column());
            FnTableConfig::configure(meta, x, y)
        }

        fn synthesize(
            &self,
            config: FnTableConfig,
            mut layouter: impl Layouter<Fr>,
        ) -> Result<(), Error> {
            config.load(&mut layouter, &[(1, self.table.clone())])?;
            layouter.assign_region(
                || "rows",
                |mut region| {
                    for (i, &(tag, x, y)) in self.rows.iter().enumerate() {
                        config.assign(&mut region, i, tag, Some(x), Some(y))?;
                    }
                    Ok(())
                },
            )
        }
    }

    match MockProver::run(7, &Lookups { table, rows }, vec![]) {
        Ok(p) => p
            .verify()
            .err()
            .map_or_else(Vec::new, |f| crate::ops::test_support::failure_names(&f)),
        Err(e) => vec![format!("synthesis: {e:?}")],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{FnKind, TableFn};
    use crate::requant::Requant;

    fn sigmoid() -> TableFn {
        TableFn {
            kind: FnKind::Sigmoid,
            mul: 1,
            requant: Requant {
                shift: 0,
                bits: 4,
                relu: false,
            },
            in_scale: 2,
            out_scale: 8,
        }
    }

    fn verify(rows: Vec<(u32, i128, i128)>) -> bool {
        lookups_verify(sigmoid().table_rows(), rows)
    }

    /// The one failure every malicious row below must cause.
    fn only_the_lookup_fails(rows: Vec<(u32, i128, i128)>) {
        let failures = lookup_failures(sigmoid().table_rows(), rows);
        assert!(!failures.is_empty());
        assert!(
            failures.iter().all(|f| f == "lookup 'fn table'"),
            "{failures:?}"
        );
    }

    #[test]
    fn honest_lookups_pass() {
        let t = sigmoid();
        let rows = t.table_rows().into_iter().map(|(x, y)| (1, x, y)).collect();
        assert!(verify(rows));
    }

    #[test]
    fn rejects_wrong_table_output() {
        let (x, y) = sigmoid().table_rows()[20];
        assert!(verify(vec![(1, x, y)]));
        only_the_lookup_fails(vec![(1, x, y + 1)]);
    }

    #[test]
    fn rejects_input_outside_the_table() {
        // The table spans [-16, 16); 16 has no row, whatever output is claimed.
        only_the_lookup_fails(vec![(1, 16, 255)]);
        only_the_lookup_fails(vec![(1, -17, 0)]);
    }

    #[test]
    fn rejects_another_functions_tag() {
        let (x, y) = sigmoid().table_rows()[3];
        only_the_lookup_fails(vec![(2, x, y)]);
    }
}
