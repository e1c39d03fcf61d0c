//! The ONNX backend conformance cases (`../shared/conformance/onnx-backend`): every case is
//! compiled, proven, verified and compared with its expected output within 1% of the
//! largest expected magnitude. No case may give a wrong output or a panic.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use zkonnx_cli::conformance::{run_all, run_case, Outcome};

/// The repository root (this crate is `cli/`).
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A fresh temporary directory.
fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zkonnx-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn conformance_cases_pass_or_are_refused_clearly() {
    let root = root().join("../shared/conformance/onnx-backend");
    if !root.is_dir() {
        panic!(
            "conformance data not found at {} (CI lays out ../shared beside the repo)",
            root.display()
        );
    }
    let work = temp_dir("conformance");
    let report = run_all(&root, &work, 19, |_| {});
    let failed: Vec<String> = report
        .cases
        .iter()
        .filter_map(|c| match &c.outcome {
            Outcome::Fail(e) => Some(format!("{}: {e}", c.case)),
            _ => None,
        })
        .collect();
    println!(
        "{} pass, {} fail, {} refused, {} unsupported",
        report.pass, report.fail, report.refused, report.unsupported
    );
    assert!(failed.is_empty(), "wrong outputs or panics: {failed:#?}");
    assert!(report.pass >= 115, "only {} cases pass", report.pass);
}

/// The table functions added after the backend suite, on their ONNX node-suite cases and on
/// zkonnx's own cases (`fixtures/cases`, made by `scripts/make_cases.py`): each must be
/// proven, verified and within the harness's tolerance of the expected output.
#[test]
fn added_table_functions_pass_their_cases() {
    let node_suite = root().join("../shared/conformance/onnx-node");
    let cases = [
        node_suite.join("test_hardswish"),
        root().join("fixtures/cases/hardswish"),
    ];
    let work = temp_dir("added-table-fns");
    for case in cases {
        let (outcome, _) = run_case(&case, &work, 14);
        assert!(
            matches!(outcome, Outcome::Pass),
            "{}: {outcome:?}",
            case.display()
        );
    }
}
