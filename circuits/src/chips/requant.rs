//! The requantization chip: one row per value, plus four cells of the range column `R`,
//! proves
//!
//! ```text
//! "rescale": x·x2·mul_ab + x·mul_a + x2·mul_b + add = y·2^shift + R[0] + R[1]·2^b
//! "sign":    y + 2^bits = s·2^bits + R[2] + R[3]·2^b
//! "bool":    s·(s - 1) = 0
//! "out":     out = y          (plain rows)
//! "out relu": out = s·y       (ReLU rows)
//! lookup:    (TAG, R) ∈ range table, on every row
//! ```
//! where `R[i]` is the range column at rotation `i`, `TAG` is a fixed column holding each
//! limb's width (`min(shift, b)`, `shift - min(shift, b)`, then the same for `bits`; 0 on rows
//! without a limb, which forces `R = 0` there), `mul_a`, `mul_b`, `add` (which includes the
//! rounding constant `2^(shift-1)`), `2^shift` and `2^bits` are fixed columns, and `b` is the
//! circuit's limb width; `mul_ab` is a fixed column present only in circuits that multiply
//! two activations. One lookup argument without a selector serves every range check.
//!
//! **Compact rows.** A circuit built with `compact` has one more fixed column `C`. On a row
//! with `C = 1` (only where `shift ≤ b` and `bits ≤ b`) one limb each suffices:
//!
//! ```text
//! "rescale": … = y·2^shift + R[0]               "sign": y + 2^bits = s·2^bits + R[1]
//! ```
//! (the gates read `R[0] + (1−C)·R[1]·2^b` and `(1−C)·(R[2] + R[3]·2^b) + C·R[1]`), so the row
//! takes two cells of `R` and the next requantization can start two rows later: the range
//! column, which bounds how many values a circuit can requantize, holds twice as many.
//! `C` is fixed, so the prover cannot choose which form a row uses.
//!
//! **Two shapes.** Wide: `x, x2, out, y, s` sit in five advice columns of one row. Tall:
//! `x, x2, out` in three columns, and `y, s` in the first two of them on the next row, which
//! the layout reserves (two main rows per requantization). The tall shape is used when the
//! dot chip is narrower than five columns (`W < 4`): each advice column is a committed
//! polynomial the on-chain verifier pays ~6.4k gas for, and the range column, which takes two
//! to four rows per requantization anyway, usually hides the second row. The constraints are
//! the same polynomials in both shapes; only where `y` and `s` are read differs.
//!
//! Soundness: the lookup puts `rem = R[0] + R[1]·2^b` in `[0, 2^shift)` and
//! `m = R[2] + R[3]·2^b` in `[0, 2^bits)` (compact rows: `rem = R[0]`, `m = R[1]`, each
//! looked up at its full width). With `s` boolean, "sign" then forces
//! `y ∈ [-2^bits, 2^bits)` and `s = [y ≥ 0]`. Since `2^(bits+shift+1) < p`, the pair
//! `(y, rem)` in these ranges is unique for a given left side of "rescale", so `y` is the
//! rounded quotient and `out` is fixed by `x`, `x2` and the fixed columns. The layout gives
//! every requant row four `R` rows of its own. No cell the output depends on is free.

use super::range_table::RangeTableConfig;
use super::value;
use crate::fixed_point::to_field;
use crate::requant::{Requant, RequantWitness};
use crate::Fr;
use halo2_proofs::circuit::{Cell, Region};
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector};
use halo2_proofs::poly::Rotation;

/// Main advice columns of the wide shape (besides the range column): `x, x2, out, y, s`.
pub const ADVICE: usize = 5;
/// Main advice columns of the tall shape: `x, x2, out`, with `y, s` in the first two of
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
    /// Enables "rescale", "sign" and "bool" on every requant row.
    pub q: Selector,
    /// Enables output `y`.
    pub q_plain: Selector,
    /// Enables output `s·y` (ReLU).
    pub q_relu: Selector,
    /// Advice: x, x2, out (and y, s in the wide shape).
    pub advice: Vec<Column<Advice>>,
    /// Where `y` and `s` are: (column, rotation from the row).
    pub ys: [(Column<Advice>, i32); 2],
    /// The range column `R`.
    pub range: Column<Advice>,
    /// Fixed: mul_a, mul_b, add, 2^shift, 2^bits.
    pub fixed: [Column<Fixed>; 5],
    /// Limb widths looked up with `R`.
    pub tag: Column<Fixed>,
    /// Coefficient of the product `x·x2`, when the circuit multiplies activations.
    pub product: Option<Column<Fixed>>,
    /// 1 on compact rows, when the circuit has them.
    pub compact: Option<Column<Fixed>>,
    /// Limb width `b`.
    pub limb_bits: u32,
}

impl RequantConfig {
    /// The fixed columns only the requant gates read (not the lookup's `TAG`): on rows
    /// without a requantization they are free for another chip ([`super::dot`]).
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
    pub const OUT: usize = 2;
}

/// Indices into [`RequantConfig::fixed`].
mod f {
    pub const MUL_A: usize = 0;
    pub const MUL_B: usize = 1;
    pub const ADD: usize = 2;
    pub const POW_SHIFT: usize = 3;
    pub const POW_BITS: usize = 4;
}

