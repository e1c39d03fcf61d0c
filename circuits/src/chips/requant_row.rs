//! The requantization chip: one row per value, plus two or four cells of the range column
//! `R`, proves
//!
//! ```text
//! "rescale": x·x2·mul_ab + x·mul_a + x2·mul_b + add = y·2^(2b) + R[0] + R[1]·2^b
//! "sign":    y + 2^(2b) = s·2^(2b) + R[2] + R[3]·2^b
//! "bool":    s·(s - 1) = 0
//! "relu":    r = s·y
//! lookup:    R ∈ [0, 2^b), on every row
//! ```
//! where `R[i]` is the range column at rotation `i`, `b` is the circuit's limb width, and
//! `mul_a`, `mul_b`, `add` and `mul_ab` are fixed columns (`mul_ab` only in circuits that
//! multiply two activations). The output cell is `y` on a plain row and `r` on a ReLU row;
//! every row computes both, so the chip needs one selector, which halo2 packs with the dot
//! chip's into one fixed column (a plain/ReLU selector pair cost a second one).
//!
//! **Aligned shifts.** A requantization divides by `2^shift` with `shift ≤ 2b` (the planner
//! picks `b ≥ ⌈widest/2⌉`). The row multiplies its constants by `2^e`, `e = 2b − shift`,
//! which leaves the rounded quotient unchanged (`(pre + 2^(shift−1))·2^e / 2^(2b)`), so every
//! row divides by `2^(2b)` and every limb is a full `b`-bit limb: the range table is one
//! column `0 … 2^b − 1` with no width tags, and no column holds `2^shift` or `2^bits`.
//! The domain check proves `y ∈ [−2^(2b), 2^(2b))`, at least the calibrated domain
//! (`bits ≤ 2b`); a larger bound keeps every value, sum and product far below the field
//! size, which is what soundness needs (the calibrated domain itself is enforced by the
//! reference execution that makes the witness, and by the tables an out-of-domain key
//! cannot match).
//!
//! **Compact rows.** A circuit built with `compact` has one more fixed column `C`. On a row
//! with `C = 1` (only where `shift ≤ b` and `bits ≤ b`) one limb each suffices, and the row
//! aligns to `b` instead of `2b`:
//!
//! ```text
//! "rescale": … = y·2^b + R[0]               "sign": y + 2^b = s·2^b + R[1]
//! ```
//! (the gates read `R[0] + (1−C)·R[1]·2^b`, `(1−C)·(R[2] + R[3]·2^b) + C·R[1]` and the power
//! `(1−C)·2^(2b) + C·2^b`), so the row takes two cells of `R` and the next requantization
//! can start two rows later: the range column, which bounds how many values a circuit can
//! requantize, holds twice as many. `C` is fixed, so the prover cannot choose which form a
//! row uses.
//!
//! **Two shapes.** Wide: `x, x2, out, y, s` sit in five advice columns of one row. Tall:
//! `x, x2, out` in three columns, and `y, s` in the first two of them on the next row, which
//! the layout reserves (two main rows per requantization). The tall shape is used when the
//! dot chip is narrower than five columns (`W < 4`): each advice column is a committed
//! polynomial the on-chain verifier pays ~6.4k gas for, and the range column, which takes two
//! to four rows per requantization anyway, usually hides the second row. The constraints are
//! the same polynomials in both shapes; only where `y` and `s` are read differs.
//!
//! Soundness: the lookup puts `rem = R[0] + R[1]·2^b` and `m = R[2] + R[3]·2^b` in
//! `[0, 2^(2b))` (compact rows: `rem = R[0]`, `m = R[1]` in `[0, 2^b)`). With `s` boolean,
//! "sign" then forces `y ∈ [-2^(2b), 2^(2b))` and `s = [y ≥ 0]`. Since `2^(4b+1) < p`, the pair
//! `(y, rem)` in these ranges is unique for a given left side of "rescale", so `y` is the
//! rounded quotient and `out` is fixed by `x`, `x2` and the fixed columns. The layout gives
//! every requant row its `R` rows. No cell the output depends on is free.

