//! `proof.json`: a proof with its public values, readable by people and by both verifiers.

use crate::error::VerifyError;
use crate::Fr;
use ff::PrimeField;
use serde::{Deserialize, Serialize};

/// The only transcript zkonnx writes: Keccak in snark-verifier's EVM encoding.
pub const TRANSCRIPT_EVM: &str = "evm";
/// Format version.
pub const PROOF_VERSION: u32 = 1;

/// The proof file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofFile {
    /// [`PROOF_VERSION`].
    pub version: u32,
    /// SHA-256 of the compiled model, hex (the vk header's `model_hash`).
    pub model_hash: String,
    /// SHA-256 of `vk.bin`, hex.
    pub vk_hash: String,
    /// Transcript the proof was made with.
    pub transcript: String,
    /// One array per instance column; each value 0x + 64 hex digits, big-endian.
    pub instances: Vec<Vec<String>>,
    /// Outputs dequantized from the instances, for people; never trusted by a verifier.
    pub outputs: Vec<Vec<f64>>,
    /// The proof bytes, 0x-hex.
    pub proof: String,
}

/// A field element as 0x-prefixed, 64-digit big-endian hex.
pub fn fr_to_hex(f: &Fr) -> String {
    let mut bytes = f.to_repr();
    bytes.as_mut().reverse();
    format!("0x{}", hex::encode(bytes.as_ref()))
}

/// Parses 0x-hex big-endian into a field element; rejects non-canonical values.
pub fn fr_from_hex(s: &str) -> Result<Fr, VerifyError> {
    let bad = || {
        VerifyError::MalformedProof(format!(
            "instance '{s}' is not a 0x-prefixed 64-digit field element"
        ))
    };
    let digits = s.strip_prefix("0x").ok_or_else(bad)?;
    if digits.len() != 64 {
        return Err(bad());
    }
    let mut bytes: [u8; 32] = hex::decode(digits)
        .map_err(|_| bad())?
        .try_into()
        .map_err(|_| bad())?;
    bytes.reverse();
    Option::from(Fr::from_repr(bytes)).ok_or_else(bad)
}

impl ProofFile {
    /// Parses JSON text.
    pub fn from_json(text: &str) -> Result<Self, VerifyError> {
        serde_json::from_str(text).map_err(|e| VerifyError::MalformedProof(e.to_string()))
    }

    /// Pretty JSON text.
    ///
    /// # Errors
    /// [`VerifyError::MalformedProof`] if an output is not a finite number (JSON has none
    /// for NaN or infinities).
    pub fn to_json(&self) -> Result<String, VerifyError> {
        if self.outputs.iter().flatten().any(|v| !v.is_finite()) {
            return Err(VerifyError::MalformedProof(
                "an output is not a finite number".into(),
            ));
        }
        serde_json::to_string_pretty(self).map_err(|e| VerifyError::MalformedProof(e.to_string()))
    }

    /// The proof bytes.
    pub fn proof_bytes(&self) -> Result<Vec<u8>, VerifyError> {
        let digits = self
            .proof
            .strip_prefix("0x")
            .ok_or_else(|| VerifyError::MalformedProof("proof must be 0x-prefixed hex".into()))?;
        hex::decode(digits).map_err(|e| VerifyError::MalformedProof(format!("proof hex: {e}")))
    }

    /// The instance column values.
    pub fn instance_values(&self) -> Result<Vec<Fr>, VerifyError> {
        match self.instances.as_slice() {
            [col] => col.iter().map(|s| fr_from_hex(s)).collect(),
            _ => Err(VerifyError::MalformedProof(format!(
                "expected one instance column, got {}",
                self.instances.len()
            ))),
        }
    }
}
