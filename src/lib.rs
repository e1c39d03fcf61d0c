//! zkonnx: prove that an ONNX model produced an output, with halo2 (KZG on BN254).
//!
//! The four steps, each a function of this crate:
//!
//! 1. [`compile`] loads the ONNX model, calibrates it on sample inputs and writes
//!    `settings.json` and `model.zkc` into a model directory.
//! 2. [`setup`] makes (or loads) the SRS and the proving and verifying keys.
//! 3. [`prove`] (or [`load_prover`] then [`zkonnx_prover::Prover::prove`] for many inputs)
//!    writes a [`ProofFile`].
//! 4. [`verify`] checks a proof against `vk.bin` and returns the outputs it proves.
//!
//! ```no_run
//! use std::path::Path;
//! let dir = Path::new("out/digits");
//! let sample = zkonnx::read_input(Path::new("fixtures/digits_mlp/input_0.json"))?;
//! zkonnx::compile(Path::new("fixtures/digits_mlp/model.onnx"), &[sample.clone()], &Default::default(), dir)?;
//! zkonnx::setup(dir, None)?;
//! let proof = zkonnx::prove(dir, &sample)?;
//! let verified = zkonnx::verify(dir, &proof)?;
//! println!("{:?}", verified.outputs);
//! # Ok::<(), zkonnx::Error>(())
//! ```

mod api;
pub mod batch;
mod error;
pub mod evm;
mod input;
mod settings;

pub use api::{
    compile, load_prover, load_verifier, prove, read_proof, setup, verify, CompileOptions,
    LoadedVerifier, SetupSummary,
};
pub use error::Error;
pub use input::{parse_input, read_input, read_tensor_pb, unsupported_ops};
pub use settings::{NodeSummary, Settings};
pub use zkonnx_circuits::planner::{PlanOptions, Target, LANE_CHOICES};
pub use zkonnx_circuits::CircuitError;
pub use zkonnx_onnx::scope::Nature as OutOfScopeNature;
pub use zkonnx_onnx::{CalibrateOptions, CalibrationReport, InputRange, OnnxError};
pub use zkonnx_prover::artifacts::{names, write_atomic};
pub use zkonnx_prover::{Prover, ProverError};
pub use zkonnx_verifier::{ProofFile, Verified, VerifyError};
