//! Shared fixtures for the end-to-end tests: each model is compiled and set up once per
//! test process, in its own temporary directory.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use zkonnx::CompileOptions;

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
    let dir = temp_dir(&format!("{model}-{public_input}"));
    let opts = CompileOptions {
        public_input,
        ..Default::default()
    };
    zkonnx::compile(
        &fixture(&format!("{model}/model.onnx")),
        &inputs(model, 5),
        &opts,
        &dir,
    )
    .unwrap();
    zkonnx::setup(&dir, None).unwrap();
    dir
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
