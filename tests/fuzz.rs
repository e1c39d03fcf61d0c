//! A short slice of the parser fuzzing (`tests/common/fuzz.rs`; the long run is
//! `cargo bench --bench fuzz`): ≥ 20,000 mutated inputs across proof.json, vk.bin, kzg.srs,
//! input JSON, model.zkc, the ONNX loader and the contract's call data, with zero panics,
//! every input answered within a second, and no mutated proof or call data accepted; plus
//! every kept regression input.

#![allow(clippy::unwrap_used)]

mod common;

use common::fuzz::{run, run_with, targets, Report};

/// Inputs per target in this slice.
fn cases(name: &str) -> u32 {
    match name {
        "input_json" => 6_000,
        "proof_json" => 5_000,
        "model_zkc" => 3_000,
        "calldata" => 400,
        _ => 2_000,
    }
}

#[test]
fn mutated_files_never_panic_hang_or_pass() {
    let targets = targets();
    let reports: Vec<Report> = std::thread::scope(|s| {
        let handles: Vec<_> = targets
            .iter()
            .map(|t| s.spawn(move || run(t, cases(t.name), 11)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut total = 0;
    for r in &reports {
        println!(
            "{:<11} {:>6} inputs, {:>5} accepted, slowest {:?}",
            r.name, r.cases, r.accepted, r.slowest
        );
        total += r.cases;
    }
    println!("total {total} inputs");
    let failures: Vec<String> = reports
        .iter()
        .filter_map(|r| r.failure.as_ref().map(|f| format!("{}: {f}", r.name)))
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(total >= 20_000, "{total}");
}

#[test]
fn the_harness_reports_a_panic_a_slow_input_and_a_broken_property() {
    // The slice above can only fail if the harness sees failures: a planted panic, a planted
    // one-and-a-half-second input and a planted acceptance are each reported.
    use common::fuzz::{Target, Verdict};
    type Planted = fn(&[u8]) -> Verdict;
    let planted: [(&str, Planted); 3] = [
        ("panic", |b| {
            assert!(b.len() >= 8, "planted");
            Ok(false)
        }),
        ("slow", |b| {
            if b.len() < 8 {
                std::thread::sleep(std::time::Duration::from_millis(1100));
            }
            Ok(false)
        }),
        ("accepts", |b| {
            if b.len() < 8 {
                Err("accepted".into())
            } else {
                Ok(true)
            }
        }),
    ];
    for (name, check) in planted {
        let t = Target {
            name: "planted",
            seeds: vec![vec![7u8; 8]],
            check: Box::new(check),
        };
        let r = run_with(&t, 200, 3, false);
        assert!(r.failure.is_some(), "{name}: {r:?}");
    }
}
