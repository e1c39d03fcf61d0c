//! The range table: one column holding `0, 1, …, 2^b − 1` for the circuit's limb width `b`.
//!
//! A lookup of `x` proves `0 ≤ x < 2^b`. Every limb the requant chip checks is a full `b`-bit
//! limb (it aligns each shift and domain to one or two limbs), so no width tag is needed:
//! one fixed column and one looked-up advice column serve every range check. Range-column
//! cells that hold no limb are 0, which is in the table.

use crate::fixed_point::to_field;
use crate::Fr;
use halo2_proofs::circuit::{Layouter, Value};
use halo2_proofs::plonk::{ConstraintSystem, Error, TableColumn};

/// The table column.
#[derive(Clone, Copy, Debug)]
pub struct RangeTableConfig {
    /// Values `0 … 2^b − 1`.
    pub value: TableColumn,
}

/// Number of table rows for limb width `b`.
pub fn table_rows(limb_bits: u32) -> usize {
    1usize << limb_bits
}

impl RangeTableConfig {
    /// Allocates the table column.
    pub fn configure(meta: &mut ConstraintSystem<Fr>) -> Self {
        Self {
            value: meta.lookup_table_column(),
        }
    }

    /// Fills the table with `0 … 2^limb_bits − 1`.
    pub fn load(&self, layouter: &mut impl Layouter<Fr>, limb_bits: u32) -> Result<(), Error> {
        layouter.assign_table(
            || "range table",
            |mut table| {
                for v in 0..(1i128 << limb_bits) {
                    table.assign_cell(
                        || "value",
                        self.value,
                        v as usize,
                        || Value::known(to_field(v)),
                    )?;
                }
                Ok(())
            },
        )
    }
}
