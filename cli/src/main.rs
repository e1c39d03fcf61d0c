//! The `zkonnx` command line: a thin layer over the `zkonnx` library.
//!
//! Every failure prints one line on stderr and exits non-zero; success prints what was done.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use zkonnx::{names, CalibrateOptions, CompileOptions, PlanOptions, ProofFile};

/// Prints a line to stdout; a closed pipe (`zkonnx … | head`) is not an error worth a panic.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// Prove ONNX model inference in zero knowledge (halo2, KZG on BN254).
#[derive(Parser)]
#[command(name = "zkonnx", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Import an ONNX model, calibrate it on sample inputs and lay out its circuit.
    Compile {
        /// The ONNX model.
        model: PathBuf,
        /// Sample input file(s) for calibration ({"input_data": [[...]]}).
        #[arg(long, required = true, num_args = 1..)]
        sample: Vec<PathBuf>,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// Make the input public (placed in the instances before the outputs).
        #[arg(long)]
        public_input: bool,
        /// The domain of the inputs, which every proof states and the circuit enforces:
        /// `LO:HI` for every input (e.g. `0:1` for pixels), one per input in graph order, or
        /// `NAME=LO:HI`. Default: the domain calibrated from the samples, [-2^b, 2^b) at the
        /// input's scale.
        #[arg(long, value_name = "[NAME=]LO:HI")]
        input_range: Vec<zkonnx::InputRange>,
        /// Force the dot-product width (2, 4, 6, 8, 12, 16, 24 or 32); default: the cost model chooses.
        #[arg(long, value_parser = parse_lanes)]
        lanes: Option<usize>,
        /// What the layout optimizes: `prover` (prove time first) or `evm` (gas of the
        /// on-chain verifier first: fewer committed columns, at some prove time).
        #[arg(long, value_enum, default_value_t = TargetArg::Prover)]
        target: TargetArg,
    },
    /// Make the SRS and the proving and verifying keys.
    Setup {
        /// Model directory written by `compile`.
        dir: PathBuf,
        /// A ceremony SRS in halo2's params format (default: a local SRS, for testing only).
        #[arg(long)]
        srs: Option<PathBuf>,
    },
    /// Prove one input.
    Prove {
        /// Model directory.
        dir: PathBuf,
        /// Input file ({"input_data": [[...]]}).
        input: PathBuf,
        /// Where to write the proof.
        #[arg(long, default_value = "proof.json")]
        out: PathBuf,
    },
    /// Verify a proof; exits 0 if and only if it is valid, and prints the proven outputs.
    Verify {
        /// Model directory (its vk.bin and kzg.srs are used).
        dir: PathBuf,
        /// The proof.
        proof: PathBuf,
    },
    /// Prove many inputs (a folder of *.json or one .jsonl) with keys loaded once, in parallel.
    /// Proofs are written atomically as OUT/<stem>.proof.json (or <stem>.<line>.proof.json);
    /// a rerun skips inputs whose proof exists and verifies; OUT/summary.json lists every input.
    ProveBatch {
        /// Model directory.
        dir: PathBuf,
        /// A folder of *.json input files, or one .jsonl file (one input per line).
        inputs: PathBuf,
        /// Output folder for the proofs and summary.json.
        #[arg(long)]
        out: PathBuf,
        /// Proofs run at once (default: from the core count and the memory a proof needs).
        #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1024))]
        jobs: Option<usize>,
    },
    /// Verify every *.proof.json in a folder; exits 0 if and only if all are valid.
    VerifyBatch {
        /// Model directory.
        dir: PathBuf,
        /// Folder of proofs.
        proofs: PathBuf,
    },
    /// Run the ONNX backend conformance cases under DIR: compile, prove, verify and compare
    /// each with its expected output (1% of the largest expected magnitude); one line per
    /// case, totals, and conformance.json.
    Conformance {
        /// Folder of cases (each a folder with model.onnx and test_data_set_0/).
        dir: PathBuf,
        /// Refuse cases whose circuit needs more than 2^K rows (K from 6 to 24).
        #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(6..=24))]
        max_k: u32,
        /// Where to write the JSON report.
        #[arg(long, default_value = "conformance.json")]
        out: PathBuf,
    },
    /// On-chain verification: Solidity verifier, call data, and a check in an in-process EVM.
    #[command(subcommand)]
    Evm(EvmCommand),
    /// Compile (calibrating on the input), set up, prove and verify in one go.
    Run {
        /// The ONNX model.
        model: PathBuf,
        /// Input file.
        input: PathBuf,
        /// Output directory; the proof is written to DIR/proof.json.
        #[arg(long)]
        out: PathBuf,
        /// Make the input public.
        #[arg(long)]
        public_input: bool,
        /// The domain of the inputs (see `compile --input-range`).
        #[arg(long, value_name = "[NAME=]LO:HI")]
        input_range: Vec<zkonnx::InputRange>,
    },
}

