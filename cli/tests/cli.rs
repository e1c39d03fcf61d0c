//! The command-line contract: exit codes, one-line errors, no panics.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn zkonnx(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zkonnx"))
        .args(args)
        .output()
        .expect("run zkonnx")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn fixture(rel: &str) -> String {
    root().join("fixtures").join(rel).display().to_string()
}

fn temp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("zkonnx-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Fails unless the command failed with exactly one line on stderr and no panic.
/// `zkonnx run` on fixture `model` with its input `input`, into a fresh folder `tag`:
/// the folder, as a path and a string, and the command's output.
fn run_fixture(tag: &str, model: &str, input: usize) -> (PathBuf, String, Output) {
    let dir = temp(tag);
    let d = dir.display().to_string();
    let out = zkonnx(&[
        "run",
        &fixture(&format!("{model}/model.onnx")),
        &fixture(&format!("{model}/input_{input}.json")),
        "--out",
        &d,
    ]);
    (dir, d, out)
}

fn assert_clean_failure(out: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "expected failure, stderr: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "panic: {err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    assert!(err.contains(needle), "expected '{needle}' in: {err}");
}

#[test]
fn run_then_verify_then_tamper() {
    let (dir, d, out) = run_fixture("run", "linreg", 0);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("proof is valid"));
    let proof = dir.join("proof.json");
    let p = proof.display().to_string();
    let out = zkonnx(&["verify", &d, &p]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("output 0: ["), "{stdout}");

    // Change one output instance.
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&proof).unwrap()).unwrap();
    json["instances"][0][0] = serde_json::Value::String(format!("0x{}", "0".repeat(63) + "7"));
    let bad = dir.join("bad.json");
    std::fs::write(&bad, json.to_string()).unwrap();
    assert_clean_failure(
        &zkonnx(&["verify", &d, &bad.display().to_string()]),
        "invalid proof",
    );

    // Truncated proof file, and a garbage vk.
    let text = std::fs::read_to_string(&proof).unwrap();
    std::fs::write(&bad, &text[..text.len() / 3]).unwrap();
    assert_clean_failure(
        &zkonnx(&["verify", &d, &bad.display().to_string()]),
        "malformed proof",
    );
    std::fs::write(dir.join("vk.bin"), b"garbage").unwrap();
    assert_clean_failure(&zkonnx(&["verify", &d, &p]), "malformed verifying key");
}

#[test]
fn compile_errors_are_one_line() {
    let d = temp("compile").display().to_string();
    let sample = fixture("unsupported/input_0.json");
    assert_clean_failure(
        &zkonnx(&[
            "compile",
            &fixture("unsupported/model.onnx"),
            "--sample",
            &sample,
            "--out",
            &d,
        ]),
        "unsupported operator 'Det' at node 'det'",
    );
    assert_clean_failure(
        &zkonnx(&["compile", "missing.onnx", "--sample", &sample, "--out", &d]),
        "cannot read ONNX file",
    );
    assert_clean_failure(
        &zkonnx(&[
            "compile",
            &fixture("linreg/model.onnx"),
            "--sample",
            &sample,
            "--out",
            &d,
        ]),
        "needs 10 values",
    );
}

