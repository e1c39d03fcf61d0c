//! Criterion benchmarks of the four steps on the example models: compile, setup, prove
//! and verify (library calls; keys loaded once for prove and verify).
//!
//! `cargo bench --bench pipeline`; `scripts/bench.sh` adds peak memory and CLI wall time.

use criterion::{criterion_group, criterion_main, Criterion};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn fixture(model: &str, file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(model)
        .join(file)
}

fn samples(model: &str) -> Vec<Vec<Vec<f64>>> {
    (0..5)
        .map(|i| zkonnx::read_input(&fixture(model, &format!("input_{i}.json"))).expect("input"))
        .collect()
}

fn bench_model(c: &mut Criterion, model: &str) {
    let dir = std::env::temp_dir().join(format!("zkonnx-bench-{model}"));
    let onnx = fixture(model, "model.onnx");
    let s = samples(model);
    let opts = zkonnx::CompileOptions::default();
    let mut g = c.benchmark_group(model);
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    g.bench_function("compile", |b| {
        b.iter(|| zkonnx::compile(&onnx, &s, &opts, &dir).expect("compile"))
    });
    g.bench_function("setup", |b| {
        b.iter(|| zkonnx::setup(&dir, None).expect("setup"))
    });
    let prover = zkonnx::load_prover(&dir).expect("prover");
    let verifier = zkonnx::load_verifier(&dir).expect("verifier");
    let proof = prover.prove(&s[0]).expect("prove");
    g.bench_function("prove", |b| b.iter(|| prover.prove(&s[0]).expect("prove")));
    g.bench_function("verify", |b| {
        b.iter(|| verifier.verify(&proof).expect("verify"))
    });
    g.finish();
}

fn pipeline(c: &mut Criterion) {
    bench_model(c, "digits_mlp");
    bench_model(c, "linreg");
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
