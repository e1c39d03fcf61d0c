//! The SRS: generated locally for testing, or loaded from a ceremony file.
//!
//! A locally generated SRS knows its own trapdoor while it is made; it is fine for tests and
//! benchmarks and unsafe for production, where a ceremony SRS in halo2's params format is
//! loaded with `--srs` (with point checks, and downsized to the circuit's `k`).

use crate::error::{io, ProverError};
use halo2_proofs::poly::commitment::Params;
use rand::rngs::OsRng;
use std::path::Path;
use zkonnx_verifier::srs::read_srs;
use zkonnx_verifier::Srs;

/// A fresh SRS for `k` from the OS's randomness. For testing only.
pub fn generate(k: u32) -> Srs {
    Srs::setup(k, OsRng)
}

/// Loads a ceremony SRS from `path` and downsizes it to `k`.
pub fn load_for_k(path: &Path, k: u32) -> Result<Srs, ProverError> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    let mut srs = read_srs(&bytes)?;
    if srs.k() < k {
        return Err(ProverError::Malformed {
            what: "SRS".into(),
            reason: format!(
                "{} is for k = {}, the circuit needs k = {k}",
                path.display(),
                srs.k()
            ),
        });
    }
    if srs.k() > k {
        srs.downsize(k);
    }
    Ok(srs)
}
