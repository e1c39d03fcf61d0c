//! Batch proving and verification.
//!
//! `prove_batch` proves every input of a folder of `*.json` files or of one `.jsonl` file
//! with keys loaded once, on a thread pool sized by cores and memory. Each proof is written
//! atomically (temporary file, then rename) as `<stem>.proof.json` or
//! `<stem>.<line>.proof.json`, so a crash or a kill loses no finished proof, and two runs on
//! one folder never leave a torn file. A rerun skips inputs whose proof exists and
//! verifies. A bad input is recorded in `summary.json` and does not stop the others.

use crate::{input::parse_input, Error, LoadedVerifier};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;
use zkonnx_prover::artifacts::write_atomic;
use zkonnx_prover::Prover;

/// File name of the batch summary inside the output folder.
pub const SUMMARY: &str = "summary.json";

/// One input of a batch: its name and where its JSON text comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchItem {
    /// `<stem>` or `<stem>.<line>`; the proof is `<name>.proof.json`.
    pub name: String,
    /// The JSON text of the input (or why it could not be read).
    pub text: Result<String, String>,
}

/// Outcome of one input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Proven in this run.
    Ok,
    /// Not proven: see the reason.
    Failed,
    /// A valid proof already existed.
    Skipped,
}

/// One line of the summary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ItemReport {
    /// Input name.
    pub name: String,
    /// Outcome.
    pub status: Status,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Seconds spent proving.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prove_s: Option<f64>,
}

/// `summary.json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Inputs proven in this run.
    pub ok: usize,
    /// Inputs that failed.
    pub failed: usize,
    /// Inputs whose valid proof already existed.
    pub skipped: usize,
    /// Per input, in input order.
    pub inputs: Vec<ItemReport>,
}

impl Summary {
    fn record(&mut self, report: ItemReport) {
        match report.status {
            Status::Ok => self.ok += 1,
            Status::Failed => self.failed += 1,
            Status::Skipped => self.skipped += 1,
        }
        self.inputs.push(report);
    }
}

/// Lists the inputs of a folder of `*.json` files (sorted) or of one `.jsonl` file.
///
/// # Errors
/// [`Error::Input`] if the path cannot be read or is neither a folder nor a `.jsonl` file.
pub fn collect_inputs(inputs: &Path) -> Result<Vec<BatchItem>, Error> {
    let err = |reason: String| Error::Input {
        path: inputs.display().to_string(),
        reason,
    };
    if inputs.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(inputs)
            .map_err(|e| err(e.to_string()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json") && p.is_file())
            .collect();
        files.sort();
        return Ok(files
            .iter()
            .map(|p| BatchItem {
                name: stem(p),
                text: std::fs::read_to_string(p).map_err(|e| e.to_string()),
            })
            .collect());
    }
    let text = std::fs::read_to_string(inputs).map_err(|e| err(e.to_string()))?;
    if inputs.extension().is_none_or(|x| x != "jsonl") {
        return Err(err(
            "expected a folder of *.json files or a .jsonl file".into()
        ));
    }
    let base = stem(inputs);
    Ok(text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| BatchItem {
            name: format!("{base}.{}", i + 1),
            text: Ok(l.to_string()),
        })
        .collect())
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default()
}

/// Path of an item's proof.
pub fn proof_path(out: &Path, name: &str) -> PathBuf {
    out.join(format!("{name}.proof.json"))
}

/// Proves or skips one item.
fn run_item(
    item: &BatchItem,
    prover: &Prover,
    verifier: &LoadedVerifier,
    out: &Path,
) -> ItemReport {
    let path = proof_path(out, &item.name);
    let report = |status, reason: Option<String>, prove_s| ItemReport {
        name: item.name.clone(),
        status,
        reason,
        prove_s,
    };
    if let Ok(existing) = crate::read_proof(&path) {
        if verifier.verify(&existing).is_ok() {
            return report(Status::Skipped, None, None);
        }
    }
    let inputs = match item
        .text
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|t| parse_input(t))
    {
        Ok(i) => i,
        Err(reason) => return report(Status::Failed, Some(reason), None),
    };
    let t = Instant::now();
    let result = prover
        .prove(&inputs)
        .map_err(|e| e.to_string())
        .and_then(|p| p.to_json().map_err(|e| e.to_string()))
        .and_then(|json| write_atomic(&path, json.as_bytes()).map_err(|e| e.to_string()));
    match result {
        Ok(()) => report(Status::Ok, None, Some(t.elapsed().as_secs_f64())),
        Err(reason) => report(Status::Failed, Some(reason), None),
    }
}

