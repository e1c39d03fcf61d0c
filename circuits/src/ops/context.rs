//! Where an operator lays out its rows ([`LayoutCtx`]: the region, the chips, the row
//! allocator) and the two row patterns several operators share: a dot product ending in a
//! requantization, and a requantization feeding a table lookup.

use super::TableKey;
use crate::chips::dot::DotConfig;
use crate::chips::fn_table::FnTableConfig;
use crate::chips::freivalds::{FreivaldsConfig, FreivaldsJob};
use crate::chips::requant_row::RequantConfig;
use crate::error::EvalError;
use crate::requant::Requant;
use crate::rows::RowCounter;
use crate::Fr;
use halo2_proofs::circuit::{Cell, Region};
use halo2_proofs::plonk::Error;
use std::collections::BTreeMap;

/// Where an operator lays out its rows: the region, the chips, and the next free row.
pub struct LayoutCtx<'a, 'r> {
    /// The single region the model lives in.
    pub region: &'a mut Region<'r, Fr>,
    /// Dot-product chip.
    pub dot: &'a DotConfig,
    /// Requantization chip.
    pub requant: &'a RequantConfig,
    /// The row allocator (the same one the planner counts rows with).
    pub rows: RowCounter,
    /// Rows available; taking a row past it is an error, never a halo2 panic.
    pub limit: usize,
    /// Function-table chip, when the model has table functions.
    pub fn_table: Option<&'a FnTableConfig>,
    /// Table id of each table the model uses.
    pub fn_tags: &'a BTreeMap<TableKey, u32>,
    /// Freivalds chip, when the model multiplies activation matrices.
    pub freivalds: Option<&'a FreivaldsConfig>,
    /// Freivalds checks placed so far, filled in the second phase.
    pub freivalds_jobs: Vec<FreivaldsJob>,
}

/// What one node is laid out over: its name (for errors), its input cells, and their
/// values when proving (`None` during key generation).
#[derive(Clone, Copy)]
pub struct NodeIo<'a> {
    /// The node's name.
    pub node: &'a str,
    /// The cells of each input tensor.
    pub cells: &'a [&'a [Cell]],
    /// The values of each input tensor, when known.
    pub values: Option<&'a [&'a [i128]]>,
}

/// A [`NodeIo`] taken apart: the name, the cells, the values.
pub type IoParts<'a> = (&'a str, &'a [&'a [Cell]], Option<&'a [&'a [i128]]>);

impl<'a> NodeIo<'a> {
    /// The name, the cells and the values.
    pub fn parts(&self) -> IoParts<'a> {
        (self.node, self.cells, self.values)
    }
}

impl LayoutCtx<'_, '_> {
    /// Takes the next dot row.
    pub fn dot_row(&mut self) -> Result<usize, Error> {
        let r = self.rows.dot();
        self.check()?;
        Ok(r)
    }

    /// Takes the next requant row for `rq` and its range rows.
    pub fn requant_row(&mut self, rq: &Requant) -> Result<usize, Error> {
        let r = self.rows.requant(rq);
        self.check()?;
        Ok(r)
    }

    /// The circuit's id of the lookup table `key` (tables are numbered when the circuit is
    /// configured, from the model's [`crate::ir::Model::fn_tables`]).
    pub fn tag(&self, key: &TableKey) -> Result<u32, Error> {
        self.fn_tags.get(key).copied().ok_or(Error::Synthesis)
    }

    fn check(&self) -> Result<(), Error> {
        if self.rows.used() > self.limit {
            Err(Error::Synthesis)
        } else {
            Ok(())
        }
    }
}

/// One term of a dot product being laid out: the input cell, its value (when proving), its
/// weight.
pub(crate) type LaneTerm = (Cell, Option<i128>, i64);

