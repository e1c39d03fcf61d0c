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
use zkonnx_circuits::{Model, ModelCircuit, Trace};
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
    /// Proves one input (one value list per graph input): quantizes it, checks it lies in
    /// the input domains, runs the reference execution and proves its trace.
    ///
    /// # Errors
    /// [`ProverError::Eval`] for an input of the wrong shape, outside its domain, or driving
    /// a node outside its calibrated domain; [`ProverError::Halo2`] if proving fails.
    pub fn prove(&self, inputs: &[Vec<f64>]) -> Result<ProofFile, ProverError> {
        let q = quantize_inputs(&self.model, inputs)?;
        self.prove_trace(execute(&self.model, q)?)
    }

    /// Proves a trace of the model as it is, whether the reference execution would accept
    /// it or not: what a prover who skips that execution can do. The soundness tests use it
    /// to show that such proofs are rejected.
    ///
    /// # Errors
    /// [`ProverError::Halo2`] if halo2 cannot synthesize the circuit for this trace.
    pub fn prove_trace(&self, trace: Trace) -> Result<ProofFile, ProverError> {
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
