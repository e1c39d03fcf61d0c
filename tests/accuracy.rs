//! The proven, dequantized outputs track tract's float outputs.
//!
//! Tolerance: every output within 1% of the largest float output magnitude, and (for the
//! classifier) the same argmax. Inputs 5..10 were not used for calibration.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use zkonnx::crates::onnx::{calibrate::argmax, load, reference::FloatReference};

fn check(model: &str, dir: &std::path::Path, classifier: bool) {
    let loaded = load(&fixture(&format!("{model}/model.onnx"))).unwrap();
    let tract = FloatReference::new(&loaded.proto, &loaded.graph, &[]).unwrap();
    let prover = zkonnx::load_prover(dir).unwrap();
    let verifier = zkonnx::load_verifier(dir).unwrap();
    for input in inputs(model, 10).iter().skip(3) {
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
