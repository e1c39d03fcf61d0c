//! The requant row's own tests: honest rows in both shapes (wide and tall) and both forms
//! (full and compact), and one malicious witness per constraint, each rejected by the
//! constraint it breaks.

use super::*;
use crate::ops::test_support::{failure_names, ChipCircuit};
use crate::ops::{Elementwise, Operator};
use crate::requant::{Requant, RequantWitness};
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

/// Whether MockProver rejects the rows in both shapes, and only by constraints named in
/// `by` (see [`failure_names`]: `'rescale'`, `'sign'`, `'bool'`, `'relu'` of the "requant"
/// gate, or the `'limb range'` lookup).
fn rejected_in_both_shapes_by(by: &[&str], c: ChipCircuit) -> bool {
    [c.verify(), c.tall().verify()]
        .into_iter()
        .all(|r| match r {
            Ok(()) => false,
            Err(f) => {
                let names = failure_names(&f);
                names.iter().all(|n| by.iter().any(|b| n.contains(b)))
            }
        })
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
    assert!(rejected_in_both_shapes_by(
        &["'limb range'"],
        compact_circuit(45, SMALL, Some(w))
    ));
    // y = 20 is outside [-16, 16): claimed anyway.
    let w = RequantWitness {
        y: 20,
        rem: 0,
        sign: true,
        out: 20,
    };
    assert!(rejected_in_both_shapes_by(
        &["'rescale'", "'limb range'"],
        compact_circuit(160, SMALL, Some(w))
    ));
    // A negative y claimed non-negative.
    let neg = RequantRow::honest(SMALL, (1, 0, 0), Some(-45), None, "n")
        .unwrap()
        .w
        .unwrap();
    let w = RequantWitness { sign: true, ..neg };
    assert!(rejected_in_both_shapes_by(
        &["'limb range'"],
        compact_circuit(-45, SMALL, Some(w))
    ));
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
    assert!(rejected_in_both_shapes_by(
        &["'limb range'"],
        with_witness(100, w)
    ));
    let w = RequantWitness {
        y: honest.y + 1,
        rem: honest.rem - 32,
        out: honest.out + 1,
        ..honest
    };
    assert!(rejected_in_both_shapes_by(
        &["'limb range'"],
        with_witness(100, w)
    ));
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
        assert!(rejected_in_both_shapes_by(
            &["'limb range'", "'relu'"],
            with_witness(300 * 32, w)
        ));
    }
    let w = RequantWitness {
        y: -300,
        rem: 16,
        sign: false,
        out: 0,
    };
    assert!(rejected_in_both_shapes_by(
        &["'limb range'"],
        with_witness(-300 * 32, w)
    ));
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
    assert!(rejected_in_both_shapes_by(
        &["'limb range'"],
        with_witness(-200, w)
    ));
    // Claim a positive y is negative so that ReLU zeroes it.
    let pos = row(300).w.unwrap();
    let w = RequantWitness {
        sign: false,
        out: 0,
        ..pos
    };
    assert!(rejected_in_both_shapes_by(
        &["'limb range'"],
        with_witness(300, w)
    ));
}

#[test]
fn rejects_wrong_output() {
    let honest = row(300).w.unwrap();
    let w = RequantWitness {
        out: honest.out + 1,
        ..honest
    };
    assert!(rejected_in_both_shapes_by(
        &["'relu'"],
        with_witness(300, w)
    ));
}

/// A product row of 13·-7, and the same row claiming it while its second factor is -6.
fn product_rows() -> (RequantRow, RequantRow) {
    let rq = Requant {
        shift: 3,
        bits: 8,
        relu: false,
    };
    let honest = RequantRow::honest_product(rq, (0, 0, 1, 0), Some(13), Some(-7), "n").unwrap();
    let wrong = RequantRow {
        x2: Some(-6),
        ..honest.clone()
    };
    (honest, wrong)
}

#[test]
fn product_rows_verify_and_reject_a_wrong_product() {
    let (r, wrong) = product_rows();
    assert_eq!(r.w.unwrap().y, (13 * -7 + 4) >> 3);
    assert!(ChipCircuit::new(vec![], vec![r]).verify().is_ok());
    let failures = ChipCircuit::new(vec![], vec![wrong]).verify().unwrap_err();
    assert_eq!(
        failure_names(&failures),
        ["gate Constraint 0 ('rescale') in gate 0 ('requant')"]
    );
}

#[test]
fn a_real_proof_of_a_wrong_product_is_rejected() {
    // MockProver's verdict, repeated with real KZG keys, a real SHPLONK proof and the
    // verifier: the product row claims 13·-7 while its second factor is -6.
    use crate::ops::test_support::real_proof_accepts;
    let (honest, wrong) = product_rows();
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
