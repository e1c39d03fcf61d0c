//! Bad models and inputs give clear one-line errors.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use zkonnx::CompileOptions;

fn compile_err(model: &std::path::Path, samples: &[Vec<Vec<f64>>]) -> String {
    let dir = temp_dir("bad");
    let msg = zkonnx::compile(model, samples, &CompileOptions::default(), &dir)
        .unwrap_err()
        .to_string();
    assert!(!msg.contains('\n'), "multi-line: {msg}");
    msg
}

#[test]
fn missing_onnx_file() {
    let msg = compile_err(&fixture("nope/model.onnx"), &inputs("linreg", 1));
    assert!(msg.contains("cannot read ONNX file"), "{msg}");
}

#[test]
fn corrupt_onnx_file() {
    let dir = temp_dir("corrupt");
    let path = dir.join("corrupt.onnx");
    std::fs::write(
        &path,
        (0..4000u32)
            .map(|i| (i.wrapping_mul(2654435761u32) >> 13) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let msg = compile_err(&path, &inputs("linreg", 1));
    assert!(msg.contains("not a valid ONNX model"), "{msg}");
    std::fs::write(&path, b"").unwrap();
    assert!(compile_err(&path, &inputs("linreg", 1)).contains("not a valid ONNX model"));
}

#[test]
fn unsupported_op_names_op_and_node() {
    let msg = compile_err(
        &fixture("unsupported/model.onnx"),
        &inputs("unsupported", 1),
    );
    assert!(msg.contains("'Det'") && msg.contains("'det'"), "{msg}");
}

#[test]
fn wrong_input_length() {
    let msg = compile_err(&fixture("linreg/model.onnx"), &[vec![vec![1.0; 9]]]);
    assert!(
        msg.contains("needs 10 values") && msg.contains("got 9"),
        "{msg}"
    );
    let dir = linreg();
    let msg = zkonnx::prove(dir, &[vec![0.0; 11]])
        .unwrap_err()
        .to_string();
    assert!(msg.contains("got 11"), "{msg}");
}

#[test]
fn non_numeric_input() {
    let msg = zkonnx::parse_input(r#"{"input_data": [[1, "two", 3]]}"#).unwrap_err();
    assert!(
        msg.contains("input_data[0][1]") && msg.contains("not a number"),
        "{msg}"
    );
    let dir = temp_dir("json");
    let path = dir.join("bad.json");
    std::fs::write(&path, "{\"input_data\": [[1, 2,").unwrap();
    assert!(zkonnx::read_input(&path)
        .unwrap_err()
        .to_string()
        .contains("not valid JSON"));
}

#[test]
fn input_outside_its_domain_names_the_input_and_the_domain() {
    let mut input = inputs("linreg", 1)[0].clone();
    input[0][3] *= 1000.0;
    let msg = zkonnx::prove(linreg(), &input).unwrap_err().to_string();
    assert!(
        msg.contains("outside the input's domain [") && msg.contains("'input' value #3"),
        "{msg}"
    );
}

#[test]
fn steps_out_of_order_say_what_to_run() {
    let dir = temp_dir("empty");
    let msg = zkonnx::prove(&dir, &inputs("linreg", 1)[0])
        .unwrap_err()
        .to_string();
    assert!(msg.contains("run `zkonnx compile` first"), "{msg}");
}

#[test]
fn a_shape_input_must_keep_its_compiled_values() {
    // `Expand(X, shape)` with the shape given as an int64 graph input: fixed at compile time
    // from the sample, so a proof for another shape is refused by name, while repeating the
    // compiled shape (or leaving it out) is accepted.
    let case = root().join("../shared/conformance/onnx-backend/simple/test_expand_shape_model1");
    let x = vec![1.0, 2.0, 3.0];
    let dir = temp_dir("fixed-shape");
    zkonnx::compile(
        &case.join("model.onnx"),
        &[vec![x.clone(), vec![3.0, 1.0]]],
        &CompileOptions::default(),
        &dir,
    )
    .unwrap();
    zkonnx::setup(&dir, None).unwrap();
    let prover = zkonnx::load_prover(&dir).unwrap();
    let msg = prover
        .prove(&[x.clone(), vec![2.0, 1.0]])
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("'shape'") && msg.contains("fixed at compile time"),
        "{msg}"
    );
    assert!(!msg.contains('\n'), "multi-line: {msg}");
    assert!(prover.prove(&[x.clone(), vec![3.0, 1.0]]).is_ok());
    assert!(prover.prove(&[x]).is_ok());
}
