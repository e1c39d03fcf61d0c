//! Batch proving: a bad input is named and does not stop the others, a killed run loses no
//! finished proof and a rerun completes it, concurrent runs do not corrupt proofs, and
//! verify-batch names a tampered proof.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_zkonnx"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

fn temp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("zkonnx-batch-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// The digits MLP compiled and set up once.
fn model_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = temp("model");
        let f = fixtures().join("digits_mlp");
        let samples: Vec<String> = (0..5)
            .map(|i| s(&f.join(format!("input_{i}.json"))))
            .collect();
        let mut args = vec![
            "compile".to_string(),
            s(&f.join("model.onnx")),
            "--out".into(),
            s(&d),
            "--sample".into(),
        ];
        args.extend(samples);
        assert!(bin().args(&args).output().unwrap().status.success());
        assert!(run(&["setup", &s(&d)]).status.success());
        d
    })
}

/// A folder with `n` good inputs (cycling the fixtures) and, optionally, one malformed file.
fn inputs(tag: &str, n: usize, bad: bool) -> PathBuf {
    let d = temp(tag);
    for i in 0..n {
        let src = fixtures().join(format!("digits_mlp/input_{}.json", i % 10));
        std::fs::copy(src, d.join(format!("in{i:02}.json"))).unwrap();
    }
    if bad {
        std::fs::write(d.join("broken.json"), "{\"input_data\": [[1, 2,").unwrap();
    }
    d
}

/// Starts `prove-batch` with one job in the background, output discarded.
fn spawn_batch(ins: &Path, out: &Path) -> std::process::Child {
    bin()
        .args([
            "prove-batch",
            &s(model_dir()),
            &s(ins),
            "--out",
            &s(out),
            "--jobs",
            "1",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn summary(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

fn proofs(out: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".proof.json"))
        .collect();
    v.sort();
    v
}

#[test]
fn bad_input_is_named_and_others_are_proven() {
    let ins = inputs("bad", 4, true);
    let out = temp("bad-out");
    let o = run(&[
        "prove-batch",
        &s(model_dir()),
        &s(&ins),
        "--out",
        &s(&out),
        "--jobs",
        "2",
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("broken") && !err.contains("panicked"), "{err}");
    let sum = summary(&out);
    assert_eq!(
        (sum["ok"].as_u64(), sum["failed"].as_u64()),
        (Some(4), Some(1))
    );
    let broken = sum["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "broken")
        .unwrap();
    assert_eq!(broken["status"], "failed");
    assert!(broken["reason"].as_str().unwrap().contains("JSON"));
    assert_eq!(
        proofs(&out),
        vec![
            "in00.proof.json",
            "in01.proof.json",
            "in02.proof.json",
            "in03.proof.json"
        ]
    );
    assert!(run(&["verify-batch", &s(model_dir()), &s(&out)])
        .status
        .success());
}

#[test]
fn killed_run_loses_nothing_and_rerun_completes() {
    let ins = inputs("kill", 12, true);
    let out = temp("kill-out");
    let mut child = spawn_batch(&ins, &out);
    let start = Instant::now();
    while proofs(&out).len() < 2 && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = proofs(&out);
    assert!(
        !before.is_empty() && before.len() < 12,
        "killed too late or too early: {before:?}"
    );
    // Every proof that exists after the kill is whole and valid.
    assert!(run(&["verify-batch", &s(model_dir()), &s(&out)])
        .status
        .success());
    let o = run(&["prove-batch", &s(model_dir()), &s(&ins), "--out", &s(&out)]);
    assert!(!o.status.success(), "the malformed input must still fail");
    let sum = summary(&out);
    assert_eq!(sum["failed"].as_u64(), Some(1));
    assert!(sum["skipped"].as_u64().unwrap() >= before.len() as u64);
    assert_eq!(
        sum["ok"].as_u64().unwrap() + sum["skipped"].as_u64().unwrap(),
        12
    );
    assert_eq!(proofs(&out).len(), 12);
    assert!(run(&["verify-batch", &s(model_dir()), &s(&out)])
        .status
        .success());
}

#[test]
fn concurrent_runs_do_not_corrupt_proofs() {
    let ins = inputs("conc", 6, false);
    let out = temp("conc-out");
    let (mut a, mut b) = (spawn_batch(&ins, &out), spawn_batch(&ins, &out));
    assert!(a.wait().unwrap().success());
    assert!(b.wait().unwrap().success());
    assert_eq!(proofs(&out).len(), 6);
    assert!(run(&["verify-batch", &s(model_dir()), &s(&out)])
        .status
        .success());
}

#[test]
fn jsonl_lines_are_named_and_tampering_is_caught() {
    let d = temp("jsonl");
    let lines: Vec<String> = (0..3)
        .map(|i| {
            std::fs::read_to_string(fixtures().join(format!("digits_mlp/input_{i}.json")))
                .unwrap()
                .trim()
                .to_string()
        })
        .collect();
    let file = d.join("batch.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let out = temp("jsonl-out");
    let o = run(&["prove-batch", &s(model_dir()), &s(&file), "--out", &s(&out)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        proofs(&out),
        vec![
            "batch.1.proof.json",
            "batch.2.proof.json",
            "batch.3.proof.json"
        ]
    );
    let victim = out.join("batch.2.proof.json");
    let mut p: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&victim).unwrap()).unwrap();
    p["instances"][0][3] = serde_json::Value::String(format!("0x{}", "0".repeat(62) + "2a"));
    std::fs::write(&victim, p.to_string()).unwrap();
    let o = run(&["verify-batch", &s(model_dir()), &s(&out)]);
    assert!(!o.status.success());
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("INVALID  batch.2.proof.json"), "{stdout}");
    assert!(
        stdout.contains("ok       batch.1.proof.json")
            && stdout.contains("ok       batch.3.proof.json")
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stderr)
            .trim_end()
            .lines()
            .count(),
        1
    );
}
