//! Solidity verifier generation with snark-verifier's EVM loader.
//!
//! The loader "runs" the PLONK verifier symbolically and records EVM code: the transcript
//! (Keccak, the encoding the prover uses), the SHPLONK multi-open and the final pairing.
//! The generator unwraps internally on keys it cannot handle, so it runs behind
//! `catch_unwind`: a failure is an error, not a crash.

use crate::assembly::Block;
use crate::contract::Frame;
use crate::error::EvmError;
use crate::solc;
use crate::split::{self, VerifierSource};
use halo2_proofs::halo2curves::bn256::{Bn256, Fq, Fr};
use halo2_proofs::poly::commitment::ParamsProver;
use snark_verifier::loader::evm::EvmLoader;
use snark_verifier::pcs::kzg::{Bdfg21, KzgAs, KzgDecidingKey};
use snark_verifier::system::halo2::transcript::evm::EvmTranscript;
use snark_verifier::system::halo2::{compile, Config};
use snark_verifier::verifier::{plonk::PlonkVerifier, SnarkVerifier};
use std::rc::Rc;
use zkonnx_verifier::{Srs, VerifierKey};

type Verifier = PlonkVerifier<KzgAs<Bn256, Bdfg21>>;

/// The Solidity source of a verifier for `vk` (made with `srs`): one contract, or, when that
/// would exceed EIP-170, a main contract and parts ([`crate::split`]), in zkonnx's frame
/// ([`crate::contract`]: exact call data length, canonical words).
///
/// A split verifier's main contract checks its parts' code hashes, so generating one
/// compiles the parts (the pinned solc must be installed).
pub fn verifier(srs: &Srs, vk: &VerifierKey) -> Result<VerifierSource, EvmError> {
    let code = generate(srs, vk)?;
    let block = Block::parse(&code)?;
    let frame = Frame::new(
        &block,
        &vk.header.model_hash,
        &vk.hash,
        vk.header.num_instances(),
    )?;
    split::fit(
        &block,
        &frame,
        split::WHOLE_BUDGET,
        split::PIECE_BUDGET,
        part_hashes,
    )
}

/// Compiles the part contracts in `source` and returns the keccak256 of each one's deployed
/// code, parts 1 to `parts` in order.
pub fn part_hashes(source: &str, parts: usize) -> Result<Vec<[u8; 32]>, EvmError> {
    let compiled = solc::compile(source)?;
    (1..=parts)
        .map(|i| {
            let name = split::part_name(i);
            compiled
                .get(&name)
                .map(|c| revm::primitives::keccak256(&c.deployed).0)
                .ok_or_else(|| EvmError::Compile(format!("solc produced no contract {name}")))
        })
        .collect()
}

/// The Solidity source snark-verifier generates for `vk` (made with `srs`), as it is: one
/// contract whatever its size, without zkonnx's checks.
pub fn generate(srs: &Srs, vk: &VerifierKey) -> Result<String, EvmError> {
    if zkonnx_verifier::srs::srs_hash(srs) != vk.header.srs_hash {
        return Err(zkonnx_verifier::VerifyError::WrongSrs.into());
    }
    let num_instance = vec![vk.header.num_instances()];
    let run = || -> Result<String, String> {
        let protocol = compile(
            srs,
            &vk.vk,
            Config::kzg().with_num_instance(num_instance.clone()),
        );
        let dk: KzgDecidingKey<Bn256> = (srs.get_g()[0], srs.g2(), srs.s_g2()).into();
        let loader = EvmLoader::new::<Fq, Fr>();
        let protocol = protocol.loaded(&loader);
        let mut transcript = EvmTranscript::<_, Rc<EvmLoader>, _, _>::new(&loader);
        let instances = transcript.load_instances(num_instance.clone());
        let proof = Verifier::read_proof(&dk, &protocol, &instances, &mut transcript)
            .map_err(|e| format!("{e:?}"))?;
        Verifier::verify(&dk, &protocol, &instances, &proof).map_err(|e| format!("{e:?}"))?;
        Ok(loader.solidity_code())
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(Ok(code)) => Ok(code),
        Ok(Err(e)) => Err(EvmError::Generate(e)),
        Err(_) => Err(EvmError::Generate(
            "the generator panicked on this verifying key".into(),
        )),
    }
}
