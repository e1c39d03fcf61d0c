//! The input domain check: the circuit proves that every graph input value lies in its
//! domain `[lo, hi]` ([`crate::ir::Domain`]), so the domain is part of what a proof states.
//!
//! Each value `x` gets two rows of the requant chip ([`crate::chips::requant_row`]), both with
//! the shift equal to the row's aligned width `w` (`b` on a compact row, `2b` otherwise), so
//! the row scales none of its constants and its "rescale" gate reads
//!
//! ```text
//! lower row:  x − lo = y·2^w + rem        upper row:  hi − x = y'·2^w + rem'
//! ```
//! and on each row the output cell `r = s·y` is copy-constrained to `y`. The upper row's `x`
//! is copy-constrained to the lower row's, which is the cell every consumer of the input (and
//! the instance, for a public input) copies.
//!
//! Soundness. The requant chip proves `rem ∈ [0, 2^w)`, `y ∈ [−2^w, 2^w)` and `s = [y ≥ 0]`.
//! The copy `r = y` with `r = s·y` gives `(1 − s)·y = 0`, so `y ≥ 0` (if `y = 0`, "sign"
//! forces `s = 1` anyway). Hence `A = y·2^w + rem` is an integer in `[0, 2^(2w))` and
//! `x − lo = A` in the field; likewise `hi − x = B` with `B` in `[0, 2^(2w))`. Adding,
//! `A + B = hi − lo` in the field, and both sides are integers below `2^(4b+1) < p`, so the
//! equation holds over the integers: `x = lo + A` with `0 ≤ A ≤ hi − lo`. So `x` is an
//! integer (no field element outside the integers passes, since `x − lo` equals the integer
//! `A`) and `lo ≤ x ≤ hi`. The constants `lo` and `hi` sit in fixed columns, so the verifying
//! key fixes them.
//!
//! Completeness: the honest `y = ⌊(x − lo)/2^w⌋` must stay below `2^w`, which holds when
//! `hi − lo < 2^(2w)`; the planner picks a limb width with `2b ≥` the domain's width bits.

use crate::chips::requant_row::{aligned_bits, RequantRow};
use crate::ir::InputSpec;
use crate::ops::{synth, LayoutCtx};
use crate::requant::Requant;
use crate::rows::RowCounter;
use halo2_proofs::circuit::Cell;
use halo2_proofs::plonk::Error;

/// The requantization both rows of a check use in a circuit with limb width `limb_bits`
/// (compact rows when the circuit has them): shift and width `w`, and ReLU, whose output
/// cell is the one copied onto `y`.
pub fn check_requant(limb_bits: u32, compact: bool) -> Requant {
    let w = aligned_bits(compact, limb_bits);
    Requant {
        shift: w,
        bits: w,
        relu: true,
    }
}

/// The honest rows proving `x ∈ [lo, hi]` (`x` is `None` during key generation): the lower
/// row of `x − lo`, the upper row of `hi − x`. The row adds the rounding half itself, so the
/// constants subtract it.
pub fn honest_rows(
    spec: &InputSpec,
    rq: Requant,
    x: Option<i128>,
) -> Result<[RequantRow; 2], crate::EvalError> {
    let (lo, hi) = (spec.domain.lo as i128, spec.domain.hi as i128);
    let half = rq.half();
    let lower = RequantRow::honest(rq, (1, 0, -lo - half), x, None, &spec.name)?;
    let upper = RequantRow::honest(rq, (-1, 0, hi - half), x, None, &spec.name)?;
    Ok([lower, upper])
}

/// Counts the rows of the checks of one input.
pub fn count_rows(spec: &InputSpec, rq: &Requant, rows: &mut RowCounter) {
    for _ in 0..spec.len() {
        rows.requant(rq);
        rows.requant(rq);
    }
}

/// Lays out the two rows of one check; returns the cell holding `x`.
pub fn assign_check(ctx: &mut LayoutCtx<'_, '_>, rows: &[RequantRow; 2]) -> Result<Cell, Error> {
    let mut x = None;
    for row in rows {
        let at = ctx.requant_row(&row.rq)?;
        let cells = ctx.requant.assign(ctx.region, at, row)?;
        ctx.region.constrain_equal(cells.out, cells.y);
        match x {
            None => x = Some(cells.x),
            Some(first) => ctx.region.constrain_equal(first, cells.x),
        }
    }
    x.ok_or(Error::Synthesis)
}

/// Lays out the checks of every value of one input (`values` when proving); returns the
/// input's cells.
pub fn layout(
    ctx: &mut LayoutCtx<'_, '_>,
    spec: &InputSpec,
    values: Option<&[i128]>,
) -> Result<Vec<Cell>, Error> {
    let rq = check_requant(ctx.requant.limb_bits, ctx.requant.compact.is_some());
    (0..spec.len())
        .map(|j| {
            let rows = synth(honest_rows(spec, rq, values.map(|v| v[j])))?;
            assign_check(ctx, &rows)
        })
        .collect()
}

#[cfg(test)]
mod tests;