use super::range_table::RangeTableConfig;
use super::value;
use crate::fixed_point::to_field;
use crate::requant::{Requant, RequantWitness};
use crate::Fr;
use halo2_proofs::circuit::{Cell, Region};
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector};
use halo2_proofs::poly::Rotation;

/// Main advice columns of the wide shape (besides the range column): `x, x2, r, y, s`.
pub const ADVICE: usize = 5;
/// Main advice columns of the tall shape: `x, x2, r`, with `y, s` in the first two of
/// them on the next row.
pub const TALL_ADVICE: usize = 3;
/// Rows of the range column one requantization takes (two on a compact row).
pub const RANGE_ROWS: usize = 4;

/// Main rows one requantization takes: 1 in the wide shape, 2 in the tall one.
pub fn main_rows(tall: bool) -> usize {
    1 + usize::from(tall)
}

/// True if `rq` uses a compact row in a circuit whose compact limb width is `compact`.
pub fn is_compact(rq: &Requant, compact: Option<u32>) -> bool {
    compact.is_some_and(|b| rq.shift <= b && rq.bits <= b)
}

/// Rows of the range column `rq` takes.
pub fn range_rows(rq: &Requant, compact: Option<u32>) -> usize {
    if is_compact(rq, compact) {
        2
    } else {
        RANGE_ROWS
    }
}

/// Columns of the requant chip.
#[derive(Clone, Debug)]
pub struct RequantConfig {
    /// Enables every gate of the chip.
    pub q: Selector,
    /// Advice: x, x2, r = s·y (and y, s in the wide shape).
    pub advice: Vec<Column<Advice>>,
    /// Where `y` and `s` are: (column, rotation from the row).
    pub ys: [(Column<Advice>, i32); 2],
    /// The range column `R`.
    pub range: Column<Advice>,
    /// Fixed: mul_a, mul_b, add (scaled to the row's limb-aligned shift).
    pub fixed: [Column<Fixed>; 3],
    /// Coefficient of the product `x·x2`, when the circuit multiplies activations.
    pub product: Option<Column<Fixed>>,
    /// 1 on compact rows, when the circuit has them.
    pub compact: Option<Column<Fixed>>,
    /// Limb width `b`.
    pub limb_bits: u32,
}

impl RequantConfig {
    /// The fixed columns only the requant gates read: on rows without a requantization they
    /// are free for another chip ([`super::dot`]).
    pub fn gate_fixed(&self) -> Vec<Column<Fixed>> {
        self.fixed
            .iter()
            .copied()
            .chain(self.product)
            .chain(self.compact)
            .collect()
    }
}

/// Indices into [`RequantConfig::advice`].
mod a {
    pub const X: usize = 0;
    pub const X2: usize = 1;
    pub const RELU: usize = 2;
}

/// Indices into [`RequantConfig::fixed`].
mod f {
    pub const MUL_A: usize = 0;
    pub const MUL_B: usize = 1;
    pub const ADD: usize = 2;
}

/// The limb-aligned width a row uses for `rem` and for `m`: one limb (`b`) on a compact
/// row, two (`2b`) otherwise.
pub fn aligned_bits(compact_row: bool, limb_bits: u32) -> u32 {
    if compact_row {
        limb_bits
    } else {
        2 * limb_bits
    }
}

/// Everything one requant row holds. Honest rows come from [`RequantRow::honest`]; tests
/// alter fields to build malicious witnesses.
#[derive(Clone, Debug)]
pub struct RequantRow {
    /// Multiplier of the first input.
    pub mul_a: i128,
    /// Multiplier of the second input (0 if there is none).
    pub mul_b: i128,
    /// Constant added before the shift (without the rounding half).
    pub add: i128,
    /// Coefficient of the product `x·x2` (0 unless the op multiplies activations).
    pub mul_ab: i128,
    /// Shift, domain and ReLU flag.
    pub rq: Requant,
    /// First input.
    pub x: Option<i128>,
    /// Second input.
    pub x2: Option<i128>,
    /// The decomposition (`None` during key generation).
    pub w: Option<RequantWitness>,
}

