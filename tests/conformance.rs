//! The ONNX backend conformance cases (`../shared/conformance/onnx-backend`): every case is
//! compiled, proven, verified and compared with its expected output within 1% of the
//! largest expected magnitude. No case may give a wrong output or a panic.

#![allow(clippy::unwrap_used)]

mod common;

use zkonnx::conformance::{run_all, Outcome};

#[test]
fn conformance_cases_pass_or_are_refused_clearly() {
    let root = common::root().join("../shared/conformance/onnx-backend");
    if !root.is_dir() {
        panic!(
            "conformance data not found at {} (CI lays out ../shared beside the repo)",
            root.display()
        );
    }
    let work = common::temp_dir("conformance");
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
    let node_suite = common::root().join("../shared/conformance/onnx-node");
    let cases = [
        node_suite.join("test_hardswish"),
        common::fixture("cases/hardswish"),
    ];
    let work = common::temp_dir("added-table-fns");
    for case in cases {
        let (outcome, _) = zkonnx::conformance::run_case(&case, &work, 14);
        assert!(
            matches!(outcome, Outcome::Pass),
            "{}: {outcome:?}",
            case.display()
        );
    }
}
