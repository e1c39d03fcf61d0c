//! The long run of the parser fuzzing (`tests/common/fuzz.rs`): 1,000,000 mutated inputs
//! across proof.json, vk.bin, kzg.srs, input JSON, model.zkc, the ONNX loader and the
//! contract's call data. Prints per target the inputs run, how many the parser accepted and
//! the slowest; exits non-zero on any panic, any input over a second, or any mutated proof
//! or call data accepted. `cargo bench --bench fuzz [-- TOTAL [SEED]]`.

#![allow(missing_docs, clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::fuzz::{run, targets};

/// Each target's share of the total.
fn share(name: &str) -> f64 {
    match name {
        "input_json" => 0.30,
        "proof_json" => 0.25,
        "model_zkc" => 0.16,
        "vk_bin" | "kzg_srs" => 0.10,
        "onnx" => 0.07,
        _ => 0.02,
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let total: f64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(1e6);
    let seed: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(2026);
    let t = std::time::Instant::now();
    let targets = targets();
    let reports: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = targets
            .iter()
            .map(|tg| {
                let n = (total * share(tg.name)).round() as u32;
                s.spawn(move || run(tg, n, seed))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut sum = 0;
    let mut failed = false;
    for r in &reports {
        println!(
            "{:<11} {:>8} inputs, {:>7} accepted, slowest {:?}{}",
            r.name,
            r.cases,
            r.accepted,
            r.slowest,
            r.failure
                .as_ref()
                .map(|f| format!(", FAILED: {f}"))
                .unwrap_or_default()
        );
        sum += r.cases;
        failed |= r.failure.is_some();
    }
    println!(
        "total {sum} inputs in {:.0} s, seed {seed}: {}",
        t.elapsed().as_secs_f64(),
        if failed {
            "FAILURES"
        } else {
            "0 panics, 0 hangs, no altered proof or call data accepted"
        }
    );
    if failed {
        std::process::exit(1);
    }
}