impl RequantRow {
    /// The honest row for inputs `x`, `x2`, computed with [`Requant::apply`].
    pub fn honest(
        rq: Requant,
        (mul_a, mul_b, add): (i128, i128, i128),
        x: Option<i128>,
        x2: Option<i128>,
        node: &str,
    ) -> Result<Self, crate::EvalError> {
        let w = match x {
            Some(x) => Some(rq.apply(x * mul_a + x2.unwrap_or(0) * mul_b + add, node)?),
            None => None,
        };
        Ok(Self {
            mul_a,
            mul_b,
            add,
            mul_ab: 0,
            rq,
            x,
            x2: x2.or(x.map(|_| 0)),
            w,
        })
    }
}

impl RequantRow {
    /// The honest row of `x·x2·mul_ab + x·mul_a + x2·mul_b + add`.
    pub fn honest_product(
        rq: Requant,
        (mul_a, mul_b, mul_ab, add): (i128, i128, i128, i128),
        x: Option<i128>,
        x2: Option<i128>,
        node: &str,
    ) -> Result<Self, crate::EvalError> {
        let mut row = Self::honest(rq, (mul_a, mul_b, add), x, x2, node)?;
        row.mul_ab = mul_ab;
        if let (Some(x), Some(x2)) = (x, x2) {
            row.w = Some(rq.apply(x * x2 * mul_ab + x * mul_a + x2 * mul_b + add, node)?);
        }
        Ok(row)
    }
}

/// Cells of one assigned row that other rows copy from or to.
#[derive(Clone, Copy, Debug)]
pub struct RequantCells {
    /// First input.
    pub x: Cell,
    /// Second input.
    pub x2: Cell,
    /// The rounded quotient `y`.
    pub y: Cell,
    /// Output.
    pub out: Cell,
}

impl RequantConfig {
    /// Creates the gates and the range lookup over `advice`: [`ADVICE`] columns give the
    /// wide shape, [`TALL_ADVICE`] the tall one (`y`, `s` on the next row).
    pub fn configure(
        meta: &mut ConstraintSystem<Fr>,
        advice: &[Column<Advice>],
        range: Column<Advice>,
        table: RangeTableConfig,
        limb_bits: u32,
        products: bool,
        compact: bool,
    ) -> Self {
        let q = meta.selector();
        let fixed = [(); 3].map(|_| meta.fixed_column());
        let product = products.then(|| meta.fixed_column());
        let compact = compact.then(|| meta.fixed_column());
        let limb = Expression::Constant(to_field(1i128 << limb_bits));
        let two_limbs = Expression::Constant(to_field(1i128 << (2 * limb_bits)));
        let ys = if advice.len() >= ADVICE {
            [(advice[3], 0), (advice[4], 0)]
        } else {
            [(advice[0], 1), (advice[1], 1)]
        };
        let advice = advice[..TALL_ADVICE].to_vec();
        meta.create_gate("requant", |m| {
            let q = m.query_selector(q);
            let adv: Vec<_> = advice
                .iter()
                .map(|c| m.query_advice(*c, Rotation::cur()))
                .collect();
            let [y, s] = ys.map(|(c, r)| m.query_advice(c, Rotation(r)));
            let r: Vec<_> = (0..RANGE_ROWS as i32)
                .map(|i| m.query_advice(range, Rotation(i)))
                .collect();
            let fx = fixed.map(|c| m.query_fixed(c, Rotation::cur()));
            let one = Expression::Constant(Fr::one());
            let c = compact.map_or(Expression::Constant(Fr::zero()), |c| {
                m.query_fixed(c, Rotation::cur())
            });
            let wide = one.clone() - c.clone();
            // 2^(2b) on a two-limb row, 2^b on a compact row: both shift and domain.
            let pow = wide.clone() * two_limbs.clone() + c.clone() * limb.clone();
            let prod = product.map_or(Expression::Constant(Fr::zero()), |c| {
                m.query_fixed(c, Rotation::cur()) * adv[a::X].clone() * adv[a::X2].clone()
            });
            let rescale = prod
                + adv[a::X].clone() * fx[f::MUL_A].clone()
                + adv[a::X2].clone() * fx[f::MUL_B].clone()
                + fx[f::ADD].clone()
                - y.clone() * pow.clone()
                - r[0].clone()
                - wide.clone() * r[1].clone() * limb.clone();
            let sign = y.clone() + pow.clone()
                - s.clone() * pow
                - wide * (r[2].clone() + r[3].clone() * limb.clone())
                - c * r[1].clone();
            let boolean = s.clone() * (s.clone() - one);
            let relu = adv[a::RELU].clone() - s * y;
            vec![
                ("rescale", q.clone() * rescale),
                ("sign", q.clone() * sign),
                ("bool", q.clone() * boolean),
                ("relu", q * relu),
            ]
        });
        meta.lookup("limb range", |m| {
            vec![(m.query_advice(range, Rotation::cur()), table.value)]
        });
        Self {
            q,
            advice,
            ys,
            range,
            fixed,
            product,
            compact,
            limb_bits,
        }
    }

