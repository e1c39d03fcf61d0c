//! Property-based fuzzing of every parser that reads outside data, with proptest on stable
//! Rust: each case takes a valid file (a seed) and applies a short list of mutations (bit
//! flips, bytes and little-endian words set to edge values, JSON tokens, insertions,
//! deletions, truncations, duplicated runs). The property, for every input: no panic, an
//! answer within a second, and nothing that was not valid accepted (a mutated proof or call
//! data that verifies must prove the same values). A failure is shrunk by proptest and its
//! input written under `target/fuzz-failures/<target>/`; moved into
//! `tests/fuzz_regressions/<target>/`, it is replayed by every test run.
//!
//! Shared by `tests/fuzz.rs` (a short slice, in CI) and `benches/fuzz.rs` (the long run).

#![allow(dead_code, clippy::unwrap_used)]

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// The longest any input may take.
pub const TIME_LIMIT: Duration = Duration::from_secs(1);

/// One mutation of a file.
#[derive(Clone, Debug)]
pub enum Mutation {
    /// Flip one bit.
    Flip(Index, u8),
    /// Set one byte.
    Set(Index, u8),
    /// Overwrite four bytes with a little-endian word (lengths, `k`, counts).
    Word(Index, u32),
    /// Insert bytes.
    Insert(Index, Vec<u8>),
    /// Insert a JSON-ish token.
    Token(Index, &'static str),
    /// Delete up to this many bytes.
    Delete(Index, u8),
    /// Cut the file here.
    Truncate(Index),
    /// Copy a run of bytes to another place.
    Duplicate(Index, Index, u8),
}

const TOKENS: &[&str] = &[
    "0",
    "-1",
    "1e309",
    "-1e309",
    "1e-400",
    "NaN",
    "null",
    "true",
    "\"x\"",
    "[]",
    "{}",
    "[[",
    "]]",
    ",",
    ":",
    "\"",
    "\\u0000",
    "18446744073709551616",
    "-9223372036854775809",
    "0x",
    "0xff",
    "\"0x\"",
    " ",
    "\n",
    "{\"input_data\": [[",
];

fn edge_word() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(0u32),
        Just(1),
        Just(0x7fff_ffff),
        Just(u32::MAX),
        Just(1 << 20),
        Just(1 << 31),
        0u32..64,
        any::<u32>(),
    ]
}

fn edge_byte() -> impl Strategy<Value = u8> {
    prop_oneof![Just(0u8), Just(0xff), Just(0x7f), Just(0x80), any::<u8>()]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<Index>(), 0u8..8).prop_map(|(i, b)| Mutation::Flip(i, b)),
        3 => (any::<Index>(), edge_byte()).prop_map(|(i, b)| Mutation::Set(i, b)),
        2 => (any::<Index>(), edge_word()).prop_map(|(i, w)| Mutation::Word(i, w)),
        1 => (any::<Index>(), proptest::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        2 => (any::<Index>(), proptest::sample::select(TOKENS)).prop_map(|(i, t)| Mutation::Token(i, t)),
        1 => (any::<Index>(), any::<u8>()).prop_map(|(i, n)| Mutation::Delete(i, n)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        1 => (any::<Index>(), any::<Index>(), any::<u8>()).prop_map(|(a, b, n)| Mutation::Duplicate(a, b, n)),
    ]
}

/// A seed (by index) and the mutations applied to it.
pub fn mutations() -> impl Strategy<Value = (Index, Vec<Mutation>)> {
    (any::<Index>(), proptest::collection::vec(mutation(), 1..6))
}

/// `seed` with `muts` applied in order.
pub fn apply(seed: &[u8], muts: &[Mutation]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for m in muts {
        let at = |i: &Index, b: &Vec<u8>| if b.is_empty() { 0 } else { i.index(b.len()) };
        match m {
            Mutation::Flip(i, bit) if !b.is_empty() => {
                let p = at(i, &b);
                b[p] ^= 1 << bit;
            }
            Mutation::Set(i, v) if !b.is_empty() => {
                let p = at(i, &b);
                b[p] = *v;
            }
            Mutation::Word(i, w) => {
                let p = at(i, &b);
                for (k, byte) in w.to_le_bytes().into_iter().enumerate() {
                    match b.get_mut(p + k) {
                        Some(x) => *x = byte,
                        None => b.push(byte),
                    }
                }
            }
            Mutation::Insert(i, bytes) => {
                let p = at(i, &b);
                b.splice(p..p, bytes.iter().copied());
            }
            Mutation::Token(i, t) => {
                let p = at(i, &b);
                b.splice(p..p, t.bytes());
            }
            Mutation::Delete(i, n) if !b.is_empty() => {
                let p = at(i, &b);
                let end = (p + *n as usize + 1).min(b.len());
                b.drain(p..end);
            }
            Mutation::Truncate(i) => {
                let p = at(i, &b);
                b.truncate(p);
            }
            Mutation::Duplicate(from, to, n) if !b.is_empty() => {
                let p = at(from, &b);
                let run: Vec<u8> = b[p..(p + *n as usize + 1).min(b.len())].to_vec();
                let q = at(to, &b);
                b.splice(q..q, run);
            }
            _ => {}
        }
    }
    b
}

