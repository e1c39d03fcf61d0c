//! The operator table: every quantized operator zkonnx can prove.
//!
//! Each operator module holds its typed attributes, shape rule, integer reference semantics,
//! constraint layout and tests. [`Op`] is the one place that lists them; the ONNX front end
//! maps op types onto these (see `zkonnx-onnx`'s `lower` module).

pub mod elementwise;
pub mod embedding;
pub mod gather;
pub mod linear;
pub mod matmul;
pub mod reshape;
pub mod sparse_dot;
pub mod table_fn;

use crate::chips::dot::DotConfig;
use crate::chips::fn_table::FnTableConfig;
use crate::chips::freivalds::{FreivaldsConfig, FreivaldsJob};
use crate::chips::requant::RequantConfig;
use crate::error::EvalError;
use crate::requant::Requant;
use crate::Fr;
use halo2_proofs::circuit::{Cell, Region};
use halo2_proofs::plonk::Error;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use elementwise::Elementwise;
pub use embedding::Embedding;
pub use gather::Gather;
pub use linear::Linear;
pub use matmul::MatMul;
pub use reshape::Reshape;
pub use sparse_dot::SparseDot;
pub use table_fn::{FnKind, TableFn};

/// A lowered operator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Op {
    /// `y = x·Wᵀ + b` against constant weights (Gemm, MatMul).
    Linear(Linear),
    /// `y = Σ mul_k·x_k + c`, then requantize and optionally ReLU (Add, Sub, Relu).
    Elementwise(Elementwise),
    /// A view with another shape (Reshape, Flatten, Identity).
    Reshape(Reshape),
    /// Per-output dot products over any input values (Conv, pooling, reductions, …).
    SparseDot(SparseDot),
    /// Copies of input values (Transpose, Concat, Slice, …).
    Gather(Gather),
    /// A nonlinear function by table lookup (Sigmoid, Tanh, Exp, …).
    TableFn(TableFn),
    /// A constant table indexed by an activation (Gather with input indices).
    Embedding(Embedding),
    /// A product of two activation matrices, checked by Freivalds (MatMul, Gemm).
    MatMul(MatMul),
}

/// Identifies one block of the function-table chip.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TableKey {
    /// A function table: the function, domain bits, input scale and output scale.
    Fn(FnKind, u32, u32, u32),
    /// An explicit table of values indexed from 0.
    Values(Vec<i64>),
}

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

    fn check(&self) -> Result<(), Error> {
        if self.rows.used() > self.limit {
            Err(Error::Synthesis)
        } else {
            Ok(())
        }
    }
}

/// Allocates rows: [`LayoutCtx`] lays out with it, the planner counts rows with it, so the
/// plan and the layout cannot disagree.
#[derive(Clone, Copy, Debug, Default)]
pub struct RowCounter {
    /// Main rows.
    pub row: usize,
    /// Range rows.
    pub range_row: usize,
    /// The limb width when the requant chip has compact rows (see
    /// [`crate::chips::requant::range_rows`]).
    pub compact: Option<u32>,
    /// Whether the requant chip is tall (two main rows per requantization).
    pub tall: bool,
}

impl RowCounter {
    /// A counter from row `first` for a circuit with `lanes` dot lanes and, when it has
    /// compact requant rows, limb width `compact`.
    pub fn new(first: usize, lanes: usize, compact: Option<u32>) -> Self {
        Self {
            row: first,
            range_row: 0,
            compact,
            tall: crate::layout::is_tall(lanes),
        }
    }

    /// A dot row; returns it.
    pub fn dot(&mut self) -> usize {
        self.row += 1;
        self.row - 1
    }

    /// A requant row for `rq` and its range rows; returns the requant row.
    pub fn requant(&mut self, rq: &Requant) -> usize {
        let r = self.used();
        self.row = r + crate::chips::requant::main_rows(self.tall);
        self.range_row = r + crate::chips::requant::range_rows(rq, self.compact);
        r
    }

    /// The rows of `dot_then_requant` over `terms` terms: at least one dot row, then the
    /// requant row.
    pub fn dot_then_requant(&mut self, terms: usize, lanes: usize, rq: &Requant) {
        for _ in 0..terms.div_ceil(lanes).max(1) {
            self.dot();
        }
        self.requant(rq);
    }

    /// The rows of `requant_then_lookup`: a requant row, then a table row.
    pub fn requant_then_lookup(&mut self, rq: &Requant) {
        self.requant(rq);
        self.dot();
    }

    /// Rows used.
    pub fn used(&self) -> usize {
        self.row.max(self.range_row)
    }
}

impl Op {
    /// Checks the op against its input shapes and declared output shape.
    pub fn check(&self, inputs: &[&[usize]], out: &[usize]) -> Result<(), String> {
        match self {
            Op::Linear(op) => op.check(inputs, out),
            Op::Elementwise(op) => op.check(inputs, out),
            Op::Reshape(op) => op.check(inputs, out),
            Op::SparseDot(op) => op.check(inputs, out),
            Op::Gather(op) => op.check(inputs, out),
            Op::TableFn(op) => op.check(inputs, out),
            Op::Embedding(op) => op.check(inputs, out),
            Op::MatMul(op) => op.check(inputs, out),
        }
    }