/// The limb widths `(lo, hi)` a `width`-bit range check uses with `b`-bit limbs.
pub fn limb_widths(width: u32, limb_bits: u32) -> (u32, u32) {
    let lo = width.min(limb_bits);
    (lo, width - lo)
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
        let (q, q_plain, q_relu) = (meta.selector(), meta.selector(), meta.selector());
        let fixed = [(); 5].map(|_| meta.fixed_column());
        let tag = meta.fixed_column();
        let product = products.then(|| meta.fixed_column());
        let compact = compact.then(|| meta.fixed_column());
        let limb = Expression::Constant(to_field(1i128 << limb_bits));
        let ys = if advice.len() >= ADVICE {
            [(advice[3], 0), (advice[4], 0)]
        } else {
            [(advice[0], 1), (advice[1], 1)]
        };
        let advice = advice[..TALL_ADVICE].to_vec();
        meta.create_gate("requant", |m| {
            let (qp, qr) = (m.query_selector(q_plain), m.query_selector(q_relu));
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
            let prod = product.map_or(Expression::Constant(Fr::zero()), |c| {
                m.query_fixed(c, Rotation::cur()) * adv[a::X].clone() * adv[a::X2].clone()
            });
            let rescale = prod
                + adv[a::X].clone() * fx[f::MUL_A].clone()
                + adv[a::X2].clone() * fx[f::MUL_B].clone()
                + fx[f::ADD].clone()
                - y.clone() * fx[f::POW_SHIFT].clone()
                - r[0].clone()
                - wide.clone() * r[1].clone() * limb.clone();
            let sign = y.clone() + fx[f::POW_BITS].clone()
                - s.clone() * fx[f::POW_BITS].clone()
                - wide * (r[2].clone() + r[3].clone() * limb.clone())
                - c * r[1].clone();
            let boolean = s.clone() * (s.clone() - one);
            let plain = qp * (adv[a::OUT].clone() - y.clone());
            let relu = qr * (adv[a::OUT].clone() - s * y);
            vec![
                ("rescale", q.clone() * rescale),
                ("sign", q.clone() * sign),
                ("bool", q * boolean),
                ("out", plain),
                ("out relu", relu),
            ]
        });
        meta.lookup_any("limb range", |m| {
            let t = m.query_fixed(tag, Rotation::cur());
            let v = m.query_advice(range, Rotation::cur());
            let tt = m.query_fixed(table.tag.inner(), Rotation::cur());
            let tv = m.query_fixed(table.value.inner(), Rotation::cur());
            vec![(t, tt), (v, tv)]
        });
        Self {
            q,
            q_plain,
            q_relu,
            advice,
            ys,
            range,
            fixed,
            tag,
            product,
            compact,
            limb_bits,
        }
    }

    /// True in the tall shape.
    pub fn is_tall(&self) -> bool {
        self.ys[0].1 != 0
    }

    /// Main rows one requantization takes in this circuit.
    pub fn main_rows(&self) -> usize {
        main_rows(self.is_tall())
    }

    /// Rows of the range column `rq` takes in this circuit.
    pub fn range_rows(&self, rq: &Requant) -> usize {
        range_rows(rq, self.compact.map(|_| self.limb_bits))
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
        let out = if row.rq.relu {
            &self.q_relu
        } else {
            &self.q_plain
        };
        out.enable(region, offset)?;
        let b = self.limb_bits;
        let (r_lo_w, r_hi_w) = limb_widths(row.rq.shift, b);
        let (m_lo_w, m_hi_w) = limb_widths(row.rq.bits, b);
        let fixed_vals = [
            row.mul_a,
            row.mul_b,
            row.add + row.rq.half(),
            1i128 << row.rq.shift,
            1i128 << row.rq.bits,
        ];
        for (col, v) in self.fixed.iter().zip(fixed_vals) {
            region.assign_fixed(*col, offset, to_field(v));
        }
        match (self.product, row.mul_ab) {
            (Some(col), v) => {
                region.assign_fixed(col, offset, to_field(v));
            }
            (None, 0) => {}
            (None, _) => return Err(Error::Synthesis),
        }
        let split = |v: i128, lo_w: u32| (v & ((1i128 << lo_w) - 1), v >> lo_w);
        let w = row.w;
        let rem = w.map(|w| split(w.rem, r_lo_w));
        let mag = w.map(|w| split(w.mag, m_lo_w));
        let compact = is_compact(&row.rq, self.compact.map(|_| b));
        if let Some(col) = self.compact {
            region.assign_fixed(col, offset, to_field(compact as i128));
        }
        let limbs = if compact {
            vec![
                (row.rq.shift, w.map(|w| w.rem)),
                (row.rq.bits, w.map(|w| w.mag)),
            ]
        } else {
            vec![
                (r_lo_w, rem.map(|r| r.0)),
                (r_hi_w, rem.map(|r| r.1)),
                (m_lo_w, mag.map(|m| m.0)),
                (m_hi_w, mag.map(|m| m.1)),
            ]
        };
        for (i, (width, v)) in limbs.into_iter().enumerate() {
            region.assign_fixed(self.tag, offset + i, to_field(width as i128));
            region.assign_advice(self.range, offset + i, value(v));
        }
        let mut cell = |col: Column<Advice>, at: usize, v: Option<i128>| {
            region.assign_advice(col, at, value(v)).cell()
        };
        let x = cell(self.advice[a::X], offset, row.x);
        let x2 = cell(self.advice[a::X2], offset, row.x2);
        let out = cell(self.advice[a::OUT], offset, w.map(|w| w.out));
        let [(yc, yr), (sc, sr)] = self.ys;
        cell(yc, offset + yr as usize, w.map(|w| w.y));
        cell(sc, offset + sr as usize, w.map(|w| w.sign as i128));
        Ok(RequantCells { x, x2, out })
    }
}
