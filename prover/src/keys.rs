//! Key generation and the proving key's file.

use crate::error::ProverError;
use halo2_proofs::plonk::{keygen_pk, keygen_vk_custom, ProvingKey, VerifyingKey};
use halo2_proofs::SerdeFormat;
use zkonnx_circuits::ModelCircuit;
use zkonnx_verifier::{G1Affine, Srs};

/// Generates the verifying and proving keys (selectors compressed into few fixed columns).
pub fn keygen(
    srs: &Srs,
    circuit: &ModelCircuit,
) -> Result<(VerifyingKey<G1Affine>, ProvingKey<G1Affine>), ProverError> {
    let halo2 = |e: halo2_proofs::plonk::Error| ProverError::Halo2(e.to_string());
    let vk = keygen_vk_custom(srs, circuit, true).map_err(halo2)?;
    let pk = keygen_pk(srs, vk.clone(), circuit).map_err(halo2)?;
    Ok((vk, pk))
}

/// `pk.bin` bytes.
pub fn pk_to_bytes(pk: &ProvingKey<G1Affine>) -> Vec<u8> {
    pk.to_bytes(SerdeFormat::RawBytes)
}

/// Reads `pk.bin`; `k` from the settings must match the file's, checked before reading.
pub fn pk_from_bytes(
    bytes: &[u8],
    circuit: &ModelCircuit,
) -> Result<ProvingKey<G1Affine>, ProverError> {
    let bad = |reason: String| ProverError::Malformed {
        what: "pk.bin".into(),
        reason,
    };
    let k = bytes
        .get(1..5)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| bad("truncated".into()))?;
    if k != circuit.plan().k {
        return Err(bad(format!(
            "k = {k}, the compiled model has k = {}",
            circuit.plan().k
        )));
    }
    use halo2_proofs::plonk::Circuit;
    ProvingKey::read::<_, ModelCircuit>(&mut &bytes[..], SerdeFormat::RawBytes, circuit.params())
        .map_err(|e| bad(e.to_string()))
}
