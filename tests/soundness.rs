//! End-to-end soundness: altered proofs, other models' keys and corrupt files are rejected
//! with errors (never panics), and settings.json cannot change what a proof says.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use zkonnx::{Error, ProofFile, VerifyError};
use zkonnx_verifier::proof_file::fr_to_hex;
use zkonnx_verifier::Fr;

fn proof(dir: &std::path::Path, model: &str, i: usize) -> ProofFile {
    zkonnx::prove(dir, &inputs(model, i + 1)[i]).unwrap()
}

fn verify_err(dir: &std::path::Path, p: &ProofFile) -> VerifyError {
    match zkonnx::verify(dir, p) {
        Err(Error::Verify(e)) => e,
        other => panic!("expected a verify error, got {other:?}"),
    }
}

#[test]
fn honest_proof_verifies() {
    let p = proof(mlp(), "digits_mlp", 0);
    let v = zkonnx::verify(mlp(), &p).unwrap();
    assert_eq!(v.outputs, p.outputs);
}

#[test]
fn changed_public_output_is_rejected() {
    let mut p = proof(mlp(), "digits_mlp", 0);
    let col = &mut p.instances[0];
    let last = col.len() - 1;
    let bumped = zkonnx_verifier::proof_file::fr_from_hex(&col[last]).unwrap() + Fr::from(1u64);
    col[last] = fr_to_hex(&bumped);
    assert!(matches!(verify_err(mlp(), &p), VerifyError::InvalidProof));
}

#[test]
fn proof_for_another_input_is_rejected() {
    let a = proof(mlp(), "digits_mlp", 0);
    let b = proof(mlp(), "digits_mlp", 1);
    let mixed = ProofFile {
        instances: b.instances.clone(),
        ..a
    };
    assert!(matches!(
        verify_err(mlp(), &mixed),
        VerifyError::InvalidProof
    ));
}

#[test]
fn another_models_vk_is_rejected() {
    let p = proof(mlp(), "digits_mlp", 0);
    assert!(matches!(
        verify_err(linreg(), &p),
        VerifyError::WrongModel { .. }
    ));
    assert!(matches!(
        verify_err(
            linreg(),
            &ProofFile {
                vk_hash: zkonnx::load_verifier(linreg()).unwrap().vk.hash,
                ..p.clone()
            }
        ),
        VerifyError::WrongModelHash { .. }
    ));
    // Even with both hashes forged to match, the key does not accept the proof.
    let other = zkonnx::load_verifier(linreg()).unwrap();
    let forged = ProofFile {
        vk_hash: other.vk.hash.clone(),
        model_hash: other.vk.header.model_hash.clone(),
        ..p.clone()
    };
    assert!(matches!(
        verify_err(linreg(), &forged),
        VerifyError::InstanceCount { .. }
    ));
    let lin = proof(linreg(), "linreg", 0);
    let forged = ProofFile {
        vk_hash: other.vk.hash.clone(),
        model_hash: other.vk.header.model_hash.clone(),
        instances: lin.instances.clone(),
        ..p
    };
    assert!(matches!(
        verify_err(linreg(), &forged),
        VerifyError::InvalidProof
    ));
}

#[test]
fn truncated_or_malformed_proof_is_rejected() {
    let p = proof(linreg(), "linreg", 0);
    let short = ProofFile {
        proof: p.proof[..p.proof.len() / 2].to_string(),
        ..p.clone()
    };
    assert!(matches!(
        verify_err(linreg(), &short),
        VerifyError::InvalidProof | VerifyError::MalformedProof(_)
    ));
    let longer = ProofFile {
        proof: format!("{}00", p.proof),
        ..p.clone()
    };
    assert!(matches!(
        verify_err(linreg(), &longer),
        VerifyError::InvalidProof
    ));
    let mut flipped = p.clone();
    let mut bytes = flipped.proof_bytes().unwrap();
    bytes[100] ^= 1;
    flipped.proof = format!("0x{}", hex_encode(&bytes));
    assert!(matches!(
        verify_err(linreg(), &flipped),
        VerifyError::InvalidProof
    ));
    let bad_hex = ProofFile {
        proof: "0xzz".into(),
        ..p.clone()
    };
    assert!(matches!(
        verify_err(linreg(), &bad_hex),
        VerifyError::MalformedProof(_)
    ));
    let other_transcript = ProofFile {
        transcript: "blake2b".into(),
        ..p
    };
    assert!(matches!(
        verify_err(linreg(), &other_transcript),
        VerifyError::WrongTranscript(_)
    ));
    assert!(ProofFile::from_json("{\"version\": 1").is_err());
}

