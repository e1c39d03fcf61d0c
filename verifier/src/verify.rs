//! Native verification of a zkonnx proof (SHPLONK over KZG, EVM transcript).

use crate::error::VerifyError;
use crate::proof_file::{ProofFile, TRANSCRIPT_EVM};
use crate::vk_file::VerifierKey;
use crate::{Bn256, EvmTranscript, Srs};
use halo2_proofs::plonk::verify_proof;
use halo2_proofs::poly::commitment::Params;
use halo2_proofs::poly::kzg::commitment::KZGCommitmentScheme;
use halo2_proofs::poly::kzg::multiopen::VerifierSHPLONK;
use halo2_proofs::poly::kzg::strategy::SingleStrategy;
use halo2_proofs::transcript::TranscriptReadBuffer;
use zkonnx_circuits::fixed_point::{dequantize, from_field};

/// What a valid proof says, derived from its instances and the vk alone: there is an input
/// within `domains` such that the quantized model (`model_hash`), evaluated exactly, gives
/// `outputs` (and, when the input is public, it is `public_inputs`).
#[derive(Clone, Debug, PartialEq)]
pub struct Verified {
    /// The compiled model's hash.
    pub model_hash: String,
    /// Every input's domain, from the vk.
    pub domains: Vec<crate::InputDomain>,
    /// Public inputs, dequantized (empty when the input is private).
    pub public_inputs: Vec<Vec<f64>>,
    /// Outputs, dequantized.
    pub outputs: Vec<Vec<f64>>,
}

/// Verifies `proof` against `vk`; `srs` must be the SRS the keys were made with.
pub fn verify(srs: &Srs, vk: &VerifierKey, proof: &ProofFile) -> Result<Verified, VerifyError> {
    if proof.transcript != TRANSCRIPT_EVM {
        return Err(VerifyError::WrongTranscript(proof.transcript.clone()));
    }
    if proof.vk_hash != vk.hash {
        return Err(VerifyError::WrongModel {
            proof: proof.vk_hash.clone(),
            vk: vk.hash.clone(),
        });
    }
    if proof.model_hash != vk.header.model_hash {
        return Err(VerifyError::WrongModelHash {
            proof: proof.model_hash.clone(),
            vk: vk.header.model_hash.clone(),
        });
    }
    let instances = proof.instance_values()?;
    let expected = vk.header.num_instances();
    if instances.len() != expected {
        return Err(VerifyError::InstanceCount {
            expected,
            got: instances.len(),
        });
    }
    if srs.k() != vk.header.k {
        return Err(VerifyError::MalformedSrs(format!(
            "SRS is for k = {}, the key needs k = {}",
            srs.k(),
            vk.header.k
        )));
    }
    if crate::srs::srs_hash(srs) != vk.header.srs_hash {
        return Err(VerifyError::WrongSrs);
    }
    let bytes = proof.proof_bytes()?;
    let mut reader: &[u8] = bytes.as_slice();
    let mut transcript =
        <EvmTranscript<&mut &[u8]> as TranscriptReadBuffer<_, _, _>>::init(&mut reader);
    verify_proof::<
        KZGCommitmentScheme<Bn256>,
        VerifierSHPLONK<'_, Bn256>,
        _,
        _,
        SingleStrategy<'_, Bn256>,
    >(
        srs,
        &vk.vk,
        SingleStrategy::new(srs),
        &[&[&instances]],
        &mut transcript,
    )
    .map_err(|_| VerifyError::InvalidProof)?;
    drop(transcript);
    if !reader.is_empty() {
        return Err(VerifyError::InvalidProof);
    }
    Ok(dequantize_instances(vk, &instances))
}

fn dequantize_instances(vk: &VerifierKey, instances: &[crate::Fr]) -> Verified {
    let mut at = 0;
    let mut take = |metas: &[crate::TensorMeta]| -> Vec<Vec<f64>> {
        metas
            .iter()
            .map(|m| {
                let vals = &instances[at..at + m.len()];
                at += m.len();
                vals.iter()
                    .map(|f| from_field(f).map_or(f64::NAN, |q| dequantize(q, m.scale)))
                    .collect()
            })
            .collect()
    };
    let public_inputs = take(&vk.header.public_inputs);
    let outputs = take(&vk.header.outputs);
    Verified {
        model_hash: vk.header.model_hash.clone(),
        domains: vk.header.inputs.clone(),
        public_inputs,
        outputs,
    }
}
