//! The requantization chip: one row per value proves
//!
//! ```text
//! "rescale": x·mul_a + x2·mul_b + add = y·2^shift + r_lo + r_hi·2^b
//! "sign":    y + 2^bits = s·2^bits + m_lo + m_hi·2^b
//! "bool":    s·(s - 1) = 0
//! "out":     out = y + relu·(s·y - y)
//! lookups:   (tag_r_lo, r_lo), (tag_r_hi, r_hi), (tag_m_lo, m_lo), (tag_m_hi, m_hi) ∈ range table
//! ```
//! where `mul_a`, `mul_b`, `add` (which includes the rounding constant `2^(shift-1)`),
//! `2^shift`, `2^bits`, `relu` and the four tags are fixed columns, and `b` is the circuit's
//! limb width. The tags are the limb widths: `min(shift, b)` and `shift - min(shift, b)`, and
//! the same for `bits`.
//!
//! Soundness: the lookups put `rem = r_lo + r_hi·2^b` in `[0, 2^shift)` and
//! `m = m_lo + m_hi·2^b` in `[0, 2^bits)`. With `s` boolean, "sign" then forces
//! `y ∈ [-2^bits, 2^bits)` and `s = [y ≥ 0]`. Since `2^(bits+shift+1) < p`, the pair
//! `(y, rem)` in these ranges is unique for a given left side of "rescale", so `y` is the
//! rounded quotient and `out` is fixed by `x`, `x2` and the fixed columns. No cell the output
//! depends on is free.

use super::range_table::RangeTableConfig;
use super::value;
use crate::fixed_point::to_field;
use crate::requant::{Requant, RequantWitness};
use crate::Fr;
use halo2_proofs::circuit::{Cell, Region};
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector};
use halo2_proofs::poly::Rotation;

/// Number of advice columns the chip uses.
pub const ADVICE: usize = 9;

/// Columns of the requant chip.
#[derive(Clone, Debug)]
pub struct RequantConfig {
    /// Enables the gates and lookups.
    pub q: Selector,
    /// Advice: x, x2, y, r_lo, r_hi, s, m_lo, m_hi, out.
    pub advice: [Column<Advice>; ADVICE],
    /// Fixed: mul_a, mul_b, add, 2^shift, 2^bits, relu, tag_r_lo, tag_r_hi, tag_m_lo, tag_m_hi.
    pub fixed: [Column<Fixed>; 10],
    /// Limb width `b`.
    pub limb_bits: u32,
}

/// Indices into [`RequantConfig::advice`].
mod a {
    pub const X: usize = 0;
    pub const X2: usize = 1;
    pub const Y: usize = 2;
    pub const R_LO: usize = 3;
    pub const R_HI: usize = 4;
    pub const S: usize = 5;
    pub const M_LO: usize = 6;
    pub const M_HI: usize = 7;
    pub const OUT: usize = 8;
}

/// Indices into [`RequantConfig::fixed`].
mod f {
    pub const MUL_A: usize = 0;
    pub const MUL_B: usize = 1;
    pub const ADD: usize = 2;
    pub const POW_SHIFT: usize = 3;
    pub const POW_BITS: usize = 4;
    pub const RELU: usize = 5;
    pub const TAGS: usize = 6;
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
            rq,
            x,
            x2: x2.or(x.map(|_| 0)),
            w,
        })
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
    /// Creates the gates and the four lookups.
    pub fn configure(
        meta: &mut ConstraintSystem<Fr>,
        advice: [Column<Advice>; ADVICE],
        table: RangeTableConfig,
        limb_bits: u32,
    ) -> Self {
        let q = meta.complex_selector();
        let fixed = [(); 10].map(|_| meta.fixed_column());
        let limb = Expression::Constant(to_field(1i128 << limb_bits));
        meta.create_gate("requant", |m| {
            let q = m.query_selector(q);
            let adv = advice.map(|c| m.query_advice(c, Rotation::cur()));
            let fx = fixed.map(|c| m.query_fixed(c, Rotation::cur()));
            let one = Expression::Constant(Fr::one());
            let rescale = adv[a::X].clone() * fx[f::MUL_A].clone()
                + adv[a::X2].clone() * fx[f::MUL_B].clone()
                + fx[f::ADD].clone()
                - adv[a::Y].clone() * fx[f::POW_SHIFT].clone()
                - adv[a::R_LO].clone()
                - adv[a::R_HI].clone() * limb.clone();
            let sign = adv[a::Y].clone() + fx[f::POW_BITS].clone()
                - adv[a::S].clone() * fx[f::POW_BITS].clone()
                - adv[a::M_LO].clone()
                - adv[a::M_HI].clone() * limb.clone();
            let boolean = adv[a::S].clone() * (adv[a::S].clone() - one);
            let out = adv[a::OUT].clone()
                - adv[a::Y].clone()
                - fx[f::RELU].clone() * (adv[a::S].clone() * adv[a::Y].clone() - adv[a::Y].clone());
            vec![
                ("rescale", q.clone() * rescale),
                ("sign", q.clone() * sign),
                ("bool", q.clone() * boolean),
                ("out", q * out),
            ]
        });
        let limbs = [(a::R_LO, 0), (a::R_HI, 1), (a::M_LO, 2), (a::M_HI, 3)];
        for (col, tag) in limbs {
            meta.lookup("limb range", |m| {
                let q = m.query_selector(q);
                let t = m.query_fixed(fixed[f::TAGS + tag], Rotation::cur());
                let v = m.query_advice(advice[col], Rotation::cur());
                vec![(t, table.tag), (q * v, table.value)]
            });
        }
        Self {
            q,
            advice,
            fixed,
            limb_bits,
        }
    }

    /// Assigns one row at `offset`.
    pub fn assign(
        &self,
        region: &mut Region<'_, Fr>,
        offset: usize,
        row: &RequantRow,
    ) -> Result<RequantCells, Error> {
        self.q.enable(region, offset)?;
        let b = self.limb_bits;
        let (r_lo_w, r_hi_w) = limb_widths(row.rq.shift, b);
        let (m_lo_w, m_hi_w) = limb_widths(row.rq.bits, b);
        let fixed_vals = [
            row.mul_a,
            row.mul_b,
            row.add + row.rq.half(),
            1i128 << row.rq.shift,
            1i128 << row.rq.bits,
            row.rq.relu as i128,
            r_lo_w as i128,
            r_hi_w as i128,
            m_lo_w as i128,
            m_hi_w as i128,
        ];
        for (col, v) in self.fixed.iter().zip(fixed_vals) {
            region.assign_fixed(*col, offset, to_field(v));
        }
        let split = |v: i128, lo_w: u32| (v & ((1i128 << lo_w) - 1), v >> lo_w);
        let w = row.w;
        let rem = w.map(|w| split(w.rem, r_lo_w));
        let mag = w.map(|w| split(w.mag, m_lo_w));
        let vals = [
            row.x,
            row.x2,
            w.map(|w| w.y),
            rem.map(|r| r.0),
            rem.map(|r| r.1),
            w.map(|w| w.sign as i128),
            mag.map(|m| m.0),
            mag.map(|m| m.1),
            w.map(|w| w.out),
        ];
        let mut cells = [None; ADVICE];
        for (i, (col, v)) in self.advice.iter().zip(vals).enumerate() {
            cells[i] = Some(region.assign_advice(*col, offset, value(v)).cell());
        }
        let cell = |i: usize| cells[i].ok_or(Error::Synthesis);
        Ok(RequantCells {
            x: cell(a::X)?,
            x2: cell(a::X2)?,
            out: cell(a::OUT)?,
        })
    }
}