/// `--lanes`: one of the widths the planner supports.
fn parse_lanes(s: &str) -> Result<usize, String> {
    let choices = zkonnx::LANE_CHOICES;
    let list = || {
        let c: Vec<String> = choices.iter().map(|c| c.to_string()).collect();
        c.join(", ")
    };
    match s.parse::<usize>() {
        Ok(l) if choices.contains(&l) => Ok(l),
        _ => Err(format!("'{s}' is not a lane width; use one of {}", list())),
    }
}

/// `--target` values.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum TargetArg {
    Prover,
    Evm,
}

impl From<TargetArg> for zkonnx::Target {
    fn from(t: TargetArg) -> Self {
        match t {
            TargetArg::Prover => Self::Prover,
            TargetArg::Evm => Self::Evm,
        }
    }
}

#[derive(Subcommand)]
enum EvmCommand {
    /// Write the Solidity verifier for the model's verifying key, with solc's standard-JSON
    /// input beside it (<stem>.solc.json) and a foundry.toml with the compiler settings
    /// (unless the folder has one).
    Verifier {
        /// Model directory (after setup).
        dir: PathBuf,
        /// Where to write the contract.
        #[arg(long, default_value = "Verifier.sol")]
        out: PathBuf,
    },
    /// Print the contract's call data for a proof: one 0x-hex line (instances, then proof).
    Calldata {
        /// The proof.
        proof: PathBuf,
    },
    /// Deploy the verifier on a node (the parts of a split verifier first) and print its
    /// address. The deployer's private key is read from the environment variable
    /// ZKONNX_PRIVATE_KEY, never from the command line.
    Deploy {
        /// Model directory.
        dir: PathBuf,
        /// The node's JSON-RPC URL (e.g. http://127.0.0.1:8545).
        #[arg(long)]
        rpc_url: String,
    },
    /// Check a proof with the verifier contract: compiled with solc 0.8.19 and run in an
    /// in-process EVM (prints gas and size), or, with --rpc-url and --address, by eth_call
    /// against the verifier deployed there (after checking that its code is this model's
    /// verifier). Exits 0 only if the contract accepted.
    Verify {
        /// Model directory.
        dir: PathBuf,
        /// The proof.
        proof: PathBuf,
        /// A node's JSON-RPC URL.
        #[arg(long, requires = "address")]
        rpc_url: Option<String>,
        /// The deployed verifier's address (what `zkonnx evm deploy` printed).
        #[arg(long, requires = "rpc_url")]
        address: Option<zkonnx::evm::Address>,
    },
}

fn evm(cmd: EvmCommand) -> Result<()> {
    match cmd {
        EvmCommand::Verifier { dir, out } => {
            let w = zkonnx::evm::write_verifier(&dir, &out)?;
            out!(
                "wrote {} ({} bytes of Solidity; compiles with {})",
                out.display(),
                w.source.solidity.len(),
                zkonnx::evm::solc_settings()
            );
            out!(
                "wrote {} (solc standard-JSON input)",
                w.standard_json.display()
            );
            match &w.foundry_toml {
                Some(p) => out!("wrote {} (the same settings for Foundry)", p.display()),
                None => out!(
                    "kept the foundry.toml beside it; for a split verifier its settings must match the header of {}",
                    out.display()
                ),
            }
            if w.source.parts > 0 {
                out!(
                    "the verifier is split to fit EIP-170: deploy {}, then Halo2Verifier with their addresses as constructor arguments, in that order (`zkonnx evm deploy` does this); send proofs to Halo2Verifier",
                    w.source.deploy_order()[..w.source.parts].join(", ")
                );
            }
        }
        EvmCommand::Calldata { proof } => {
            out!(
                "{}",
                zkonnx::evm::evm_calldata(&zkonnx::read_proof(&proof)?)?
            );
        }
        EvmCommand::Deploy { dir, rpc_url } => evm_deploy(&dir, &rpc_url)?,
        EvmCommand::Verify {
            dir,
            proof,
            rpc_url,
            address,
        } => match (rpc_url, address) {
            (Some(rpc), Some(address)) => evm_verify_at(&dir, &proof, &rpc, address)?,
            _ => evm_verify_local(&dir, &proof)?,
        },
    }
    Ok(())
}

