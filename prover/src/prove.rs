//! Proving: quantize the input, run the reference execution, and create a SHPLONK proof
//! with the EVM transcript.

use crate::error::ProverError;
use halo2_proofs::plonk::{create_proof, ProvingKey};
use halo2_proofs::poly::kzg::commitment::KZGCommitmentScheme;
use halo2_proofs::poly::kzg::multiopen::ProverSHPLONK;
use halo2_proofs::transcript::TranscriptWriterBuffer;
use rand::rngs::OsRng;
use std::sync::Arc;
use zkonnx_circuits::execute::{execute, quantize_inputs};
use zkonnx_circuits::{Model, ModelCircuit};
use zkonnx_verifier::proof_file::{fr_to_hex, PROOF_VERSION};
use zkonnx_verifier::{
    Bn256, EvmTranscript, G1Affine, ProofFile, Srs, VerifierKey, TRANSCRIPT_EVM,
};

/// Everything proving needs, loaded once and reused for many inputs.
pub struct Prover {
    /// The compiled model.
    pub model: Arc<Model>,
    /// The circuit without witness.
    pub circuit: ModelCircuit,
    /// The SRS.
    pub srs: Srs,
    /// The proving key.
    pub pk: ProvingKey<G1Affine>,
    /// The verifying key file (for its hash and scales).
    pub vk: VerifierKey,
}

impl Prover {
    /// Proves one input (one value list per graph input).
    pub fn prove(&self, inputs: &[Vec<f64>]) -> Result<ProofFile, ProverError> {
        let q = quantize_inputs(&self.model, inputs)?;
        let trace = execute(&self.model, q)?;
        let instances = trace.instances(&self.model);
        let outputs = trace.dequantized_outputs(&self.model);
        let circuit = self.circuit.with_trace(Arc::new(trace));
        let mut transcript =
            <EvmTranscript<Vec<u8>> as TranscriptWriterBuffer<_, _, _>>::init(Vec::new());
        create_proof::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, _, _, _, _>(
            &self.srs,
            &self.pk,
            &[circuit],
            &[&[&instances]],
            OsRng,
            &mut transcript,
        )
        .map_err(|e| ProverError::Halo2(e.to_string()))?;
        let proof = transcript.finalize();
        Ok(ProofFile {
            version: PROOF_VERSION,
            model_hash: self.vk.header.model_hash.clone(),
            vk_hash: self.vk.hash.clone(),
            transcript: TRANSCRIPT_EVM.into(),
            instances: vec![instances.iter().map(fr_to_hex).collect()],
            outputs,
            proof: format!("0x{}", hex::encode(proof)),
        })
    }
}
