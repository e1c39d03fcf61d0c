//! The conformance report: every ONNX backend test case compiled, set up, proven, verified,
//! and its verified outputs compared with the expected `output_*.pb`.
//!
//! Each case ends as `pass`, `fail` (a wrong output, with the error), `refused` (a clear error
//! zkonnx gave: a value out of range, a model too large for the configured `k`, …) or
//! `unsupported` (the ops zkonnx lacks). Every refused or unsupported case also has a
//! [`Category`], and the report counts them. A panic anywhere is caught and reported as
//! `fail`, so one case can never take the report down.

use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use zkonnx::{CompileOptions, Error};
use zkonnx::{OnnxError, OutOfScopeNature};

/// Tolerance: every output within this fraction of the largest expected magnitude.
pub const TOLERANCE: f64 = 0.01;

/// Outcome of one case.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "lowercase", tag = "status")]
pub enum Outcome {
    /// Proven, verified, and within tolerance.
    Pass,
    /// Wrong output, or an unexpected failure.
    Fail {
        /// What went wrong.
        reason: String,
    },
    /// A clear error that is the right answer for this case.
    Refused {
        /// Which kind of refusal.
        category: Category,
        /// The error zkonnx gave.
        reason: String,
    },
    /// Uses ops zkonnx does not support.
    Unsupported {
        /// The op types zkonnx lacks.
        reason: String,
    },
}

impl Outcome {
    fn fail(reason: impl Into<String>) -> Self {
        Outcome::Fail {
            reason: reason.into(),
        }
    }

    fn refused(category: Category, reason: impl Into<String>) -> Self {
        Outcome::Refused {
            category,
            reason: reason.into(),
        }
    }

    /// The refusal category of a refused or unsupported case.
    pub fn category(&self) -> Option<Category> {
        match self {
            Outcome::Refused { category, .. } => Some(*category),
            Outcome::Unsupported { .. } => Some(Category::UnsupportedOp),
            Outcome::Pass | Outcome::Fail { .. } => None,
        }
    }
}

/// Why a case was not proven, when zkonnx refused it clearly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Not a fixed function of numeric tensors by nature: strings, random numbers, training
    /// steps, complex spectra, decoded bytes, optional or sequence values, and storage types
    /// zkonnx does not read (bfloat16, float8, 4- and 2-bit types).
    OutOfScope,
    /// The output's shape depends on the input values (`NonZero`, `Unique`, …).
    DataDependentShape,
    /// The circuit needs more rows than the run allows.
    TooLarge,
    /// An op zkonnx does not lower yet.
    UnsupportedOp,
    /// A supported op with attributes or operands zkonnx does not handle.
    UnsupportedUse,
    /// A value leaves the range the quantized circuit holds (or is not finite).
    OutOfRange,
    /// The model's structure is unusable (dynamic shapes, outputs not computed, …).
    InvalidModel,
}

/// One line of the report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CaseReport {
    /// Case path relative to the conformance folder.
    pub case: String,
    /// Outcome.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// log2 rows of the circuit, when it got that far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k: Option<u32>,
}

/// Totals and every case.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Report {
    /// Cases that passed.
    pub pass: usize,
    /// Cases with a wrong output or unexpected failure.
    pub fail: usize,
    /// Cases refused with a clear error.
    pub refused: usize,
    /// Cases with unsupported ops.
    pub unsupported: usize,
    /// Refused and unsupported cases by category.
    pub categories: BTreeMap<Category, usize>,
    /// Every case, in path order.
    pub cases: Vec<CaseReport>,
}

/// Every folder under `root` that holds a `model.onnx`, sorted.
pub fn find_cases(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        if dir.join("model.onnx").is_file() {
            out.push(dir);
            continue;
        }
        if let Ok(entries) = std::fs::read_dir(&dir) {
            stack.extend(
                entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.is_dir()),
            );
        }
    }
    out.sort();
    out
}

fn pb_files(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    (0..)
        .map(|i| dir.join(format!("{prefix}_{i}.pb")))
        .take_while(|p| p.is_file())
        .collect()
}

/// Runs one case in `work` (a scratch folder); `max_k` bounds the circuit size.
pub fn run_case(case: &Path, work: &Path, max_k: u32) -> (Outcome, Option<u32>) {
    let run = || run_case_inner(case, work, max_k);
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(r) => r,
        Err(_) => (Outcome::fail("panicked"), None),
    }
}