/// What a check says of one input it did not fail: accepted by the parser, or refused.
pub type Verdict = Result<bool, String>;

/// A target's check.
pub type Check<'a> = Box<dyn Fn(&[u8]) -> Verdict + Sync + 'a>;

/// A parser under test: its valid seed files and its check, which returns `Ok(true)` when
/// the input was accepted, `Ok(false)` when it was refused with an error, and `Err` when a
/// property broke (an invalid input accepted).
pub struct Target<'a> {
    /// Name (also the folder of its regressions).
    pub name: &'static str,
    /// Valid files to mutate.
    pub seeds: Vec<Vec<u8>>,
    /// The check.
    pub check: Check<'a>,
}

/// What one target's run did.
#[derive(Debug)]
pub struct Report {
    /// Target name.
    pub name: &'static str,
    /// Inputs run.
    pub cases: usize,
    /// Inputs the parser accepted.
    pub accepted: usize,
    /// Slowest input.
    pub slowest: Duration,
    /// The first failure (a panic, a slow input or a broken property), shrunk.
    pub failure: Option<String>,
}

fn failure_dir(name: &str) -> PathBuf {
    super::root().join("target/fuzz-failures").join(name)
}

/// The regression inputs kept for `name`.
pub fn regressions(name: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = super::root().join("tests/fuzz_regressions").join(name);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return vec![];
    };
    let mut out: Vec<(PathBuf, Vec<u8>)> = entries
        .flatten()
        .map(|e| (e.path(), std::fs::read(e.path()).unwrap()))
        .collect();
    out.sort();
    out
}

/// Runs one input under the property: no panic (caught), within [`TIME_LIMIT`], check Ok.
fn one(target: &Target<'_>, input: &[u8]) -> Result<(bool, Duration), String> {
    let t = Instant::now();
    let verdict = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (target.check)(input)));
    let took = t.elapsed();
    let accepted = match verdict {
        Err(_) => return Err("panicked".into()),
        Ok(Err(broken)) => return Err(broken),
        Ok(Ok(a)) => a,
    };
    if took > TIME_LIMIT {
        return Err(format!("took {took:?}"));
    }
    Ok((accepted, took))
}

/// Runs `cases` mutated inputs (seeded by `seed`) and every kept regression of `target`;
/// a failure is shrunk (for at most a minute).
pub fn run(target: &Target<'_>, cases: u32, seed: u64) -> Report {
    run_with(target, cases, seed, true)
}

/// [`run`], shrinking a failure or not.
pub fn run_with(target: &Target<'_>, cases: u32, seed: u64, shrink: bool) -> Report {
    let accepted = AtomicUsize::new(0);
    let ran = AtomicUsize::new(0);
    let slowest = AtomicU64::new(0);
    let mut failure = None;
    for (path, input) in regressions(target.name) {
        if let Err(e) = one(target, &input) {
            failure = Some(format!("regression {}: {e}", path.display()));
        }
    }
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: if shrink { 2_000 } else { 0 },
        max_shrink_time: 60_000,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed.to_le_bytes().repeat(4));
    let mut runner = TestRunner::new_with_rng(config, rng);
    let result = runner.run(&mutations(), |(which, muts)| {
        let seed_file = &target.seeds[which.index(target.seeds.len())];
        let input = apply(seed_file, &muts);
        ran.fetch_add(1, Relaxed);
        match one(target, &input) {
            Ok((a, took)) => {
                accepted.fetch_add(usize::from(a), Relaxed);
                slowest.fetch_max(took.as_micros() as u64, Relaxed);
                Ok(())
            }
            Err(e) => {
                let dir = failure_dir(target.name);
                let _ = std::fs::create_dir_all(&dir);
                let path = dir.join(format!("{}.bin", input.len()));
                let _ = std::fs::write(&path, &input);
                Err(TestCaseError::fail(format!(
                    "{e}; input in {}",
                    path.display()
                )))
            }
        }
    });
    if let Err(e) = result {
        failure.get_or_insert(e.to_string());
    }
    Report {
        name: target.name,
        cases: ran.load(Relaxed),
        accepted: accepted.load(Relaxed),
        slowest: Duration::from_micros(slowest.load(Relaxed)),
        failure,
    }
}

/// The verdict on an input the parser accepted (`true`) or refused with an error.
fn parsed(accepted: bool) -> Verdict {
    Ok(accepted)
}