fn hex_encode(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A copy of `dir` with one file replaced.
fn with_file(dir: &std::path::Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let copy = temp_dir(&format!("copy-{name}-{}", bytes.len()));
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
    }
    std::fs::write(copy.join(name), bytes).unwrap();
    copy
}

#[test]
fn corrupt_vk_and_srs_are_errors() {
    let p = proof(linreg(), "linreg", 0);
    let vk = std::fs::read(linreg().join("vk.bin")).unwrap();
    let srs = std::fs::read(linreg().join("kzg.srs")).unwrap();
    let random: Vec<u8> = (0..vk.len()).map(|i| (i * 7919 % 251) as u8).collect();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("vk.bin", vk[..vk.len() / 2].to_vec()),
        ("vk.bin", vk[..20].to_vec()),
        ("vk.bin", random.clone()),
        ("vk.bin", [vk.as_slice(), &[0u8; 3]].concat()),
        ("kzg.srs", srs[..srs.len() - 10].to_vec()),
        ("kzg.srs", random.clone()),
        ("kzg.srs", vec![]),
    ];
    for (name, bytes) in cases {
        let dir = with_file(linreg(), name, &bytes);
        let err = zkonnx::verify(&dir, &p).unwrap_err();
        let msg = err.to_string();
        assert!(!msg.contains('\n'), "multi-line error: {msg}");
        assert!(msg.contains("malformed"), "{name}: {msg}");
    }
    // Random bytes of exactly an SRS's length fail the point checks.
    let mut junk = srs.clone();
    for (i, b) in junk.iter_mut().enumerate().skip(4) {
        *b = (i * 31 % 256) as u8;
    }
    let dir = with_file(linreg(), "kzg.srs", &junk);
    assert!(zkonnx::verify(&dir, &p)
        .unwrap_err()
        .to_string()
        .contains("malformed SRS"));
}

#[test]
fn editing_settings_does_not_change_verified_outputs() {
    let p = proof(linreg(), "linreg", 0);
    let honest = zkonnx::verify(linreg(), &p).unwrap();
    let text = std::fs::read_to_string(linreg().join("settings.json")).unwrap();
    let edited = text.replace("\"scale\": ", "\"scale\": 1");
    assert_ne!(text, edited);
    let dir = with_file(linreg(), "settings.json", edited.as_bytes());
    assert_eq!(zkonnx::verify(&dir, &p).unwrap(), honest);
    // The outputs field of proof.json is not trusted either.
    let lying = ProofFile {
        outputs: vec![vec![1e6]],
        ..p
    };
    assert_eq!(zkonnx::verify(linreg(), &lying).unwrap(), honest);
}

#[test]
fn public_input_is_in_the_instances_and_bound() {
    let dir = prepared("linreg", true);
    let input = &inputs("linreg", 1)[0];
    let p = zkonnx::prove(&dir, input).unwrap();
    assert_eq!(p.instances[0].len(), 10 + 1);
    let v = zkonnx::verify(&dir, &p).unwrap();
    for (a, b) in v.public_inputs[0].iter().zip(&input[0]) {
        assert!((a - b).abs() < 1e-3, "{a} vs {b}");
    }
    let mut changed = p.clone();
    changed.instances[0][0] = fr_to_hex(&Fr::from(5u64));
    assert!(matches!(
        verify_err(&dir, &changed),
        VerifyError::InvalidProof
    ));
}

#[test]
fn ceremony_srs_file_is_loaded_and_downsized() {
    let dir = temp_dir("srs");
    let k = zkonnx::load_verifier(linreg()).unwrap().vk.header.k;
    let big = zkonnx_prover::srs::generate(k + 1);
    let file = dir.join("ceremony.srs");
    std::fs::write(&file, zkonnx_verifier::srs::write_srs(&big)).unwrap();
    let opts = zkonnx::CompileOptions::default();
    zkonnx::compile(
        &fixture("linreg/model.onnx"),
        &inputs("linreg", 3),
        &opts,
        &dir,
    )
    .unwrap();
    let s = zkonnx::setup(&dir, Some(&file)).unwrap();
    assert!(!s.local_srs);
    let p = zkonnx::prove(&dir, &inputs("linreg", 1)[0]).unwrap();
    zkonnx::verify(&dir, &p).unwrap();
    std::fs::write(&file, b"not an srs").unwrap();
    assert!(zkonnx::setup(&dir, Some(&file))
        .unwrap_err()
        .to_string()
        .contains("malformed SRS"));
}