fn build_verifier(dir: &Path) -> Result<zkonnx::evm::EvmVerifier> {
    let pb = spinner("compiling the verifier");
    let contract = zkonnx::evm::EvmVerifier::build(dir);
    pb.finish_and_clear();
    Ok(contract?)
}

fn evm_deploy(dir: &Path, rpc: &str) -> Result<()> {
    use zkonnx::evm::KEY_VAR;
    let key = std::env::var(KEY_VAR).map_err(|_| {
        anyhow::anyhow!("set {KEY_VAR} to the deployer's private key (hex); it is never read from the command line")
    })?;
    let key = zkonnx::evm::signer(&key)?;
    let contract = build_verifier(dir)?;
    let pb = spinner("deploying");
    let d = contract.deploy(rpc, &key);
    pb.finish_and_clear();
    let d = d?;
    for (i, p) in d.parts.iter().enumerate() {
        out!("part {}: {p}", i + 1);
    }
    out!("verifier deployed at {}", d.address);
    out!("deployment gas: {}", d.gas_used);
    Ok(())
}

fn evm_verify_at(dir: &Path, proof: &Path, rpc: &str, address: zkonnx::evm::Address) -> Result<()> {
    let data = zkonnx::evm::evm_calldata_bytes(&zkonnx::read_proof(proof)?)?;
    let contract = build_verifier(dir)?;
    let gas = contract.verify_at(rpc, address, data)?;
    out!("the verifier at {address} accepted the proof");
    out!("gas as a transaction (eth_estimateGas): {gas}");
    Ok(())
}

fn evm_verify_local(dir: &Path, proof: &Path) -> Result<()> {
    let proof = zkonnx::read_proof(proof)?;
    let contract = build_verifier(dir)?;
    let receipt = contract.verify(&proof)?;
    out!("the contract accepted the proof");
    out!("gas used: {}", receipt.gas_used);
    let sizes: Vec<String> = receipt
        .sizes
        .iter()
        .map(|(name, size)| format!("{name} {size}"))
        .collect();
    out!(
        "deployed size: {} bytes (EIP-170 limit {}; {})",
        receipt.deployed_size(),
        zkonnx::evm::MAX_CODE_SIZE,
        contract.compiled.settings
    );
    if receipt.sizes.len() > 1 {
        out!("contracts: {}", sizes.join(", "));
    }
    Ok(())
}

fn conformance(dir: &Path, max_k: u32, out: &Path) -> Result<()> {
    use zkonnx_cli::conformance::{run_all, Outcome};
    let work = std::env::temp_dir().join(format!("zkonnx-conformance-{}", std::process::id()));
    let report = run_all(dir, &work, max_k, |r| {
        let (tag, why) = match &r.outcome {
            Outcome::Pass => ("pass", String::new()),
            Outcome::Fail { reason } => ("FAIL", format!(": {reason}")),
            Outcome::Refused { category, reason } => (
                "refused",
                format!(" [{}]: {reason}", category_name(*category)),
            ),
            Outcome::Unsupported { reason } => ("unsupported", format!(": {reason}")),
        };
        out!("{tag:<11} {}{why}", r.case);
    });
    let _ = std::fs::remove_dir_all(&work);
    out!(
        "total {}: {} pass, {} fail, {} refused, {} unsupported",
        report.cases.len(),
        report.pass,
        report.fail,
        report.refused,
        report.unsupported
    );
    let by_category: Vec<String> = report
        .categories
        .iter()
        .map(|(c, n)| format!("{} {n}", category_name(*c)))
        .collect();
    out!("refusals by category: {}", by_category.join(", "));
    let json = serde_json::to_string_pretty(&report).context("serializing the report")?;
    zkonnx::write_atomic(out, json.as_bytes())?;
    if report.fail > 0 {
        anyhow::bail!("{} case(s) failed", report.fail);
    }
    Ok(())
}