#[test]
fn prove_errors_are_one_line() {
    let dir = temp("prove");
    let d = dir.display().to_string();
    assert_clean_failure(
        &zkonnx(&["prove", &d, &fixture("linreg/input_0.json")]),
        "run `zkonnx compile` first",
    );
    let bad = dir.join("in.json");
    std::fs::write(&bad, r#"{"input_data": [[1, "x"]]}"#).unwrap();
    assert_clean_failure(
        &zkonnx(&["prove", &d, &bad.display().to_string()]),
        "not a number",
    );
}

#[test]
fn help_lists_the_commands() {
    let out = zkonnx(&["--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in ["compile", "setup", "prove", "verify", "run"] {
        assert!(text.contains(cmd), "{text}");
    }
}

#[test]
fn evm_commands() {
    let (dir, d, out) = run_fixture("evm", "linreg", 1);
    assert!(out.status.success());
    let p = dir.join("proof.json").display().to_string();
    let sol = dir.join("Verifier.sol");
    assert!(
        zkonnx(&["evm", "verifier", &d, "--out", &sol.display().to_string()])
            .status
            .success()
    );
    assert!(std::fs::read_to_string(&sol)
        .unwrap()
        .contains("pragma solidity 0.8.19"));
    let out = zkonnx(&["evm", "calldata", &p]);
    let line = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && line.starts_with("0x") && line.trim_end().lines().count() == 1);
    let out = zkonnx(&["evm", "verify", &d, &p]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("gas used: ")
            && text.contains("deployed size: ")
            && text.contains("optimizer on"),
        "{text}"
    );
    // A flipped proof byte: the contract rejects it, one line, non-zero exit.
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    let proof = json["proof"].as_str().unwrap().to_string();
    let flipped = format!(
        "{}{}{}",
        &proof[..100],
        if &proof[100..101] == "0" { "1" } else { "0" },
        &proof[101..]
    );
    json["proof"] = serde_json::Value::String(flipped);
    let bad = dir.join("bad.json");
    std::fs::write(&bad, json.to_string()).unwrap();
    assert_clean_failure(
        &zkonnx(&["evm", "verify", &d, &bad.display().to_string()]),
        "rejected",
    );
    json["transcript"] = serde_json::Value::String("poseidon".into());
    std::fs::write(&bad, json.to_string()).unwrap();
    assert_clean_failure(
        &zkonnx(&["evm", "calldata", &bad.display().to_string()]),
        "transcript",
    );
}

#[test]
fn a_verifier_over_eip170_is_written_and_checked_as_parts() {
    // The attention block's verifier does not fit one contract: `evm verifier` says how to
    // deploy the parts, and `evm verify` deploys them all and lists their sizes.
    let (dir, d, out) = run_fixture("evm-split", "attention", 1);
    assert!(out.status.success());
    let sol = dir.join("Verifier.sol").display().to_string();
    let out = zkonnx(&["evm", "verifier", &d, "--out", &sol]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("Halo2VerifierPart1"),
        "{text}"
    );
    let p = dir.join("proof.json").display().to_string();
    let out = zkonnx(&["evm", "verify", &d, &p]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("contracts: Halo2VerifierPart1 "), "{text}");
}

#[test]
fn evm_without_compiler_is_a_clear_error() {
    let (dir, d, out) = run_fixture("nosolc", "linreg", 2);
    assert!(out.status.success());
    let p = dir.join("proof.json").display().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_zkonnx"))
        .args(["evm", "verify", &d, &p])
        .env("ZKONNX_SOLC_DIR", dir.join("no-such-dir"))
        .output()
        .unwrap();
    assert_clean_failure(&out, "npm ci --prefix evm/solc");
}

/// anvil's second development key (the end-to-end tests of the zkonnx crate use the first).
const ANVIL_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

/// The node `.ci/run` starts (`ZKONNX_TEST_RPC`); skipped without one unless
/// `ZKONNX_REQUIRE_NODE` is set.
fn node_rpc() -> Option<String> {
    let url = std::env::var("ZKONNX_TEST_RPC").ok();
    if url.is_none() && std::env::var_os("ZKONNX_REQUIRE_NODE").is_some() {
        panic!("ZKONNX_REQUIRE_NODE is set but ZKONNX_TEST_RPC is not");
    }
    url
}

#[test]
fn evm_deploy_then_verify_on_a_node() {
    let Some(rpc) = node_rpc() else {
        eprintln!("skipped: no node (bash .ci/run starts anvil)");
        return;
    };
    let (dir, d, out) = run_fixture("node", "linreg", 3);
    assert!(out.status.success());
    let p = dir.join("proof.json").display().to_string();
    // The key comes from the environment only.
    let no_key = Command::new(env!("CARGO_BIN_EXE_zkonnx"))
        .args(["evm", "deploy", &d, "--rpc-url", &rpc])
        .env_remove("ZKONNX_PRIVATE_KEY")
        .output()
        .unwrap();
    assert_clean_failure(&no_key, "ZKONNX_PRIVATE_KEY");
    assert_clean_failure(
        &zkonnx(&[
            "evm",
            "deploy",
            &d,
            "--rpc-url",
            &rpc,
            "--private-key",
            ANVIL_KEY,
        ]),
        "--private-key",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_zkonnx"))
        .args(["evm", "deploy", &d, "--rpc-url", &rpc])
        .env("ZKONNX_PRIVATE_KEY", ANVIL_KEY)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let on_node = |proof: &str, address: &str| {
        zkonnx(&[
            "evm",
            "verify",
            &d,
            proof,
            "--rpc-url",
            &rpc,
            "--address",
            address,
        ])
    };
    let address = text
        .lines()
        .find_map(|l| l.strip_prefix("verifier deployed at "))
        .unwrap_or_else(|| panic!("no address in: {text}"))
        .trim()
        .to_string();
    let out = on_node(&p, &address);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("accepted the proof"));
    // A changed output: rejected by the deployed contract, one line, non-zero exit.
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    json["instances"][0][0] = serde_json::Value::String(format!("0x{}", "0".repeat(63) + "7"));
    let bad = dir.join("bad.json");
    std::fs::write(&bad, json.to_string()).unwrap();
    let b = bad.display().to_string();
    assert_clean_failure(&on_node(&b, &address), "rejected");
    // An address without the verifier is never an acceptance.
    let empty = format!("0x{}", "42".repeat(20));
    assert_clean_failure(&on_node(&p, &empty), "holds no contract");
    assert_clean_failure(&on_node(&p, "0x12"), "--address");
}
