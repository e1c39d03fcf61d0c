//! zkonnx-verifier: the formats a proof is checked with, and native verification.
//!
//! [`vk_file`] defines `vk.bin` (the halo2 verifying key plus everything verification needs:
//! circuit params, instance layout, output scales), [`proof_file`] defines `proof.json`,
//! [`srs`] reads and writes KZG parameters with point checks, and [`verify`] checks a proof.
//! The prover writes these formats; nothing here depends on the prover, tract or an EVM.

pub mod error;
pub mod proof_file;
pub mod srs;
pub mod verify;
pub mod vk_file;

pub use error::VerifyError;
pub use proof_file::{ProofFile, TRANSCRIPT_EVM};
pub use verify::{verify, Verified};
pub use vk_file::{InputDomain, TensorMeta, VerifierKey, VkHeader};

/// The curve and engine every zkonnx proof uses.
pub use halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine};
/// KZG parameters on BN254.
pub type Srs = halo2_proofs::poly::kzg::commitment::ParamsKZG<Bn256>;
/// The transcript shared by the prover, this verifier and the Solidity verifier.
pub type EvmTranscript<S> = snark_verifier::system::halo2::transcript::evm::EvmTranscript<
    G1Affine,
    snark_verifier::loader::native::NativeLoader,
    S,
    Vec<u8>,
>;