/// A refusal category's name as `conformance.json` spells it.
fn category_name(c: zkonnx_cli::conformance::Category) -> String {
    serde_json::to_value(c)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn spinner(msg: &str) -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.set_message(msg.to_string());
    pb.enable_steady_tick(Duration::from_millis(100));
    pb
}

fn compile(model: &Path, samples: &[PathBuf], out: &Path, opts: CompileOptions) -> Result<()> {
    let samples = samples
        .iter()
        .map(|p| zkonnx::read_input(p))
        .collect::<Result<Vec<_>, _>>()?;
    let s = zkonnx::compile(model, &samples, &opts, out)?;
    let l = &s.layout;
    out!(
        "compiled {} → {}: k = {}, {} rows, {} advice columns, {}-lane dot products, predicted prove {:.3} s",
        model.display(),
        out.display(),
        l.k,
        l.rows,
        l.advice_columns,
        l.lanes,
        l.predicted_prove_s
    );
    for o in &s.calibration.outputs {
        out!(
            "calibration: output '{}' max |quantized - float| = {:.5} ({:.3}% of the largest output)",
            o.name,
            o.max_abs_error,
            100.0 * o.relative_error
        );
    }
    Ok(())
}

fn setup(dir: &Path, srs: Option<&Path>) -> Result<()> {
    if srs.is_none() {
        eprintln!("warning: generating a local SRS: fine for testing, NOT for production (pass --srs with a ceremony SRS)");
    }
    let pb = spinner("generating keys");
    let t = Instant::now();
    let s = zkonnx::setup(dir, srs);
    pb.finish_and_clear();
    let s = s?;
    out!(
        "setup done in {:.2} s: k = {}, vk_hash {}",
        t.elapsed().as_secs_f64(),
        s.k,
        s.vk_hash
    );
    Ok(())
}

fn prove(dir: &Path, input: &Path, out: &Path) -> Result<ProofFile> {
    let inputs = zkonnx::read_input(input)?;
    let prover = zkonnx::load_prover(dir)?;
    let pb = spinner("proving");
    let t = Instant::now();
    let proof = prover.prove(&inputs);
    pb.finish_and_clear();
    let proof = proof?;
    zkonnx::write_atomic(out, proof.to_json()?.as_bytes())?;
    out!(
        "proof written to {} in {:.3} s",
        out.display(),
        t.elapsed().as_secs_f64()
    );
    Ok(proof)
}

fn verify(dir: &Path, proof: &Path) -> Result<()> {
    let proof = zkonnx::read_proof(proof)?;
    let t = Instant::now();
    let v = zkonnx::verify(dir, &proof)?;
    out!("proof is valid ({:.1} ms)", t.elapsed().as_secs_f64() * 1e3);
    out!(
        "statement: there is an input within the domain below such that the quantized model {}, evaluated exactly, gives these outputs",
        v.model_hash
    );
    for d in &v.domains {
        let (lo, hi) = d.range();
        out!(
            "input '{}' {:?}: every value in [{lo}, {hi}] (steps of 2^-{})",
            d.name,
            d.shape,
            d.scale
        );
    }
    for (i, x) in v.public_inputs.iter().enumerate() {
        out!("public input {i}: {}", fmt(x));
    }
    for (i, y) in v.outputs.iter().enumerate() {
        out!("output {i}: {}", fmt(y));
    }
    Ok(())
}

