//! The domain check accepts every value of the domain, and rejects a value one step outside
//! it on either side, however the attacker fills the rows: with the honest formulas (the
//! copy `r = y` fails) or with `s` and `r` chosen to keep the copy (the limb lookup fails).

use super::*;
use crate::ir::Domain;
use crate::ops::test_support::{failure_names, ChipCircuit, LIMB_BITS};

fn spec() -> InputSpec {
    InputSpec {
        name: "x".into(),
        shape: vec![1],
        scale: 0,
        domain: Domain { lo: -5, hi: 20 },
    }
}

fn rows(x: i128, compact: bool) -> [RequantRow; 2] {
    honest_rows(&spec(), check_requant(LIMB_BITS, compact), Some(x)).unwrap()
}

/// Every shape of the test circuit: wide and tall, with and without compact rows.
fn shapes(checks: Vec<[RequantRow; 2]>, compact: bool) -> [ChipCircuit; 2] {
    let c = ChipCircuit::checks(checks);
    let c = if compact { c.compact() } else { c };
    [c.clone(), c.tall()]
}

fn failures(c: &ChipCircuit) -> Vec<String> {
    failure_names(&c.verify().err().unwrap_or_default())
}

#[test]
fn every_value_of_the_domain_passes() {
    for compact in [false, true] {
        let checks = [-5, -1, 0, 7, 20].map(|x| rows(x, compact)).to_vec();
        for c in shapes(checks, compact) {
            assert_eq!(c.verify(), Ok(()), "compact {compact}");
        }
    }
}

#[test]
fn one_step_outside_fails_the_copy_of_its_side() {
    // hi + 1 makes the upper row's y = −1 (r = s·y = 0 ≠ y); lo − 1 the lower row's.
    for compact in [false, true] {
        for x in [21, -6, 100, -100] {
            for c in shapes(vec![rows(x, compact)], compact) {
                let f = failures(&c);
                assert!(
                    f.iter().any(|n| n == "permutation"),
                    "x = {x}, compact {compact}: {f:?}"
                );
            }
        }
    }
}

#[test]
fn keeping_the_copy_with_a_false_sign_fails_the_limb_lookup() {
    // The attacker sets s = 1 and r = y = −1 on the upper row, so `r = y` holds; then the
    // sign gate needs m = y + 2^w − 2^w = −1, which no limb decomposition gives.
    for compact in [false, true] {
        let mut check = rows(21, compact);
        let w = check[1].w.as_mut().unwrap();
        assert_eq!(w.y, -1);
        w.sign = true;
        w.out = -1;
        for c in shapes(vec![check.clone()], compact) {
            let f = failures(&c);
            assert!(
                f.iter().any(|n| n == "lookup 'limb range'"),
                "compact {compact}: {f:?}"
            );
            assert!(!f.iter().any(|n| n == "permutation"), "{f:?}");
        }
    }
}

#[test]
fn a_wrong_remainder_fails_rescale() {
    // Claiming x − lo = 0·2^w + (rem + 1) for a value in the domain breaks "rescale".
    for compact in [false, true] {
        let mut check = rows(3, compact);
        check[0].w.as_mut().unwrap().rem += 1;
        for c in shapes(vec![check.clone()], compact) {
            let f = failures(&c);
            assert!(
                f.iter().any(|n| n.contains("'rescale'")),
                "compact {compact}: {f:?}"
            );
        }
    }
}

#[test]
fn the_two_rows_read_one_cell() {
    // An upper row proven for another x than the lower row's breaks the copy between them.
    for compact in [false, true] {
        let check = [rows(30, compact)[0].clone(), rows(3, compact)[1].clone()];
        for c in shapes(vec![check], compact) {
            let f = failures(&c);
            assert!(f.iter().any(|n| n == "permutation"), "{f:?}");
        }
    }
}

#[test]
fn a_model_input_outside_its_domain_is_rejected() {
    use crate::circuit::tests::model;
    use crate::ops::test_support::{model_failures, run_model};
    let m = model(false);
    let x = vec![1, -2, 30, 4, 5];
    run_model(&m, x.clone(), |_, _| {}).unwrap();
    // A prover that skips the reference's domain check: the whole trace (and the output
    // instances) recomputed honestly from an input one step above the domain's top.
    let hi = m.inputs[0].domain.hi as i128;
    let err = model_failures(&m, None, x, |trace, inst| {
        let mut bad = trace.tensors[0].clone();
        bad[2] = hi + 1;
        *trace = crate::execute::execute(&m, vec![bad]).unwrap();
        *inst = trace.instances(&m);
    })
    .unwrap_err();
    assert!(
        !err.is_empty() && err.iter().all(|f| f == "permutation"),
        "only the domain check's copy may fail: {err:?}"
    );
}