fn classify(case: &Path, e: &Error) -> Outcome {
    let msg = e.to_string();
    let Error::Onnx(onnx) = e else {
        return match e {
            Error::Circuit(_) => Outcome::refused(Category::InvalidModel, msg),
            _ => Outcome::fail(msg),
        };
    };
    let category = match onnx {
        OnnxError::Unsupported { op_type, .. } => {
            let all = zkonnx::unsupported_ops(&case.join("model.onnx"));
            let reason = if all.is_empty() {
                op_type.clone()
            } else {
                all.join(", ")
            };
            return Outcome::Unsupported { reason };
        }
        OnnxError::OutOfScope {
            nature: OutOfScopeNature::DataDependentShape,
            ..
        } => Category::DataDependentShape,
        OnnxError::OutOfScope { .. } | OnnxError::ElementType { .. } => Category::OutOfScope,
        OnnxError::Node { .. } => Category::UnsupportedUse,
        OnnxError::Eval(_) | OnnxError::Range { .. } => Category::OutOfRange,
        OnnxError::Invalid(_) | OnnxError::Circuit(_) => Category::InvalidModel,
        _ => return Outcome::fail(msg),
    };
    Outcome::refused(category, msg)
}

fn run_case_inner(case: &Path, work: &Path, max_k: u32) -> (Outcome, Option<u32>) {
    let data = case.join("test_data_set_0");
    let read = |files: Vec<PathBuf>| -> Result<Vec<Vec<f64>>, Error> {
        files
            .iter()
            .map(|p| Ok(zkonnx::read_tensor_pb(p)?.1))
            .collect()
    };
    let inputs = match read(pb_files(&data, "input")) {
        Ok(i) => i,
        Err(e) => return (classify(case, &e), None),
    };
    let expected = match read(pb_files(&data, "output")) {
        Ok(o) => o,
        Err(e @ Error::Onnx(OnnxError::ElementType { .. })) => return (classify(case, &e), None),
        Err(e) => return (Outcome::fail(e.to_string()), None),
    };
    let settings = match zkonnx::compile(
        &case.join("model.onnx"),
        std::slice::from_ref(&inputs),
        &CompileOptions::default(),
        work,
    ) {
        Ok(s) => s,
        Err(e) => return (classify(case, &e), None),
    };
    let k = settings.layout.k;
    if k > max_k {
        return (
            Outcome::refused(
                Category::TooLarge,
                format!("needs k = {k}, above this run's limit of {max_k} (prove it in a bench)"),
            ),
            Some(k),
        );
    }
    let result = zkonnx::setup(work, None)
        .and_then(|_| zkonnx::prove(work, &inputs))
        .and_then(|p| zkonnx::verify(work, &p));
    match result {
        Ok(v) => (compare(&v.outputs, &expected), Some(k)),
        Err(e) => (classify(case, &e), Some(k)),
    }
}

fn compare(got: &[Vec<f64>], expected: &[Vec<f64>]) -> Outcome {
    if got.len() != expected.len() {
        return Outcome::fail(format!(
            "{} outputs, expected {}",
            got.len(),
            expected.len()
        ));
    }
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        if g.len() != e.len() {
            return Outcome::fail(format!(
                "output {i} has {} values, expected {}",
                g.len(),
                e.len()
            ));
        }
        let largest = e.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        let worst = g
            .iter()
            .zip(e)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        if worst > TOLERANCE * largest.max(1e-9) {
            return Outcome::fail(format!(
                "output {i} off by {worst:.4} (> 1% of {largest:.4})"
            ));
        }
    }
    Outcome::Pass
}

/// Runs every case under `root`; `progress` is called after each case.
pub fn run_all(root: &Path, work: &Path, max_k: u32, progress: impl Fn(&CaseReport)) -> Report {
    let mut report = Report::default();
    for (i, case) in find_cases(root).iter().enumerate() {
        let scratch = work.join(format!("case{i}"));
        let _ = std::fs::remove_dir_all(&scratch);
        let (outcome, k) = run_case(case, &scratch, max_k);
        let _ = std::fs::remove_dir_all(&scratch);
        match &outcome {
            Outcome::Pass => report.pass += 1,
            Outcome::Fail { .. } => report.fail += 1,
            Outcome::Refused { .. } => report.refused += 1,
            Outcome::Unsupported { .. } => report.unsupported += 1,
        }
        if let Some(c) = outcome.category() {
            *report.categories.entry(c).or_default() += 1;
        }
        let name = case
            .strip_prefix(root)
            .unwrap_or(case)
            .display()
            .to_string();
        let r = CaseReport {
            case: name,
            outcome,
            k,
        };
        progress(&r);
        report.cases.push(r);
    }
    report
}
