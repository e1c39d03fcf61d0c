//! Elementwise affine ops with requantization: Add, Sub, Add of a constant (bias, with
//! broadcast), and Relu. `y[j] = requant(Σ_k mul_k·x_k[idx_k[j]] + c[j])`.
//!
//! Layout: one requant row per output value; its `x` (and `x2`) are copy-constrained to the
//! input cells the broadcast index names. Relu is the requant row's `relu` flag: the output
//! is `s·y` with `s` the proven sign of `y`.
//!
//! Soundness: see the requant chip; the inputs are copies of range-checked cells, the
//! multipliers and constant are fixed columns.

use super::{synth, LayoutCtx, Operator};
use crate::chips::requant_row::RequantRow;
use crate::error::EvalError;
use crate::requant::Requant;
use crate::rows::RowCounter;
use halo2_proofs::circuit::Cell;
use halo2_proofs::plonk::Error;
use serde::{Deserialize, Serialize};

/// An affine combination of one or two tensors and a constant, requantized.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Elementwise {
    /// One multiplier per input (1 or 2 inputs).
    pub mul: Vec<i64>,
    /// Constant per output value at the pre-shift scale (empty: zero).
    pub constant: Vec<i64>,
    /// Per input, the source index of every output value (numpy broadcast), or empty for
    /// the identity.
    pub index: Vec<Vec<u32>>,
    /// Final requantization (its `relu` flag makes this a Relu).
    pub requant: Requant,
    /// Coefficient of the product of the two inputs (Mul of two activations).
    #[serde(default)]
    pub product: i64,
}

impl Elementwise {
    /// Number of output values.
    pub fn out_len_of(&self, first_input_len: usize) -> usize {
        self.index
            .first()
            .filter(|i| !i.is_empty())
            .map_or(first_input_len, |i| i.len())
            .max(self.constant.len())
    }

    fn source(&self, k: usize, j: usize) -> usize {
        self.index[k].get(j).map_or(j, |&i| i as usize)
    }

    fn coefficients(&self, j: usize) -> (i128, i128, i128) {
        let c = self.constant.get(j).copied().unwrap_or(0) as i128;
        (
            self.mul[0] as i128,
            self.mul.get(1).copied().unwrap_or(0) as i128,
            c,
        )
    }

    fn out_len(&self, first_input_len: usize) -> usize {
        self.out_len_of(first_input_len)
    }
}

impl Operator for Elementwise {
    fn requant(&self) -> Option<Requant> {
        Some(self.requant)
    }

    /// One or two inputs; indices and constant sized to the output and within bounds.
    fn check(&self, inputs: &[&[usize]], out: &[usize]) -> Result<(), String> {
        let n: usize = out.iter().product();
        if inputs.is_empty() || inputs.len() > 2 || self.mul.len() != inputs.len() {
            return Err("elementwise ops take one or two inputs".into());
        }
        if !(self.constant.is_empty() || self.constant.len() == n)
            || self.index.len() != inputs.len()
        {
            return Err("constant or index does not match the output".into());
        }
        for (shape, idx) in inputs.iter().zip(&self.index) {
            let len: usize = shape.iter().product();
            let fits = if idx.is_empty() {
                len == n
            } else {
                idx.len() == n && idx.iter().all(|&i| (i as usize) < len)
            };
            if !fits {
                return Err(format!("input {shape:?} does not broadcast to {out:?}"));
            }
        }
        Ok(())
    }

    /// Integer reference semantics.
    fn reference(&self, node: &str, inputs: &[&[i128]]) -> Result<Vec<i128>, EvalError> {
        (0..self.out_len(inputs[0].len()))
            .map(|j| {
                let (ma, mb, c) = self.coefficients(j);
                let x = inputs[0][self.source(0, j)];
                let x2 = inputs.get(1).map_or(0, |i| i[self.source(1, j)]);
                let p = self.product as i128;
                Ok(self
                    .requant
                    .apply(x * x2 * p + x * ma + x2 * mb + c, node)?
                    .out)
            })
            .collect()
    }

    /// One requant row per output value.
    fn count_rows(&self, _lanes: usize, input_len: usize, rows: &mut RowCounter) {
        for _ in 0..self.out_len_of(input_len) {
            rows.requant(&self.requant);
        }
    }