fn prove_batch(dir: &Path, inputs: &Path, out: &Path, jobs: Option<usize>) -> Result<()> {
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    use zkonnx::batch::{collect_inputs, prove_batch, Status, SUMMARY};
    let items = collect_inputs(inputs)?;
    let pb = ProgressBar::new(items.len() as u64);
    pb.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let counts = [
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    ];
    let t = Instant::now();
    let summary = prove_batch(dir, &items, out, jobs, |r| {
        let i = match r.status {
            Status::Ok => 0,
            Status::Failed => 1,
            Status::Skipped => 2,
        };
        counts[i].fetch_add(1, Relaxed);
        let [ok, failed, skipped] = counts.each_ref().map(|c| c.load(Relaxed));
        pb.set_message(format!("ok {ok}, failed {failed}, skipped {skipped}"));
        pb.inc(1);
    });
    pb.finish_and_clear();
    let summary = summary?;
    let secs = t.elapsed().as_secs_f64();
    out!(
        "batch: {} ok, {} failed, {} skipped in {secs:.1} s ({:.0} proofs/minute); summary in {}",
        summary.ok,
        summary.failed,
        summary.skipped,
        summary.ok as f64 * 60.0 / secs.max(1e-9),
        out.join(SUMMARY).display()
    );
    let failed: Vec<String> = summary
        .inputs
        .iter()
        .filter(|r| r.status == Status::Failed)
        .map(|r| format!("{} ({})", r.name, r.reason.as_deref().unwrap_or("?")))
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("{} input(s) failed: {}", failed.len(), failed.join("; "))
    }
}

fn verify_batch(dir: &Path, proofs: &Path) -> Result<()> {
    let reports = zkonnx::batch::verify_batch(dir, proofs)?;
    let mut invalid = Vec::new();
    for r in &reports {
        let name = r
            .path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        match &r.result {
            Ok(()) => out!("ok       {name}"),
            Err(e) => {
                out!("INVALID  {name}: {e}");
                invalid.push(name);
            }
        }
    }
    if invalid.is_empty() {
        out!("all {} proofs are valid", reports.len());
        Ok(())
    } else {
        anyhow::bail!(
            "{} of {} proofs are invalid: {}",
            invalid.len(),
            reports.len(),
            invalid.join(", ")
        )
    }
}

fn fmt(v: &[f64]) -> String {
    let parts: Vec<String> = v.iter().map(|x| format!("{x:.4}")).collect();
    format!("[{}]", parts.join(", "))
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Compile {
            model,
            sample,
            out,
            public_input,
            input_range,
            lanes,
            target,
        } => compile(
            &model,
            &sample,
            &out,
            CompileOptions {
                calibration: CalibrateOptions {
                    public_input,
                    input_ranges: input_range,
                    ..Default::default()
                },
                plan: PlanOptions {
                    lanes,
                    target: target.into(),
                },
            },
        ),
        Command::Setup { dir, srs } => setup(&dir, srs.as_deref()),
        Command::Prove { dir, input, out } => prove(&dir, &input, &out).map(|_| ()),
        Command::Verify { dir, proof } => verify(&dir, &proof),
        Command::ProveBatch {
            dir,
            inputs,
            out,
            jobs,
        } => prove_batch(&dir, &inputs, &out, jobs),
        Command::VerifyBatch { dir, proofs } => verify_batch(&dir, &proofs),
        Command::Evm(cmd) => evm(cmd),
        Command::Conformance { dir, max_k, out } => conformance(&dir, max_k, &out),
        Command::Run {
            model,
            input,
            out,
            public_input,
            input_range,
        } => {
            let opts = CalibrateOptions {
                public_input,
                input_ranges: input_range,
                ..Default::default()
            }
            .into();
            compile(&model, std::slice::from_ref(&input), &out, opts)?;
            setup(&out, None)?;
            let proof_path = out.join("proof.json");
            prove(&out, &input, &proof_path)?;
            verify(&out, &proof_path).context("verifying the new proof")?;
            out!(
                "done: {} holds {}, {}, {}, {} and proof.json",
                out.display(),
                names::SETTINGS,
                names::MODEL,
                names::PK,
                names::VK
            );
            Ok(())
        }
    }
}

/// clap's error in one line: its message and what it lists, without usage or tips.
fn one_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let parts: Vec<&str> = text
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:"))
        .filter(|l| {
            !l.is_empty() && !l.starts_with("tip:") && !l.starts_with("For more information")
        })
        .collect();
    parts.join(" ")
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            eprintln!("{}", one_line(&e));
            std::process::exit(2);
        }
    };
    if let Err(e) = run(cli) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
