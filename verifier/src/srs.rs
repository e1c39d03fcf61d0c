//! KZG parameters (the SRS) in halo2's params format: `k` as u32 LE, `2^k` G1 points, their
//! Lagrange form, then `g2` and `s·g2`, all uncompressed.
//!
//! Reading checks the length before allocating and that every point is on its curve, so a
//! truncated or random file is an error, never a panic or a huge allocation.

use crate::error::VerifyError;
use crate::Srs;
use halo2_proofs::poly::commitment::Params;
use halo2_proofs::SerdeFormat;

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
    Srs::read_custom(&mut &bytes[..], SerdeFormat::RawBytes).map_err(|e| bad(e.to_string()))
}

/// Serializes an SRS in the same format.
pub fn write_srs(srs: &Srs) -> Vec<u8> {
    let mut out = Vec::with_capacity(srs_len(srs.k()) as usize);
    // Writing to a Vec cannot fail.
    let _ = srs.write_custom(&mut out, SerdeFormat::RawBytes);
    out
}
