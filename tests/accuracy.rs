//! The proven, dequantized outputs track tract's float outputs.
//!
//! Tolerance: every output within 1% of the largest float output magnitude, and (for the
//! classifiers) the same argmax. Inputs 5..10 were not used for calibration. The model zoo
//! (digits CNN, LeNet-5-shaped CNN, sigmoid MLP, one-head attention block) is held to the same
//! tolerance on a held-out input each (proving LeNet takes seconds, so one input).

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use zkonnx_onnx::{calibrate::argmax, load, tract_reference::FloatReference};

fn check(model: &str, dir: &std::path::Path, classifier: bool) {
    check_inputs(model, dir, classifier, 3..10);
}

fn check_inputs(
    model: &str,
    dir: &std::path::Path,
    classifier: bool,
    which: std::ops::Range<usize>,
) {
    let loaded = load(&fixture(&format!("{model}/model.onnx"))).unwrap();
    let tract = FloatReference::new(&loaded.proto, &loaded.graph, &[]).unwrap();
    let prover = zkonnx::load_prover(dir).unwrap();
    let verifier = zkonnx::load_verifier(dir).unwrap();
    for input in &inputs(model, 10)[which] {
        let proof = prover.prove(input).unwrap();
        let proven = verifier.verify(&proof).unwrap().outputs;
        let float = tract.run(input).unwrap();
        for (p, f) in proven.iter().zip(&float) {
            let largest = f.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            let worst = p
                .iter()
                .zip(f)
                .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
            assert!(
                worst <= 0.01 * largest,
                "{model}: error {worst} > 1% of {largest}"
            );
            if classifier {
                assert_eq!(argmax(p), argmax(f), "{model}: argmax differs");
            }
        }
    }
}

#[test]
fn digits_mlp_tracks_tract() {
    check("digits_mlp", mlp(), true);
}

#[test]
fn linear_regression_tracks_tract() {
    check("linreg", linreg(), false);
}

#[test]
fn small_models_get_small_k() {
    let k = |dir: &std::path::Path| zkonnx::load_verifier(dir).unwrap().vk.header.k;
    assert!(k(mlp()) <= 12, "MLP k = {}", k(mlp()));
    assert!(k(linreg()) <= 10, "linreg k = {}", k(linreg()));
}

#[test]
fn digits_cnn_tracks_tract() {
    check_inputs("digits_cnn", &prepared("digits_cnn", false), true, 5..8);
}

#[test]
fn lenet5_tracks_tract_at_k_16() {
    let dir = prepared("lenet5", false);
    let k = zkonnx::load_verifier(&dir).unwrap().vk.header.k;
    assert!(k <= 16, "LeNet-5 k = {k}");
    check_inputs("lenet5", &dir, true, 6..7);
}

#[test]
fn sigmoid_mlp_tracks_tract() {
    check_inputs("sigmoid_mlp", &prepared("sigmoid_mlp", false), true, 5..8);
}

#[test]
fn attention_block_tracks_tract() {
    check_inputs("attention", &prepared("attention", false), false, 5..8);
}
