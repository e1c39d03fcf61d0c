//! Pins of the model zoo: each fixture's compiled-model hash, circuit size, verifying key
//! (made with a fixed-seed SRS, so it is reproducible) and quantized outputs on its ten
//! samples. A refactor that is meant to change no behaviour must leave every pin where it is;
//! a change that is meant to move one updates `tests/pins/zoo.json` in the same commit, run
//! with `ZKONNX_WRITE_PINS=1`, and says why.

#![allow(clippy::unwrap_used)]

mod common;

use rand_chacha::rand_core::SeedableRng;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;
use zkonnx_circuits::execute::{execute, quantize_inputs};
use zkonnx_circuits::planner::{plan_with, CostModel};
use zkonnx_circuits::ModelCircuit;

/// The zoo: every fixture model with calibration samples.
const ZOO: [&str; 6] = [
    "linreg",
    "digits_mlp",
    "digits_cnn",
    "sigmoid_mlp",
    "attention",
    "lenet5",
];

#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Pin {
    model_hash: String,
    k: u32,
    lanes: usize,
    vk_sha256: String,
    outputs_sha256: String,
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn pin(model: &str) -> Pin {
    let dir = common::temp_dir(&format!("pin-{model}"));
    let onnx = common::fixture(&format!("{model}/model.onnx"));
    zkonnx::compile(&onnx, &common::inputs(model, 5), &Default::default(), &dir).unwrap();
    let bytes = std::fs::read(dir.join(zkonnx::names::MODEL)).unwrap();
    let compiled = zkonnx_prover::artifacts::model_from_bytes(&bytes).unwrap();
    let model_hash = zkonnx_prover::artifacts::model_hash(&compiled).unwrap();
    let ir = Arc::new(compiled.model);
    let outputs: Vec<String> = common::inputs(model, 10)
        .iter()
        .map(|s| {
            let trace = execute(&ir, quantize_inputs(&ir, s).unwrap()).unwrap();
            format!("{:?}", trace.outputs(&ir))
        })
        .collect();
    let plan = plan_with(&ir, &CostModel::default(), Some(compiled.lanes)).unwrap();
    let (k, lanes) = (plan.k, plan.lanes);
    let circuit = ModelCircuit::new(ir, plan);
    let srs = zkonnx_verifier::Srs::setup(k, rand_chacha::ChaCha20Rng::seed_from_u64(12));
    let vk = halo2_proofs::plonk::keygen_vk_custom(&srs, &circuit, true).unwrap();
    Pin {
        model_hash,
        k,
        lanes,
        vk_sha256: sha256(&vk.to_bytes(halo2_proofs::SerdeFormat::RawBytes)),
        outputs_sha256: sha256(outputs.join("\n").as_bytes()),
    }
}

#[test]
fn every_zoo_model_keeps_its_pinned_model_circuit_and_outputs() {
    let path = common::root().join("tests/pins/zoo.json");
    let got: BTreeMap<String, Pin> = ZOO.iter().map(|m| (m.to_string(), pin(m))).collect();
    if std::env::var_os("ZKONNX_WRITE_PINS").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(&got).unwrap() + "\n").unwrap();
        return;
    }
    let pinned: BTreeMap<String, Pin> =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for (model, pin) in &got {
        assert_eq!(Some(pin), pinned.get(model), "{model} moved from its pin");
    }
    assert_eq!(got.len(), pinned.len());
}