/// Lays out `Σ w·x` over `terms` with the dot chip (at least one row), each lane
/// copy-constrained to its input cell, then the requant row whose input is copy-constrained
/// to the final accumulator and which adds `bias` as its constant. `known` says whether the
/// values are known (proving) or not (key generation). Returns the output cell.
pub(crate) fn dot_then_requant(
    ctx: &mut LayoutCtx<'_, '_>,
    node: &str,
    requant: Requant,
    bias: i128,
    terms: &[LaneTerm],
    known: bool,
) -> Result<Cell, Error> {
    use crate::chips::dot::DotRow;
    use crate::chips::requant_row::RequantRow;
    let lanes = ctx.dot.lanes.len();
    let mut acc = known.then_some(0);
    let mut acc_cell = None;
    let chunks: Vec<&[LaneTerm]> = if terms.is_empty() {
        vec![&[]]
    } else {
        terms.chunks(lanes).collect()
    };
    for (c, chunk) in chunks.into_iter().enumerate() {
        let lane_vals: Vec<Option<i128>> = chunk.iter().map(|t| t.1).collect();
        let weights: Vec<i64> = chunk.iter().map(|t| t.2).collect();
        if let Some(a) = acc.as_mut() {
            *a += chunk
                .iter()
                .map(|t| t.1.unwrap_or(0) * t.2 as i128)
                .sum::<i128>();
        }
        let row = DotRow {
            lanes: &lane_vals,
            weights: &weights,
            cont: c > 0,
            acc,
        };
        let at = ctx.dot_row()?;
        let (lane_cells, a) = ctx.dot.assign(ctx.region, at, &row)?;
        for (l, t) in lane_cells.iter().zip(chunk) {
            ctx.region.constrain_equal(*l, t.0);
        }
        acc_cell = Some(a);
    }
    let row = synth(RequantRow::honest(requant, (1, 0, bias), acc, None, node))?;
    let at = ctx.requant_row(&requant)?;
    let rq = ctx.requant.assign(ctx.region, at, &row)?;
    ctx.region
        .constrain_equal(acc_cell.ok_or(Error::Synthesis)?, rq.x);
    Ok(rq.out)
}

/// How an op reads a lookup table: the block's id, the requantization that brings a value
/// to the table's input, and the honest table value of a key.
pub(crate) struct TableRead<'a> {
    /// Block id in the function-table chip.
    pub tag: u32,
    /// Brings `mul·x + add` to the table's input and bounds it to the table's domain.
    pub requant: Requant,
    /// The table's value at a key.
    pub lookup: &'a dyn Fn(i128) -> i128,
}

/// Lays out a requant row of `mul·x + add` (its input copy-constrained to `cell`) and a
/// function-table row that looks up its output in `read`'s block. Returns the table output
/// cell. Shared by the ops that read tables.
pub(crate) fn requant_then_lookup(
    ctx: &mut LayoutCtx<'_, '_>,
    node: &str,
    read: &TableRead<'_>,
    (mul, add): (i128, i128),
    (cell, x): (Cell, Option<i128>),
) -> Result<Cell, Error> {
    use crate::chips::requant_row::RequantRow;
    let table = ctx.fn_table.ok_or(Error::Synthesis)?;
    let row = synth(RequantRow::honest(
        read.requant,
        (mul, 0, add),
        x,
        None,
        node,
    ))?;
    let at = ctx.requant_row(&read.requant)?;
    let rq = ctx.requant.assign(ctx.region, at, &row)?;
    ctx.region.constrain_equal(rq.x, cell);
    let key = row.w.map(|w| w.out);
    let at = ctx.dot_row()?;
    let (kc, vc) = table.assign(ctx.region, at, read.tag, key, key.map(read.lookup))?;
    ctx.region.constrain_equal(kc, rq.out);
    Ok(vc)
}

/// Maps a layout-time evaluation failure (only possible with a witness the reference
/// execution did not produce) to halo2's synthesis error.
pub(crate) fn synth<T>(r: Result<T, EvalError>) -> Result<T, Error> {
    r.map_err(|_| Error::Synthesis)
}