#[test]
fn a_real_proof_of_an_input_outside_its_domain_is_rejected() {
    // The pixels' domain is [0, 16]. A prover who skips the reference execution proves an
    // input one step above the top or below the bottom; the honest vk rejects the proof,
    // private input or public. The same forging path with the pixel at the top (inside)
    // makes a proof that verifies, so the rejection is the domain's doing.
    for public in [false, true] {
        let dir = mlp_pixels(public);
        for (which, inside) in pixel_edits() {
            let p = forged_proof(dir, "digits_mlp", edit_pixel(which));
            let verdict = zkonnx::verify(dir, &p);
            if inside {
                verdict.unwrap();
            } else {
                assert!(
                    matches!(verdict, Err(Error::Verify(VerifyError::InvalidProof))),
                    "public {public}, {which}: {verdict:?}"
                );
            }
        }
    }
}

#[test]
fn the_verified_statement_names_the_domain_and_an_honest_input_outside_is_refused() {
    let dir = mlp_pixels(false);
    let p = proof(dir, "digits_mlp", 0);
    let v = zkonnx::verify(dir, &p).unwrap();
    assert_eq!(v.domains.len(), 1);
    assert_eq!(v.domains[0].range(), (0.0, 16.0));
    let mut x = inputs("digits_mlp", 1).remove(0);
    x[0][5] = 16.5;
    let msg = zkonnx::prove(dir, &x).unwrap_err().to_string();
    assert!(msg.contains("outside the input's domain [0, 16]"), "{msg}");
}

#[test]
fn the_model_hash_is_the_compiled_models_and_verify_checks_it() {
    use zkonnx_prover::artifacts::{model_from_bytes, model_hash};
    // setup computes it from model.zkc: an edited settings.json does not change it.
    let zkc = std::fs::read(linreg().join("model.zkc")).unwrap();
    let expected = model_hash(&model_from_bytes(&zkc).unwrap()).unwrap();
    let header = zkonnx::load_verifier(linreg()).unwrap().vk.header;
    assert_eq!(header.model_hash, expected);
    let text = std::fs::read_to_string(linreg().join("settings.json")).unwrap();
    let edited = text.replace(&expected, &"0".repeat(64));
    assert_ne!(text, edited);
    let dir = with_file(linreg(), "settings.json", edited.as_bytes());
    zkonnx::setup(&dir, None).unwrap();
    let again = zkonnx::load_verifier(&dir).unwrap().vk.header.model_hash;
    assert_eq!(again, expected);
    // A proof naming another model is refused, even with the right vk hash.
    let p = proof(linreg(), "linreg", 0);
    assert_eq!(p.model_hash, expected);
    let renamed = ProofFile {
        model_hash: "ab".repeat(32),
        ..p
    };
    assert!(matches!(
        verify_err(linreg(), &renamed),
        VerifyError::WrongModelHash { .. }
    ));
}

#[test]
fn an_srs_other_than_the_keys_own_is_refused() {
    // Whoever chooses the verifier's s·g2 can open any commitment to any value, so vk.bin
    // pins the SRS (srs_hash) and verification refuses another, even a well-formed one.
    let p = proof(linreg(), "linreg", 0);
    let k = zkonnx::load_verifier(linreg()).unwrap().vk.header.k;
    let other = zkonnx_verifier::srs::write_srs(&zkonnx_prover::srs::generate(k));
    let dir = with_file(linreg(), "kzg.srs", &other);
    assert!(matches!(verify_err(&dir, &p), VerifyError::WrongSrs));
    let msg = zkonnx::evm::evm_verifier_source(&dir)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("srs_hash"), "{msg}");
    // One flipped byte in a point: not a point of the curve (halo2's reader alone accepts it).
    let mut flipped = std::fs::read(linreg().join("kzg.srs")).unwrap();
    flipped[4 + 64 * 3 + 5] ^= 0x10;
    let dir = with_file(linreg(), "kzg.srs", &flipped);
    let msg = zkonnx::verify(&dir, &p).unwrap_err().to_string();
    assert!(msg.contains("not a point of the curve"), "{msg}");
}
