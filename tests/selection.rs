//! ArgMax against a malicious prover, with real keys and real proofs: ArgMax is built from
//! proven comparisons (`onnx/src/lower/select.rs`), and a prover who names another position
//! than the largest value is rejected whether it changes only the index or also the one-hot
//! choice behind it.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::path::PathBuf;
use zkonnx_circuits::execute::{execute, quantize_inputs, Trace};

/// ONNX's own `ArgMax` case: a `[2, 3, 4]` input along axis 1 (groups of three).
fn model() -> PathBuf {
    root().join("../shared/conformance/onnx-node/test_argmax_no_keepdims_random/model.onnx")
}

/// A sample whose maxima are clear: position `j` holds `(7·j mod 24)/4 − 3`.
fn sample() -> Vec<Vec<f64>> {
    vec![(0..24)
        .map(|j| f64::from((7 * j) % 24) / 4.0 - 3.0)
        .collect()]
}

fn prepared() -> PathBuf {
    let dir = temp_dir("argmax");
    zkonnx::compile(&model(), &[sample()], &Default::default(), &dir).unwrap();
    zkonnx::setup(&dir, None).unwrap();
    dir
}

/// The tensor id of the node named `name`.
fn tensor(m: &zkonnx_circuits::Model, name: &str) -> usize {
    let at = m.nodes.iter().position(|n| n.name == name);
    m.inputs.len() + at.unwrap_or_else(|| panic!("no node {name}"))
}

/// A real proof of `trace` (the prover's own witness) verifies against the model's keys.
fn accepted(dir: &std::path::Path, trace: Trace) -> bool {
    let prover = zkonnx::load_prover(dir).unwrap();
    match prover.prove_trace(trace) {
        Ok(proof) => zkonnx::verify(dir, &proof).is_ok(),
        Err(_) => false,
    }
}

#[test]
fn a_proof_that_names_another_position_is_rejected() {
    let dir = prepared();
    let prover = zkonnx::load_prover(&dir).unwrap();
    let m = &prover.model;
    let honest = execute(m, quantize_inputs(m, &sample()).unwrap()).unwrap();
    assert!(
        accepted(&dir, honest.clone()),
        "the honest proof must verify"
    );
    // Group 0 is positions 0, 4 and 8 (axis 1 of [2, 3, 4]), holding -3, -2 and -1: the
    // answer is 2.
    let (f, idx, out) = (
        tensor(m, "ArgMax_0/2"),
        tensor(m, "ArgMax_0/3"),
        m.outputs[0],
    );
    assert_eq!((honest.tensors[f][4], honest.tensors[f][8]), (0, 1));
    assert_eq!(honest.tensors[out][0], 2);
    // 1. The index alone says 1.
    let mut index_only = honest.clone();
    index_only.tensors[idx][0] = 1;
    index_only.tensors[out][0] = 1;
    assert!(
        !accepted(&dir, index_only),
        "a changed index must be rejected"
    );
    // 2. The one-hot choice moved to position 4 too, so the index agrees with it: the
    //    comparison that says position 4 beats the others is what fails.
    let mut chosen = honest.clone();
    chosen.tensors[f][4] = 1;
    chosen.tensors[f][8] = 0;
    chosen.tensors[idx][0] = 1;
    chosen.tensors[out][0] = 1;
    assert!(!accepted(&dir, chosen), "a changed choice must be rejected");
}