/// How many proofs to run at once: the cores, bounded by the memory one proof needs.
pub fn default_jobs(k: u32, advice: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_proof = (1u64 << k) * (advice as u64 + 24) * 32 * 8 + (64 << 20);
    let available = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemAvailable:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(u64::MAX, |kib| kib * 1024 / 2);
    cores.min((available / per_proof).max(1) as usize).max(1)
}

/// Proves every item into `out`, `jobs` at a time; `progress` is called after each item
/// with its report. Writes `out/summary.json` after every item and returns the summary.
///
/// # Errors
/// As [`crate::load_prover`], or [`Error::Prover`] if `out` cannot be written. A bad item
/// is not an error: it is reported as failed and the batch goes on.
pub fn prove_batch(
    dir: &Path,
    items: &[BatchItem],
    out: &Path,
    jobs: Option<usize>,
    progress: impl Fn(&ItemReport) + Sync,
) -> Result<Summary, Error> {
    let prover = crate::load_prover(dir)?;
    let verifier = crate::load_verifier(dir)?;
    std::fs::create_dir_all(out).map_err(|e| Error::Input {
        path: out.display().to_string(),
        reason: e.to_string(),
    })?;
    let plan = prover.circuit.plan();
    let jobs = jobs
        .unwrap_or_else(|| default_jobs(plan.k, plan.advice_columns))
        .max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| Error::Input {
            path: out.display().to_string(),
            reason: e.to_string(),
        })?;
    let done: Mutex<Vec<Option<ItemReport>>> = Mutex::new(vec![None; items.len()]);
    let write_summary = |reports: &[Option<ItemReport>]| -> Result<Summary, Error> {
        let mut s = Summary::default();
        reports.iter().flatten().for_each(|r| s.record(r.clone()));
        let json = serde_json::to_string_pretty(&s).map_err(|e| Error::Input {
            path: out.join(SUMMARY).display().to_string(),
            reason: e.to_string(),
        })?;
        write_atomic(&out.join(SUMMARY), json.as_bytes())?;
        Ok(s)
    };
    pool.install(|| {
        items.par_iter().enumerate().for_each(|(i, item)| {
            let report = run_item(item, &prover, &verifier, out);
            progress(&report);
            let mut d = done.lock().unwrap_or_else(|p| p.into_inner());
            d[i] = Some(report);
            // Rewritten after every input; one that cannot be written now is written by
            // the next and at the end (the proofs themselves are already on disk).
            let _ = write_summary(&d);
        })
    });
    let reports = done.into_inner().unwrap_or_else(|p| p.into_inner());
    write_summary(&reports)
}

/// Result of verifying one proof file.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifyReport {
    /// The proof file.
    pub path: PathBuf,
    /// `Ok` or why it is invalid.
    pub result: Result<(), String>,
}

/// Verifies every `*.proof.json` in `proofs`, in parallel, with keys loaded once.
///
/// # Errors
/// As [`crate::load_verifier`], or [`Error::Input`] if `proofs` cannot be listed. An invalid
/// proof is not an error: its report says why.
pub fn verify_batch(dir: &Path, proofs: &Path) -> Result<Vec<VerifyReport>, Error> {
    let verifier = crate::load_verifier(dir)?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(proofs)
        .map_err(|e| Error::Input {
            path: proofs.display().to_string(),
            reason: e.to_string(),
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".proof.json"))
        .collect();
    files.sort();
    Ok(files
        .par_iter()
        .map(|path| VerifyReport {
            path: path.clone(),
            result: crate::read_proof(path)
                .and_then(|p| verifier.verify(&p))
                .map(|_| ())
                .map_err(|e| e.to_string()),
        })
        .collect())
}
