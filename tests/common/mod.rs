//! Shared fixtures for the end-to-end tests: each model is compiled and set up once per
//! test process, in its own temporary directory.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use zkonnx::{CalibrateOptions, CompileOptions};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fixture file.
pub fn fixture(rel: &str) -> PathBuf {
    root().join("fixtures").join(rel)
}

/// The inputs of a fixture model.
pub fn inputs(model: &str, n: usize) -> Vec<Vec<Vec<f64>>> {
    (0..n)
        .map(|i| zkonnx::read_input(&fixture(&format!("{model}/input_{i}.json"))).unwrap())
        .collect()
}

/// A fresh temporary directory.
pub fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zkonnx-test-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Compiles (calibrating on inputs 0..5) and sets up a fixture model.
pub fn prepared(model: &str, public_input: bool) -> PathBuf {
    let opts = CalibrateOptions {
        public_input,
        ..Default::default()
    }
    .into();
    prepared_with(&format!("{model}-{public_input}"), model, &opts)
}

/// Compiles (calibrating on inputs 0..5) and sets up a fixture model with `opts`, in the
/// temporary directory `tag`.
pub fn prepared_with(tag: &str, model: &str, opts: &CompileOptions) -> PathBuf {
    let dir = temp_dir(tag);
    zkonnx::compile(
        &fixture(&format!("{model}/model.onnx")),
        &inputs(model, 5),
        opts,
        &dir,
    )
    .unwrap();
    zkonnx::setup(&dir, None).unwrap();
    dir
}

/// The digits MLP with its pixels' domain set to `0:16` (`compile --input-range 0:16`),
/// private and public input, prepared once each.
pub fn mlp_pixels(public_input: bool) -> &'static Path {
    static DIRS: [OnceLock<PathBuf>; 2] = [OnceLock::new(), OnceLock::new()];
    DIRS[usize::from(public_input)].get_or_init(|| {
        let opts = CalibrateOptions {
            public_input,
            input_ranges: vec!["0:16".parse().unwrap()],
            ..Default::default()
        }
        .into();
        prepared_with(&format!("pixels-{public_input}"), "digits_mlp", &opts)
    })
}

/// A real proof made the way a prover who skips the reference execution would: the honest
/// quantized input of `model`'s sample 0, changed by `edit`, run through the model without
/// the domain check on inputs, and proven with the model's real keys.
pub fn forged_proof(
    dir: &Path,
    model: &str,
    edit: impl FnOnce(&zkonnx_circuits::Model, &mut Vec<Vec<i128>>),
) -> zkonnx::ProofFile {
    use zkonnx_circuits::execute::{execute, quantize_inputs};
    let prover = zkonnx::load_prover(dir).unwrap();
    let mut q = quantize_inputs(&prover.model, &inputs(model, 1)[0]).unwrap();
    edit(&prover.model, &mut q);
    let trace = execute(&prover.model, q).unwrap();
    prover.prove_trace(trace).unwrap()
}

/// The input edits of the domain tests: one pixel set to the domain's top (`Ok`: inside, so
/// the forging path itself makes valid proofs) or one step past either end (outside).
pub fn pixel_edits() -> [(&'static str, bool); 3] {
    [("top", true), ("above", false), ("below", false)]
}

/// Applies the edit named by [`pixel_edits`] to pixel 30 of input 0.
pub fn edit_pixel(which: &str) -> impl FnOnce(&zkonnx_circuits::Model, &mut Vec<Vec<i128>>) + '_ {
    move |m, q| {
        let d = m.inputs[0].domain;
        q[0][30] = match which {
            "top" => d.hi as i128,
            "above" => d.hi as i128 + 1,
            _ => d.lo as i128 - 1,
        };
    }
}

/// The digits MLP, prepared once.
pub fn mlp() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| prepared("digits_mlp", false))
}

/// The linear regression, prepared once.
pub fn linreg() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| prepared("linreg", false))
}

/// `data` with the 32-byte word at `word` replaced by itself plus the BN254 scalar field's
/// order `r` (the same value `mod r`; it fits, as `2r < 2^256`).
pub fn word_plus_r(data: &[u8], word: usize) -> Vec<u8> {
    let r =
        hex::decode("30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001").unwrap();
    let mut out = data.to_vec();
    let mut carry = 0u16;
    for i in (0..32).rev() {
        let at = 32 * word + i;
        let sum = out[at] as u16 + r[i] as u16 + carry;
        out[at] = sum as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0);
    out
}

/// The node tests run against: `ZKONNX_TEST_RPC` (`.ci/run` starts anvil on a free loopback
/// port and sets it, with `ZKONNX_REQUIRE_NODE=1`). Without it a node test is skipped, unless
/// `ZKONNX_REQUIRE_NODE` is set, when it fails.
pub fn node_rpc() -> Option<String> {
    match std::env::var("ZKONNX_TEST_RPC") {
        Ok(url) => Some(url),
        Err(_) if std::env::var_os("ZKONNX_REQUIRE_NODE").is_some() => {
            panic!("ZKONNX_REQUIRE_NODE is set but ZKONNX_TEST_RPC is not")
        }
        Err(_) => {
            eprintln!("skipped: no node (bash .ci/run starts anvil and sets ZKONNX_TEST_RPC)");
            None
        }
    }
}

/// anvil's well-known development keys (its default mnemonic), one per test binary that
/// sends transactions, so that their nonces never race.
pub const ANVIL_KEYS: [&str; 2] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
];
pub mod fuzz;
