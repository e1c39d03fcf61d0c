//! The four steps over a model directory.

use crate::settings::{NodeSummary, Settings};
use crate::Error;
use std::path::Path;
use std::sync::Arc;
use zkonnx_circuits::planner::PlanOptions;
use zkonnx_circuits::planner::{node_rows, plan_with, CostModel};
use zkonnx_circuits::{Model, ModelCircuit};
use zkonnx_onnx::{calibrate, load, CalibrateOptions};

/// Settings of [`compile`]: how the model is quantized, and how its circuit is planned.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CompileOptions {
    /// Calibration: public inputs, input domains, bits kept.
    pub calibration: CalibrateOptions,
    /// Planning: the lane width, or the target that chooses it.
    pub plan: PlanOptions,
}

impl From<CalibrateOptions> for CompileOptions {
    fn from(calibration: CalibrateOptions) -> Self {
        Self {
            calibration,
            plan: PlanOptions::default(),
        }
    }
}
use zkonnx_prover::artifacts::Compiled;
use zkonnx_prover::artifacts::{self, names};
use zkonnx_prover::{keys, srs, Prover};
use zkonnx_verifier::srs::{read_srs, write_srs};
use zkonnx_verifier::{InputDomain, ProofFile, Srs, TensorMeta, Verified, VerifierKey, VkHeader};

/// Compiles `model` with calibration `samples` into `out`; returns the settings written.
///
/// # Errors
/// [`Error::Onnx`] if the model cannot be read, has an unsupported op (naming the op and the
/// node) or a sample does not fit it; [`Error::Circuit`] if no `k` up to the planner's
/// largest holds it; [`Error::Input`] or [`Error::Prover`] if `out` cannot be written.
pub fn compile(
    model: &Path,
    samples: &[Vec<Vec<f64>>],
    opts: &CompileOptions,
    out: &Path,
) -> Result<Settings, Error> {
    let loaded = load(model)?;
    let (ir, report) = calibrate(&loaded, samples, &opts.calibration)?;
    // The target chooses the lane width; the layout for that width is then planned the way
    // `load_model` re-plans it from `model.zkc`, so both always agree.
    let lanes = opts.plan.lanes(&ir)?;
    let layout = plan_with(&ir, &CostModel::default(), Some(lanes))?;
    let nodes = ir
        .nodes
        .iter()
        .map(|n| NodeSummary {
            name: n.name.clone(),
            op_type: n.op_type.clone(),
            shape: n.shape.clone(),
            scale: n.scale,
            bits: n.op.operator().requant().map(|r| r.bits),
            shift: n.op.operator().requant().map(|r| r.shift),
            rows: node_rows(&ir, n, &layout),
        })
        .collect();
    let compiled = Compiled {
        model: ir,
        lanes: layout.lanes,
    };
    let settings = Settings {
        zkonnx_version: env!("CARGO_PKG_VERSION").into(),
        model_hash: artifacts::model_hash(&compiled)?,
        onnx_sha256: loaded.hash.clone(),
        input_visibility: if opts.calibration.public_input {
            "public"
        } else {
            "private"
        }
        .into(),
        layout,
        inputs: compiled.model.inputs.clone(),
        nodes,
        calibration: report,
    };
    std::fs::create_dir_all(out).map_err(|e| Error::Input {
        path: out.display().to_string(),
        reason: e.to_string(),
    })?;
    let json = serde_json::to_string_pretty(&settings).map_err(unwritable)?;
    artifacts::write_atomic(&out.join(names::SETTINGS), json.as_bytes())?;
    artifacts::write_atomic(
        &out.join(names::MODEL),
        &artifacts::model_to_bytes(&compiled)?,
    )?;
    Ok(settings)
}

/// A settings or report value serde cannot write (a non-finite number).
fn unwritable(e: serde_json::Error) -> Error {
    Error::Input {
        path: names::SETTINGS.into(),
        reason: format!("cannot serialize: {e}"),
    }
}

fn need(dir: &Path, name: &str, step: &'static str) -> Result<Vec<u8>, Error> {
    let path = dir.join(name);
    if !path.exists() {
        return Err(Error::Missing {
            path: path.display().to_string(),
            step,
        });
    }
    Ok(artifacts::read(&path)?)
}

/// A model directory's compiled model: the model, its circuit (laid out from `model.zkc`
/// alone; `settings.json` is never trusted) and its hash.
struct LoadedModel {
    model: Arc<Model>,
    circuit: ModelCircuit,
    hash: String,
}

fn load_model(dir: &Path) -> Result<LoadedModel, Error> {
    let compiled = artifacts::model_from_bytes(&need(dir, names::MODEL, "compile")?)?;
    let hash = artifacts::model_hash(&compiled)?;
    let model = Arc::new(compiled.model);
    let layout = plan_with(&model, &CostModel::default(), Some(compiled.lanes))?;
    let circuit = ModelCircuit::new(model.clone(), layout);
    Ok(LoadedModel {
        model,
        circuit,
        hash,
    })
}

/// What `setup` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetupSummary {
    /// log2 rows.
    pub k: u32,
    /// True when the SRS was generated locally (testing only).
    pub local_srs: bool,
    /// SHA-256 of `vk.bin`.
    pub vk_hash: String,
}