    /// Assigns one requantization at `offset` (its range limbs at `offset..offset + 4`, or
    /// `offset..offset + 2` on a compact row).
    pub fn assign(
        &self,
        region: &mut Region<'_, Fr>,
        offset: usize,
        row: &RequantRow,
    ) -> Result<RequantCells, Error> {
        self.q.enable(region, offset)?;
        let b = self.limb_bits;
        let compact = is_compact(&row.rq, self.compact.map(|_| b));
        let width = aligned_bits(compact, b);
        if row.rq.shift > width || row.rq.bits > width {
            return Err(Error::Synthesis);
        }
        // Scaling the numerator by 2^e moves the shift to the aligned width without changing
        // the rounded quotient: (pre + 2^(s-1))·2^e / 2^(s+e) = (pre + 2^(s-1)) / 2^s.
        let scale = to_field(1i128 << (width - row.rq.shift));
        let fixed_vals = [row.mul_a, row.mul_b, row.add + row.rq.half()];
        for (col, v) in self.fixed.iter().zip(fixed_vals) {
            region.assign_fixed(*col, offset, to_field(v) * scale);
        }
        match (self.product, row.mul_ab) {
            (Some(col), v) => {
                region.assign_fixed(col, offset, to_field(v) * scale);
            }
            (None, 0) => {}
            (None, _) => return Err(Error::Synthesis),
        }
        if let Some(col) = self.compact {
            region.assign_fixed(col, offset, to_field(compact as i128));
        }
        let w = row.w;
        // rem·2^e in [0, 2^width); m = y + 2^width − s·2^width in [0, 2^width) iff y is in
        // [−2^width, 2^width) with sign s.
        let rem = w.map(|w| w.rem << (width - row.rq.shift));
        let mag = w.map(|w| w.y + (1i128 << width) * (1 - w.sign as i128));
        let split = |v: i128| (v & ((1i128 << b) - 1), v >> b);
        let limbs = if compact {
            vec![rem, mag]
        } else {
            vec![
                rem.map(|r| split(r).0),
                rem.map(|r| split(r).1),
                mag.map(|m| split(m).0),
                mag.map(|m| split(m).1),
            ]
        };
        for (i, v) in limbs.into_iter().enumerate() {
            region.assign_advice(self.range, offset + i, value(v));
        }
        let mut cell = |col: Column<Advice>, at: usize, v: Option<i128>| {
            region.assign_advice(col, at, value(v)).cell()
        };
        let x = cell(self.advice[a::X], offset, row.x);
        let x2 = cell(self.advice[a::X2], offset, row.x2);
        // r = s·y on every row; a ReLU row's output is r (the witness's `out`, which tests
        // alter), a plain row's is y.
        let r = w.map(|w| {
            if row.rq.relu {
                w.out
            } else {
                w.y * w.sign as i128
            }
        });
        let relu = cell(self.advice[a::RELU], offset, r);
        let [(yc, yr), (sc, sr)] = self.ys;
        let y = cell(yc, offset + yr as usize, w.map(|w| w.y));
        cell(sc, offset + sr as usize, w.map(|w| w.sign as i128));
        let out = if row.rq.relu { relu } else { y };
        Ok(RequantCells { x, x2, y, out })
    }
}

#[cfg(test)]
mod tests;
