//! The `zkonnx` command line: a thin layer over the `zkonnx` library.
//!
//! Every failure prints one line on stderr and exits non-zero; success prints what was done.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use zkonnx::{names, CompileOptions, ProofFile};

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
    },
}

fn spinner(msg: &str) -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    pb.set_style(ProgressStyle::with_template("{spinner} {msg} {elapsed}").unwrap_or_else(|_| ProgressStyle::default_spinner()));
    pb.set_message(msg.to_string());
    pb.enable_steady_tick(Duration::from_millis(100));
    pb
}

fn compile(model: &Path, samples: &[PathBuf], out: &Path, public_input: bool) -> Result<()> {
    let samples = samples.iter().map(|p| zkonnx::read_input(p)).collect::<Result<Vec<_>, _>>()?;
    let opts = CompileOptions { public_input, ..Default::default() };
    let s = zkonnx::compile(model, &samples, &opts, out)?;
    let l = &s.layout;
    println!(
        "compiled {} → {}: k = {}, {} rows, {} advice columns, {}-lane dot products, predicted prove {:.3} s",
        model.display(),
        out.display(),
        l.k,
        l.rows,
        l.advice_columns,
        l.lanes,
        l.predicted_prove_s
    );
    if let Some(outs) = s.calibration.get("outputs").and_then(|o| o.as_array()) {
        for o in outs {
            println!(
                "calibration: output '{}' max |quantized - float| = {:.5} ({:.3}% of the largest output)",
                o["name"].as_str().unwrap_or("?"),
                o["max_abs_error"].as_f64().unwrap_or(f64::NAN),
                100.0 * o["relative_error"].as_f64().unwrap_or(f64::NAN)
            );
        }
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
    println!("setup done in {:.2} s: k = {}, vk_hash {}", t.elapsed().as_secs_f64(), s.k, s.vk_hash);
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
    zkonnx::crates::prover::artifacts::write_atomic(out, proof.to_json().as_bytes())?;
    println!("proof written to {} in {:.3} s", out.display(), t.elapsed().as_secs_f64());
    Ok(proof)
}

fn verify(dir: &Path, proof: &Path) -> Result<()> {
    let proof = zkonnx::read_proof(proof)?;
    let t = Instant::now();
    let v = zkonnx::verify(dir, &proof)?;
    println!("proof is valid ({:.1} ms)", t.elapsed().as_secs_f64() * 1e3);
    for (i, x) in v.public_inputs.iter().enumerate() {
        println!("public input {i}: {}", fmt(x));
    }
    for (i, y) in v.outputs.iter().enumerate() {
        println!("output {i}: {}", fmt(y));
    }
    Ok(())
}

fn fmt(v: &[f64]) -> String {
    let parts: Vec<String> = v.iter().map(|x| format!("{x:.4}")).collect();
    format!("[{}]", parts.join(", "))
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Compile { model, sample, out, public_input } => compile(&model, &sample, &out, public_input),
        Command::Setup { dir, srs } => setup(&dir, srs.as_deref()),
        Command::Prove { dir, input, out } => prove(&dir, &input, &out).map(|_| ()),
        Command::Verify { dir, proof } => verify(&dir, &proof),
        Command::Run { model, input, out, public_input } => {
            compile(&model, std::slice::from_ref(&input), &out, public_input)?;
            setup(&out, None)?;
            let proof_path = out.join("proof.json");
            prove(&out, &input, &proof_path)?;
            verify(&out, &proof_path).context("verifying the new proof")?;
            println!("done: {} holds {}, {}, {}, {} and proof.json", out.display(), names::SETTINGS, names::MODEL, names::PK, names::VK);
            Ok(())
        }
    }
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
