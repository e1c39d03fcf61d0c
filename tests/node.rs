//! On a real node (anvil, started by `.ci/run` on a loopback port): verifiers deployed with
//! alloy accept honest proofs by `eth_call` and in transactions, and reject a changed
//! output, a public value plus `r`, appended bytes; a split verifier deploys part by part;
//! an address without the verifier's code is never taken for an accepting verifier.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::sync::Mutex;
use zkonnx::evm::{signer, Address, EvmVerifier};
use zkonnx::Error;
use zkonnx_evm::EvmError;

/// Transactions from this binary's key go one at a time (their nonces would race).
static SENDING: Mutex<()> = Mutex::new(());

fn key() -> zkonnx_evm::node::Signer {
    signer(ANVIL_KEYS[0]).unwrap()
}

fn deployed(c: &EvmVerifier, rpc: &str) -> Address {
    let _one = SENDING.lock().unwrap_or_else(|p| p.into_inner());
    c.deploy(rpc, &key()).unwrap().address
}

fn rejected<T>(r: Result<T, Error>) -> bool {
    matches!(r, Err(Error::Evm(EvmError::Rejected(_))))
}

#[test]
fn a_deployed_verifier_accepts_honest_proofs_and_rejects_altered_call_data() {
    let Some(rpc) = node_rpc() else { return };
    let dir = mlp_pixels(false);
    let c = EvmVerifier::build(dir).unwrap();
    let at = deployed(&c, &rpc);
    let proof = zkonnx::prove(dir, &inputs("digits_mlp", 1)[0]).unwrap();
    let data = zkonnx::evm::evm_calldata_bytes(&proof).unwrap();
    c.verify_at(&rpc, at, data.clone()).unwrap();
    let mut changed = proof.clone();
    changed.instances[0][2] = format!("0x{}05", "0".repeat(62));
    let changed = zkonnx::evm::evm_calldata_bytes(&changed).unwrap();
    assert!(rejected(c.verify_at(&rpc, at, changed)));
    assert!(rejected(c.verify_at(&rpc, at, word_plus_r(&data, 0))));
    let mut longer = data.clone();
    longer.extend([0u8; 64]);
    assert!(rejected(c.verify_at(&rpc, at, longer)));
    // A proof of an input outside the pixels' domain, made by skipping the reference.
    let forged = forged_proof(dir, "digits_mlp", edit_pixel("above"));
    let forged = zkonnx::evm::evm_calldata_bytes(&forged).unwrap();
    assert!(rejected(c.verify_at(&rpc, at, forged)));
}

#[test]
fn an_address_without_this_verifier_is_refused_not_accepted() {
    // An empty address "accepts" any eth_call; another model's verifier is another contract.
    let Some(rpc) = node_rpc() else { return };
    let c = EvmVerifier::build(mlp()).unwrap();
    let proof = zkonnx::prove(mlp(), &inputs("digits_mlp", 1)[0]).unwrap();
    let data = zkonnx::evm::evm_calldata_bytes(&proof).unwrap();
    let empty = Address::repeat_byte(0x42);
    let other = deployed(&EvmVerifier::build(linreg()).unwrap(), &rpc);
    for at in [empty, other] {
        match c.verify_at(&rpc, at, data.clone()) {
            Err(Error::Evm(EvmError::NotTheVerifier(msg))) => println!("{msg}"),
            r => panic!("{at}: {r:?}"),
        }
    }
    let unreachable = c.verify_at("http://127.0.0.1:1", empty, data);
    assert!(matches!(unreachable, Err(Error::Evm(EvmError::Node(_)))));
}

#[test]
fn a_split_verifier_deploys_part_by_part_and_checks_proofs() {
    let Some(rpc) = node_rpc() else { return };
    let dir = prepared("attention", false);
    let c = EvmVerifier::build(&dir).unwrap();
    assert!(c.source.parts >= 1);
    let d = {
        let _one = SENDING.lock().unwrap_or_else(|p| p.into_inner());
        c.deploy(&rpc, &key()).unwrap()
    };
    assert_eq!(d.parts.len(), c.source.parts);
    let proof = zkonnx::prove(&dir, &inputs("attention", 1)[0]).unwrap();
    let data = zkonnx::evm::evm_calldata_bytes(&proof).unwrap();
    c.verify_at(&rpc, d.address, data.clone()).unwrap();
    assert!(rejected(c.verify_at(
        &rpc,
        d.address,
        word_plus_r(&data, 1)
    )));
}

#[test]
fn gas_of_the_mlp_on_revm_and_as_a_node_transaction() {
    // The 64-32-10 MLP compiled for the EVM: the goal is ≤ 350,000 gas. revm runs
    // Prague's gas schedule; anvil's latest hardfork prices MODEXP by EIP-7883 (Osaka), and
    // the verifier makes three modular exponentiations, ~8,000 gas more in all.
    let Some(rpc) = node_rpc() else { return };
    let opts = zkonnx::CompileOptions {
        calibration: zkonnx::CalibrateOptions {
            input_ranges: vec!["0:16".parse().unwrap()],
            ..Default::default()
        },
        plan: zkonnx::PlanOptions {
            target: zkonnx::Target::Evm,
            ..Default::default()
        },
    };
    let dir = prepared_with("node-gas", "digits_mlp", &opts);
    let c = EvmVerifier::build(&dir).unwrap();
    let proof = zkonnx::prove(&dir, &inputs("digits_mlp", 1)[0]).unwrap();
    let data = zkonnx::evm::evm_calldata_bytes(&proof).unwrap();
    let revm = c.verify_calldata(data.clone()).unwrap().gas_used;
    let at = deployed(&c, &rpc);
    let node = {
        let _one = SENDING.lock().unwrap_or_else(|p| p.into_inner());
        c.transact(&rpc, &key(), at, data).unwrap()
    };
    println!("digits MLP (--target evm): {revm} gas on revm, {node} gas as an anvil transaction");
    assert!(revm <= 350_000, "{revm}");
    assert!(node <= revm + 12_000, "{node}");
}