/// Every target, built on the linear regression (compiled and set up) and the fixture
/// models. Building them proves and compiles the Solidity verifier once.
pub fn targets() -> Vec<Target<'static>> {
    use zkonnx::ProofFile;
    use zkonnx_circuits::execute::quantize_inputs;
    use zkonnx_prover::artifacts::model_from_bytes;
    use zkonnx_verifier::srs::read_srs;
    use zkonnx_verifier::VerifierKey;

    let dir = super::linreg();
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    let verifier = zkonnx::load_verifier(dir).unwrap();
    let model = zkonnx::load_prover(dir).unwrap().model;
    let proof = zkonnx::prove(dir, &super::inputs("linreg", 1)[0]).unwrap();
    let proof_json = proof.to_json().unwrap().into_bytes();
    let honest = (proof.instances.clone(), proof.proof.clone());
    let calldata = zkonnx::evm::evm_calldata_bytes(&proof).unwrap();
    let contract = zkonnx::evm::EvmVerifier::build(dir).unwrap();
    let inputs: Vec<Vec<u8>> = (0..3)
        .map(|i| std::fs::read(super::fixture(&format!("linreg/input_{i}.json"))).unwrap())
        .collect();
    let onnx: Vec<Vec<u8>> = ["linreg", "digits_mlp", "digits_cnn", "sigmoid_mlp"]
        .iter()
        .map(|m| std::fs::read(super::fixture(&format!("{m}/model.onnx"))).unwrap())
        .collect();

    vec![
        Target {
            name: "input_json",
            seeds: inputs,
            check: Box::new(move |b| {
                let Ok(text) = std::str::from_utf8(b) else {
                    return parsed(false);
                };
                match zkonnx::parse_input(text) {
                    Ok(x) => parsed(quantize_inputs(&model, &x).is_ok()),
                    Err(_) => parsed(false),
                }
            }),
        },
        Target {
            name: "proof_json",
            seeds: vec![proof_json],
            check: Box::new(move |b| {
                let Ok(p) = ProofFile::from_json(&String::from_utf8_lossy(b)) else {
                    return parsed(false);
                };
                match zkonnx_verifier::verify(&verifier.srs, &verifier.vk, &p) {
                    Ok(_) if (p.instances.clone(), p.proof.clone()) != honest => {
                        // Same values written otherwise (hex case) are the same statement.
                        let same = p.instance_values().ok() == proof.instance_values().ok()
                            && p.proof_bytes().ok() == proof.proof_bytes().ok();
                        if same {
                            parsed(true)
                        } else {
                            Err("a changed proof verified".into())
                        }
                    }
                    Ok(_) => parsed(true),
                    Err(_) => parsed(false),
                }
            }),
        },
        Target {
            name: "vk_bin",
            seeds: vec![read("vk.bin")],
            check: Box::new(|b| parsed(VerifierKey::from_bytes(b).is_ok())),
        },
        Target {
            name: "kzg_srs",
            seeds: vec![read("kzg.srs")],
            check: Box::new(|b| parsed(read_srs(b).is_ok())),
        },
        Target {
            name: "model_zkc",
            seeds: vec![read("model.zkc")],
            // A model that parses is planned and run on its inputs' smallest values.
            check: Box::new(|b| match model_from_bytes(b) {
                Ok(c) => {
                    let plan = zkonnx_circuits::planner::plan_with(
                        &c.model,
                        &Default::default(),
                        Some(c.lanes),
                    );
                    let small = c.model.inputs.iter().all(|i| i.len() <= 1 << 16);
                    if plan.is_ok() && small {
                        let x = c
                            .model
                            .inputs
                            .iter()
                            .map(|i| vec![i.domain.lo as i128; i.len()])
                            .collect();
                        let _ = zkonnx_circuits::execute::execute(&c.model, x);
                    }
                    parsed(plan.is_ok())
                }
                Err(_) => parsed(false),
            }),
        },
        Target {
            name: "onnx",
            seeds: onnx,
            // A model that loads is calibrated on a zero sample, which runs tract on it.
            check: Box::new(
                |b| match zkonnx_onnx::load::load_bytes(b.to_vec(), "fuzz") {
                    Ok(m) => {
                        let sample: Vec<Vec<f64>> = m
                            .graph
                            .inputs
                            .iter()
                            .map(|(_, shape)| vec![0.0; shape.iter().product()])
                            .collect();
                        if sample.iter().map(Vec::len).sum::<usize>() <= 1 << 16 {
                            let opts = zkonnx::CalibrateOptions::default();
                            let _ = zkonnx_onnx::calibrate(&m, &[sample], &opts);
                        }
                        parsed(true)
                    }
                    Err(_) => parsed(false),
                },
            ),
        },
        Target {
            name: "calldata",
            seeds: vec![calldata.clone()],
            check: Box::new(move |b| match contract.verify_calldata(b.to_vec()) {
                Ok(_) if b != calldata.as_slice() => {
                    Err("the contract accepted changed call data".into())
                }
                Ok(_) => parsed(true),
                Err(_) => parsed(false),
            }),
        },
    ]
}