    /// Lays out one requant row per output value.
    fn layout(
        &self,
        ctx: &mut LayoutCtx<'_, '_>,
        node: &str,
        inputs: &[&[Cell]],
        values: Option<&[&[i128]]>,
    ) -> Result<Vec<Cell>, Error> {
        let n = self.out_len(inputs[0].len());
        let mut out = Vec::with_capacity(n);
        for j in 0..n {
            let (s0, s1) = (self.source(0, j), inputs.get(1).map(|_| self.source(1, j)));
            let x = values.map(|v| v[0][s0]);
            let x2 = match (values, s1) {
                (Some(v), Some(s1)) => Some(v[1][s1]),
                _ => None,
            };
            let (ma, mb, c) = self.coefficients(j);
            let coefficients = (ma, mb, self.product as i128, c);
            let row = synth(RequantRow::honest_product(
                self.requant,
                coefficients,
                x,
                x2,
                node,
            ))?;
            let at = ctx.requant_row(&self.requant)?;
            let cells = ctx.requant.assign(ctx.region, at, &row)?;
            ctx.region.constrain_equal(cells.x, inputs[0][s0]);
            if let Some(s1) = s1 {
                ctx.region.constrain_equal(cells.x2, inputs[1][s1]);
            }
            out.push(cells.out);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::ChipCircuit;
    use crate::requant::RequantWitness;
    use proptest::prelude::*;

    const RQ: Requant = Requant {
        shift: 5,
        bits: 6,
        relu: true,
    };

    fn row(pre: i128) -> RequantRow {
        RequantRow::honest(RQ, (1, 0, 0), Some(pre), None, "n").unwrap()
    }

    /// The wide shape (`y`, `s` beside `x`) and the tall one (`y`, `s` on the next row) hold
    /// the same constraints; every row test runs in both.
    fn verifies_in_both_shapes(c: ChipCircuit) -> bool {
        c.verify().is_ok() && c.tall().verify().is_ok()
    }

    fn rejected_in_both_shapes(c: ChipCircuit) -> bool {
        c.verify().is_err() && c.tall().verify().is_err()
    }

    fn with_witness(pre: i128, w: RequantWitness) -> ChipCircuit {
        let r = RequantRow {
            mul_a: 1,
            mul_b: 0,
            add: 0,
            mul_ab: 0,
            rq: RQ,
            x: Some(pre),
            x2: Some(0),
            w: Some(w),
        };
        ChipCircuit::new(vec![], vec![r])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]
        #[test]
        fn honest_rows_verify(pre in -(1i128 << 9)..(1i128 << 9), relu: bool, mb in -3i128..3, x2 in -50i128..50) {
            let rq = Requant { relu, ..RQ };
            let r = RequantRow::honest(rq, (2, mb, 7), Some(pre), Some(x2), "n").unwrap();
            let add = Elementwise { mul: vec![2, mb as i64], constant: vec![7], index: vec![vec![], vec![]], requant: rq, product: 0 };
            prop_assert_eq!(r.w.unwrap().out, add.reference("n", &[&[pre], &[x2]]).unwrap()[0]);
            prop_assert!(verifies_in_both_shapes(ChipCircuit::new(vec![], vec![r])));
        }
    }

    /// Fits one limb each at the test limb width (4): a compact row in a compact circuit.
    const SMALL: Requant = Requant {
        shift: 3,
        bits: 4,
        relu: false,
    };

    fn compact_circuit(pre: i128, rq: Requant, w: Option<RequantWitness>) -> ChipCircuit {
        let honest_pre = pre.clamp(-128, 120);
        let mut r = RequantRow::honest(rq, (1, 0, 0), Some(honest_pre), None, "n").unwrap();
        if w.is_some() {
            r.x = Some(pre);
            r.w = w;
        }
        // A wide row (shift 5, bits 6) after it: both forms share the range column.
        ChipCircuit::new(vec![], vec![r, row(300)]).compact()
    }

    #[test]
    fn compact_rows_verify_beside_wide_rows() {
        for pre in [-128, -77, -1, 0, 5, 77, 120] {
            for relu in [false, true] {
                let rq = Requant { relu, ..SMALL };
                let c = compact_circuit(pre, rq, None);
                assert!(verifies_in_both_shapes(c), "pre {pre}, relu {relu}");
            }
        }
    }

    #[test]
    fn compact_rows_reject_a_wrong_remainder_range_or_sign() {
        let honest = RequantRow::honest(SMALL, (1, 0, 0), Some(45), None, "n")
            .unwrap()
            .w
            .unwrap();
        // Quotient one too small, remainder 2^shift too large.
        let w = RequantWitness {
            y: honest.y - 1,
            rem: honest.rem + 8,
            out: honest.out - 1,
            ..honest
        };
        assert!(rejected_in_both_shapes(compact_circuit(45, SMALL, Some(w))));
        // y = 20 is outside [-16, 16): claimed anyway.
        let w = RequantWitness {
            y: 20,
            rem: 0,
            sign: true,
            out: 20,
        };
        assert!(rejected_in_both_shapes(compact_circuit(
            160,
            SMALL,
            Some(w)
        )));
        // A negative y claimed non-negative.
        let neg = RequantRow::honest(SMALL, (1, 0, 0), Some(-45), None, "n")
            .unwrap()
            .w
            .unwrap();
        let w = RequantWitness { sign: true, ..neg };
        assert!(rejected_in_both_shapes(compact_circuit(
            -45,
            SMALL,
            Some(w)
        )));
    }

    #[test]
    fn rejects_wrong_remainder() {
        let honest = row(100).w.unwrap();
        // Quotient one too small, remainder one step too large: "rescale" still holds.
        let w = RequantWitness {
            y: honest.y - 1,
            rem: honest.rem + 32,
            out: honest.out - 1,
            ..honest
        };
        assert!(rejected_in_both_shapes(with_witness(100, w)));
        let w = RequantWitness {
            y: honest.y + 1,
            rem: honest.rem - 32,
            out: honest.out + 1,
            ..honest
        };
        assert!(rejected_in_both_shapes(with_witness(100, w)));
    }

    #[test]
    fn rejects_out_of_range_value() {
        // The row aligns to two 4-bit limbs, so the circuit bounds y to [-256, 256) (the
        // calibrated [-64, 64) is the reference execution's check). pre = 300·32 puts
        // y = 300 outside: claim it anyway with s = 1, and with s = 0.
        for sign in [true, false] {
            let w = RequantWitness {
                y: 300,
                rem: 16,
                sign,
                out: 300,
            };
            assert!(rejected_in_both_shapes(with_witness(300 * 32, w)));
        }
        let w = RequantWitness {
            y: -300,
            rem: 16,
            sign: false,
            out: 0,
        };
        assert!(rejected_in_both_shapes(with_witness(-300 * 32, w)));
    }

    #[test]
    fn rejects_wrong_relu_sign() {
        let honest = row(-200).w.unwrap();
        assert!(!honest.sign && honest.out == 0);
        // Claim y ≥ 0 so that ReLU passes the negative value through.
        let w = RequantWitness {
            sign: true,
            out: honest.y,
            ..honest
        };
        assert!(rejected_in_both_shapes(with_witness(-200, w)));
        // Claim a positive y is negative so that ReLU zeroes it.
        let pos = row(300).w.unwrap();
        let w = RequantWitness {
            sign: false,
            out: 0,
            ..pos
        };
        assert!(rejected_in_both_shapes(with_witness(300, w)));
    }

    #[test]
    fn rejects_wrong_output() {
        let honest = row(300).w.unwrap();
        let w = RequantWitness {
            out: honest.out + 1,
            ..honest
        };
        assert!(rejected_in_both_shapes(with_witness(300, w)));
    }

    #[test]
    fn product_rows_verify_and_reject_a_wrong_product() {
        let rq = Requant {
            shift: 3,
            bits: 8,
            relu: false,
        };
        let r = RequantRow::honest_product(rq, (0, 0, 1, 0), Some(13), Some(-7), "n").unwrap();
        assert_eq!(r.w.unwrap().y, (13 * -7 + 4) >> 3);
        assert!(ChipCircuit::new(vec![], vec![r.clone()]).verify().is_ok());
        let mut wrong = r;
        wrong.x2 = Some(-6);
        assert!(ChipCircuit::new(vec![], vec![wrong]).verify().is_err());
    }

    #[test]
    fn a_real_proof_of_a_wrong_product_is_rejected() {
        // MockProver's verdict, repeated with real KZG keys, a real SHPLONK proof and the
        // verifier: the product row claims 13·-7 while its second factor is -6.
        use crate::ops::test_support::real_proof_accepts;
        let rq = Requant {
            shift: 3,
            bits: 8,
            relu: false,
        };
        let honest = RequantRow::honest_product(rq, (0, 0, 1, 0), Some(13), Some(-7), "n").unwrap();
        let mut wrong = honest.clone();
        wrong.x2 = Some(-6);
        let keys = ChipCircuit::new(vec![], vec![honest]);
        assert!(real_proof_accepts(&keys, &keys));
        assert!(!real_proof_accepts(
            &keys,
            &ChipCircuit::new(vec![], vec![wrong])
        ));
    }

    #[test]
    fn honest_row_passes() {
        let r = ChipCircuit::new(vec![], vec![row(300), row(-300)]).verify();
        assert!(r.is_ok(), "{r:?}");
    }
}