    /// The op's final requantization, if it computes anything.
    pub fn requant(&self) -> Option<Requant> {
        match self {
            Op::Linear(op) => Some(op.requant),
            Op::Elementwise(op) => Some(op.requant),
            Op::SparseDot(op) => Some(op.requant),
            Op::TableFn(op) => Some(op.requant),
            Op::Embedding(op) => Some(op.requant),
            Op::MatMul(op) => Some(op.requant),
            Op::Reshape(_) | Op::Gather(_) => None,
        }
    }

    /// Integer reference semantics.
    pub fn reference(&self, node: &str, inputs: &[&[i128]]) -> Result<Vec<i128>, EvalError> {
        match self {
            Op::Linear(op) => op.reference(node, inputs),
            Op::Elementwise(op) => op.reference(node, inputs),
            Op::Reshape(op) => Ok(op.reference(inputs)),
            Op::SparseDot(op) => op.reference(node, inputs),
            Op::Gather(op) => op.reference(inputs),
            Op::TableFn(op) => op.reference(node, inputs),
            Op::Embedding(op) => op.reference(node, inputs),
            Op::MatMul(op) => op.reference(node, inputs),
        }
    }

    /// Counts the op's rows with `lanes`-wide dot products; `input_len` is the length of
    /// its first input.
    pub fn count_rows(&self, lanes: usize, input_len: usize, rows: &mut RowCounter) {
        match self {
            Op::Linear(op) => op.count_rows(lanes, input_len, rows),
            Op::Elementwise(op) => {
                for _ in 0..op.out_len_of(input_len) {
                    rows.requant(&op.requant);
                }
            }
            Op::SparseDot(op) => op.count_rows(lanes, rows),
            Op::TableFn(op) => op.count_rows(input_len, rows),
            Op::Embedding(op) => op.count_rows(input_len, rows),
            Op::MatMul(op) => op.count_rows(rows),
            Op::Reshape(_) | Op::Gather(_) => {}
        }
    }

    /// Lays the op out; returns its output cells.
    pub fn layout(
        &self,
        ctx: &mut LayoutCtx<'_, '_>,
        node: &str,
        inputs: &[&[Cell]],
        values: Option<&[&[i128]]>,
    ) -> Result<Vec<Cell>, Error> {
        match self {
            Op::Linear(op) => op.layout(ctx, node, inputs, values),
            Op::Elementwise(op) => op.layout(ctx, node, inputs, values),
            Op::Reshape(_) => Ok(inputs[0].to_vec()),
            Op::SparseDot(op) => op.layout(ctx, node, inputs, values),
            Op::Gather(op) => Ok(op.layout(inputs)),
            Op::TableFn(op) => {
                let tag = *ctx.fn_tags.get(&op.key()).ok_or(Error::Synthesis)?;
                op.layout(ctx, node, tag, inputs, values)
            }
            Op::Embedding(op) => {
                let tag = *ctx.fn_tags.get(&op.key()).ok_or(Error::Synthesis)?;
                op.layout(ctx, node, tag, inputs, values)
            }
            Op::MatMul(op) => op.layout(ctx, node, inputs, values),
        }
    }

    /// The lookup table the op reads, with its rows.
    pub fn table(&self) -> Option<(TableKey, Vec<(i128, i128)>)> {
        match self {
            Op::TableFn(op) => Some((op.key(), op.table_rows())),
            Op::Embedding(op) => Some((op.key(), op.table_rows())),
            _ => None,
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
    use crate::chips::requant::RequantRow;
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

/// Lays out a requant row of `mul·x + add` (its input copy-constrained to `cell`) and a
/// function-table row of block `tag` that looks up its output; `lookup` gives the honest
/// table value of a key. Returns the table output cell. Shared by the ops that read tables.
pub(crate) fn requant_then_lookup(
    ctx: &mut LayoutCtx<'_, '_>,
    node: &str,
    tag: u32,
    requant: Requant,
    (mul, add): (i128, i128),
    (cell, x): (Cell, Option<i128>),
    lookup: impl Fn(i128) -> i128,
) -> Result<Cell, Error> {
    use crate::chips::requant::RequantRow;
    let table = ctx.fn_table.ok_or(Error::Synthesis)?;
    let row = synth(RequantRow::honest(requant, (mul, 0, add), x, None, node))?;
    let at = ctx.requant_row(&requant)?;
    let rq = ctx.requant.assign(ctx.region, at, &row)?;
    ctx.region.constrain_equal(rq.x, cell);
    let key = row.w.map(|w| w.out);
    let at = ctx.dot_row()?;
    let (kc, vc) = table.assign(ctx.region, at, tag, key, key.map(lookup))?;
    ctx.region.constrain_equal(kc, rq.out);
    Ok(vc)
}

/// Maps a layout-time evaluation failure (only possible with a witness the reference
/// execution did not produce) to halo2's synthesis error.
pub(crate) fn synth<T>(r: Result<T, EvalError>) -> Result<T, Error> {
    r.map_err(|_| Error::Synthesis)
}

#[cfg(test)]
pub(crate) mod test_support;