/// Makes the SRS (or loads `srs_file`) and the keys of the model in `dir`.
///
/// # Errors
/// [`Error::Missing`] if `dir` has not been compiled; [`Error::Prover`] if `model.zkc` or
/// the SRS file is malformed, too small for the circuit's `k`, or a file cannot be written.
pub fn setup(dir: &Path, srs_file: Option<&Path>) -> Result<SetupSummary, Error> {
    let LoadedModel {
        model,
        circuit,
        hash,
    } = load_model(dir)?;
    let k = circuit.plan().k;
    let params = match srs_file {
        Some(path) => srs::load_for_k(path, k)?,
        None => srs::generate(k),
    };
    let (vk, pk) = keys::keygen(&params, &circuit)?;
    let meta = |name: &str, shape: &[usize], scale: u32| TensorMeta {
        name: name.into(),
        shape: shape.to_vec(),
        scale,
    };
    let header = VkHeader {
        model_hash: hash,
        k,
        srs_hash: zkonnx_verifier::srs::srs_hash(&params),
        params: circuit.plan().params(),
        inputs: model.inputs.iter().map(InputDomain::from).collect(),
        public_inputs: if model.public_input {
            model
                .inputs
                .iter()
                .map(|i| meta(&i.name, &i.shape, i.scale))
                .collect()
        } else {
            vec![]
        },
        outputs: model
            .outputs
            .iter()
            .map(|&o| meta(&output_name(&model, o), model.shape(o), model.scale(o)))
            .collect(),
    };
    let vk_bytes = VerifierKey::to_bytes(&header, &vk)?;
    artifacts::write_atomic(&dir.join(names::SRS), &write_srs(&params))?;
    artifacts::write_atomic(&dir.join(names::PK), &keys::pk_to_bytes(&pk))?;
    artifacts::write_atomic(&dir.join(names::VK), &vk_bytes)?;
    let vk = VerifierKey::from_bytes(&vk_bytes)?;
    Ok(SetupSummary {
        k,
        local_srs: srs_file.is_none(),
        vk_hash: vk.hash,
    })
}

fn output_name(model: &Model, id: usize) -> String {
    match id.checked_sub(model.inputs.len()) {
        None => model.inputs[id].name.clone(),
        Some(n) => model.nodes[n].name.clone(),
    }
}

fn load_srs(dir: &Path) -> Result<Srs, Error> {
    Ok(read_srs(&need(dir, names::SRS, "setup")?)?)
}

/// Loads everything proving needs, once.
///
/// # Errors
/// [`Error::Missing`] if `dir` has not been compiled and set up; [`Error::Prover`] or
/// [`Error::Verify`] if a key or the SRS is truncated or malformed.
pub fn load_prover(dir: &Path) -> Result<Prover, Error> {
    let LoadedModel { model, circuit, .. } = load_model(dir)?;
    let vk = VerifierKey::from_bytes(&need(dir, names::VK, "setup")?)?;
    let srs = load_srs(dir)?;
    if zkonnx_verifier::srs::srs_hash(&srs) != vk.header.srs_hash {
        return Err(zkonnx_verifier::VerifyError::WrongSrs.into());
    }
    let pk = keys::pk_from_bytes(&need(dir, names::PK, "setup")?, &circuit)?;
    Ok(Prover {
        model,
        circuit,
        srs,
        pk,
        vk,
    })
}

/// Proves one input with the keys in `dir`.
///
/// # Errors
/// As [`load_prover`]; and [`Error::Onnx`] or [`Error::Prover`] if the input has the wrong
/// number of tensors or values, or lies outside the model's domain.
pub fn prove(dir: &Path, inputs: &[Vec<f64>]) -> Result<ProofFile, Error> {
    Ok(load_prover(dir)?.prove(inputs)?)
}

/// The verifying side of a model directory: `vk.bin` and the SRS.
pub struct LoadedVerifier {
    /// The SRS.
    pub srs: Srs,
    /// The verifying key.
    pub vk: VerifierKey,
}

impl LoadedVerifier {
    /// Verifies one proof.
    ///
    /// # Errors
    /// [`Error::Verify`] if the proof is malformed, names another model, or is invalid.
    pub fn verify(&self, proof: &ProofFile) -> Result<Verified, Error> {
        Ok(zkonnx_verifier::verify(&self.srs, &self.vk, proof)?)
    }
}

/// Loads `vk.bin` and `kzg.srs` from `dir`.
///
/// # Errors
/// [`Error::Missing`] if `dir` has not been set up; [`Error::Verify`] if either file is
/// truncated or malformed, or the SRS is not the one the key was made with.
pub fn load_verifier(dir: &Path) -> Result<LoadedVerifier, Error> {
    let vk = VerifierKey::from_bytes(&need(dir, names::VK, "setup")?)?;
    let srs = load_srs(dir)?;
    Ok(LoadedVerifier { srs, vk })
}

/// Verifies `proof` with the keys in `dir`; returns what it proves.
///
/// # Errors
/// As [`load_verifier`] and [`LoadedVerifier::verify`].
pub fn verify(dir: &Path, proof: &ProofFile) -> Result<Verified, Error> {
    load_verifier(dir)?.verify(proof)
}

/// Reads a `proof.json`.
///
/// # Errors
/// [`Error::Verify`] if the file cannot be read or is not a proof file.
pub fn read_proof(path: &Path) -> Result<ProofFile, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| zkonnx_verifier::VerifyError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    Ok(ProofFile::from_json(&text)?)
}
