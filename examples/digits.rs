//! Prove a handwritten-digit classification end to end with the zkonnx library.
//!
//! The model is a 64-32-10 ReLU MLP trained on scikit-learn's 8x8 digits
//! (`scripts/make_fixtures.py`). Run with `cargo run --release --example digits`.

use std::path::Path;

fn main() -> Result<(), zkonnx::Error> {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/digits_mlp");
    let dir = std::env::temp_dir().join("zkonnx-example-digits");
    let samples = (0..5)
        .map(|i| zkonnx::read_input(&fixtures.join(format!("input_{i}.json"))))
        .collect::<Result<Vec<_>, _>>()?;

    // 1. Compile: load the ONNX file, calibrate on the samples, lay out the circuit.
    let settings = zkonnx::compile(
        &fixtures.join("model.onnx"),
        &samples,
        &Default::default(),
        &dir,
    )?;
    println!(
        "compiled: k = {}, {} rows",
        settings.layout.k, settings.layout.rows
    );

    // 2. Setup: a local SRS (testing only) and the proving and verifying keys.
    zkonnx::setup(&dir, None)?;

    // 3. Prove an input the calibration did not see.
    let input = zkonnx::read_input(&fixtures.join("input_7.json"))?;
    let proof = zkonnx::prove(&dir, &input)?;

    // 4. Verify: the outputs come from the proof's public instances, not from the prover.
    let verified = zkonnx::verify(&dir, &proof)?;
    let logits = &verified.outputs[0];
    let digit = (0..logits.len())
        .max_by(|&a, &b| logits[a].total_cmp(&logits[b]))
        .unwrap_or(0);
    println!("proof verified: the model says this is a {digit}");
    Ok(())
}
