//! KZG parameters (the SRS) in halo2's params format: `k` as u32 LE, `2^k` G1 points, their
//! Lagrange form, then `g2` and `s·g2`, all uncompressed.
//!
//! Reading checks the length before allocating and that every point is on its curve and not
//! the identity (halo2's own reader checks only that coordinates are canonical), so a
//! truncated, random or altered file is an error, never a panic or a huge allocation.
//!
//! A verifier needs three of the points: `g`, `g2` and `s·g2` (the pairing check). Whoever
//! chooses `s·g2` can open any commitment to any value, so [`srs_hash`] of those three is
//! written into `vk.bin` at setup, and verification refuses an SRS with another hash.

use crate::error::VerifyError;
use crate::{G1Affine, Srs};
use halo2_proofs::arithmetic::CurveAffine;
use halo2_proofs::halo2curves::bn256::G2Affine;
use halo2_proofs::halo2curves::serde::SerdeObject;
use halo2_proofs::poly::commitment::{Params, ParamsProver};
use halo2_proofs::SerdeFormat;
use sha2::{Digest, Sha256};

/// Largest `k` accepted in an SRS file.
pub const MAX_SRS_K: u32 = 26;

/// Size in bytes of an SRS file for `k`.
pub fn srs_len(k: u32) -> u64 {
    4 + 2 * (1u64 << k) * 64 + 2 * 128
}

/// Reads an SRS with length and point checks.
pub fn read_srs(bytes: &[u8]) -> Result<Srs, VerifyError> {
    let bad = |m: String| VerifyError::MalformedSrs(m);
    let head: [u8; 4] = bytes
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| bad("file is shorter than its header".into()))?;
    let k = u32::from_le_bytes(head);
    if k == 0 || k > MAX_SRS_K {
        return Err(bad(format!("k = {k} is outside 1..={MAX_SRS_K}")));
    }
    if bytes.len() as u64 != srs_len(k) {
        return Err(bad(format!(
            "{} bytes, but an SRS for k = {k} has {}",
            bytes.len(),
            srs_len(k)
        )));
    }
    check_points(&bytes[4..], k)?;
    Srs::read_custom(&mut &bytes[..], SerdeFormat::RawBytes).map_err(|e| bad(e.to_string()))
}

/// Every point of an SRS body (`2·2^k` G1 points, then two G2 points, raw): canonical
/// coordinates, on the curve, not the identity.
fn check_points(body: &[u8], k: u32) -> Result<(), VerifyError> {
    let (g1, g2) = body.split_at(2 * (1usize << k) * 64);
    check_group::<G1Affine>(g1, 64, "G1")?;
    check_group::<G2Affine>(g2, 128, "G2")
}

fn check_group<C: CurveAffine + SerdeObject>(
    raw: &[u8],
    size: usize,
    group: &str,
) -> Result<(), VerifyError> {
    for (i, p) in raw.chunks_exact(size).enumerate() {
        let ok = C::from_raw_bytes(p)
            .is_some_and(|p| bool::from(p.is_on_curve()) && !bool::from(p.is_identity()));
        if !ok {
            return Err(VerifyError::MalformedSrs(format!(
                "{group} point #{i} is not a point of the curve"
            )));
        }
    }
    Ok(())
}

/// SHA-256 of the points a verifier uses (`g`, `g2`, `s·g2`), hex.
pub fn srs_hash(srs: &Srs) -> String {
    let mut h = Sha256::new();
    h.update(srs.get_g()[0].to_raw_bytes());
    h.update(srs.g2().to_raw_bytes());
    h.update(srs.s_g2().to_raw_bytes());
    hex::encode(h.finalize())
}

/// Serializes an SRS in the same format.
pub fn write_srs(srs: &Srs) -> Vec<u8> {
    let mut out = Vec::with_capacity(srs_len(srs.k()) as usize);
    // Writing to a Vec cannot fail.
    let _ = srs.write_custom(&mut out, SerdeFormat::RawBytes);
    out
}
