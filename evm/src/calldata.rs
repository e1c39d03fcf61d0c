//! The call data the generated contract reads: every instance as a 32-byte big-endian word,
//! then the proof bytes; no function selector.

use crate::error::EvmError;
use zkonnx_verifier::{ProofFile, TRANSCRIPT_EVM};

/// Encodes a proof file's instances and proof as call data.
pub fn encode(proof: &ProofFile) -> Result<Vec<u8>, EvmError> {
    if proof.transcript != TRANSCRIPT_EVM {
        return Err(EvmError::WrongTranscript(proof.transcript.clone()));
    }
    let instances = proof.instance_values()?;
    let bytes = proof.proof_bytes()?;
    Ok(snark_verifier::loader::evm::encode_calldata(
        &[instances],
        &bytes,
    ))
}

/// The call data as one 0x-prefixed hex line.
pub fn encode_hex(proof: &ProofFile) -> Result<String, EvmError> {
    Ok(format!("0x{}", hex::encode(encode(proof)?)))
}
