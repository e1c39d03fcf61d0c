//! zkonnx's contracts around a verifier, on a real compiler and EVM: a toy verifier in the
//! generator's shape (accepts call data `a, b` with `(a + b)² = 49`) is written whole and cut
//! into a main contract and three parts; both forms accept and reject the same call data,
//! refuse a word `≥ r` and call data of another length, and a main contract cannot be
//! deployed with parts other than its own. Needs the pinned solc (`npm ci --prefix evm/solc`).

#![allow(clippy::unwrap_used)]

use zkonnx_evm::assembly::Block;
use zkonnx_evm::contract::Frame;
use zkonnx_evm::in_process::{deploy_and_call, with_parts, Address, Chain};
use zkonnx_evm::solc::compile;
use zkonnx_evm::solidity::part_hashes;
use zkonnx_evm::split::{self, part_name, VerifierSource, MAIN};
use zkonnx_evm::EvmError;

const TOY: &str = r#"// SPDX-License-Identifier: MIT

pragma solidity 0.8.19;

contract Halo2Verifier {
    fallback(bytes calldata) external returns (bytes memory) {
        assembly ("memory-safe") {
            let data := mload(0x40)
            if iszero(eq(data, 0x80)) {
                revert(0, 0)
            }

            let success := true
            let f_q := 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001
            mstore(0xa0, mod(calldataload(0x0), f_q))
mstore(0xc0, mod(calldataload(0x20), f_q))
mstore(0xe0, addmod(mload(0xa0), mload(0xc0), f_q))
mstore(0x100, mulmod(mload(0xe0), mload(0xe0), f_q))
success := and(eq(mload(0x100), 49), success)

            // Revert if anything fails
            if iszero(success) { revert(0, 0) }

            // Return empty bytes on success
            return(0, 0)

        }
    }
}
"#;

/// The BN254 scalar field's order, big-endian.
const R: [u8; 32] = [
    0x30, 0x64, 0x4e, 0x72, 0xe1, 0x31, 0xa0, 0x29, 0xb8, 0x50, 0x45, 0xb6, 0x81, 0x81, 0x58, 0x5d,
    0x28, 0x33, 0xe8, 0x48, 0x79, 0xb9, 0x70, 0x91, 0x43, 0xe1, 0xf5, 0x93, 0xf0, 0x00, 0x00, 0x01,
];

fn calldata(a: u8, b: u8) -> Vec<u8> {
    let mut data = vec![0u8; 64];
    data[31] = a;
    data[63] = b;
    data
}

/// The toy written whole (budget large) or in pieces of `budget` characters.
fn fit(budget: usize) -> VerifierSource {
    let block = Block::parse(TOY).unwrap();
    let frame = Frame::new(&block, "toy", "toy", 2).unwrap();
    split::fit(&block, &frame, budget, budget, part_hashes).unwrap()
}

fn accepts_data(source: &VerifierSource, data: Vec<u8>) -> bool {
    let compiled = compile(&source.solidity).unwrap();
    match deploy_and_call(source, &compiled, data) {
        Ok(_) => true,
        Err(EvmError::Rejected(_)) => false,
        Err(e) => panic!("{e}"),
    }
}

fn accepts(source: &VerifierSource, a: u8, b: u8) -> bool {
    accepts_data(source, calldata(a, b))
}

#[test]
fn a_split_verifier_accepts_and_rejects_like_the_whole_one() {
    let whole = fit(100_000);
    let split = fit(10);
    assert_eq!((whole.parts, split.parts), (0, 3));
    for source in [&whole, &split] {
        assert!(accepts(source, 3, 4));
        assert!(!accepts(source, 3, 5));
    }
}

#[test]
fn a_word_plus_r_and_call_data_of_another_length_are_refused() {
    // The generated loader reads `mod(word, r)`: without zkonnx's checks, `3 + r` would pass
    // as 3. Appended or missing bytes would be ignored or read as zeros.
    for source in [fit(100_000), fit(10)] {
        let mut plus_r = calldata(3, 4);
        let mut carry = 0u16;
        for i in (0..32).rev() {
            let sum = plus_r[i] as u16 + R[i] as u16 + carry;
            plus_r[i] = sum as u8;
            carry = sum >> 8;
        }
        assert!(!accepts_data(&source, plus_r));
        let mut longer = calldata(3, 4);
        longer.extend([0u8; 64]);
        assert!(!accepts_data(&source, longer));
        assert!(!accepts_data(&source, calldata(3, 4)[..63].to_vec()));
        assert!(accepts(&source, 3, 4));
    }
}

#[test]
fn a_main_contract_cannot_be_deployed_with_other_parts() {
    // Main pins its parts' code hashes: an address without code, another part, or a part
    // compiled from other code are refused at deployment, so a deployed main runs exactly
    // the code it was compiled with.
    let split = fit(10);
    let compiled = compile(&split.solidity).unwrap();
    let main = compiled.get(MAIN).unwrap();
    let mut chain = Chain::default();
    let parts: Vec<Address> = (1..=split.parts)
        .map(|i| {
            let part = compiled.get(&part_name(i)).unwrap();
            chain.create(part.bytecode.clone()).unwrap()
        })
        .collect();
    let missing = vec![parts[0], Address::repeat_byte(0x42), parts[2]];
    assert!(chain.create(with_parts(main, &missing)).is_err());
    let swapped = vec![parts[1], parts[0], parts[2]];
    assert!(chain.create(with_parts(main, &swapped)).is_err());
    // A last part whose final check reads 48 instead of 49.
    let tampered = split
        .solidity
        .replace("eq(mload(0x100), 49)", "eq(mload(0x100), 48)");
    assert_ne!(tampered, split.solidity);
    let other = compile(&tampered).unwrap();
    let part3 = other.get(&part_name(3)).unwrap().bytecode.clone();
    let forged = vec![parts[0], parts[1], chain.create(part3).unwrap()];
    assert!(chain.create(with_parts(main, &forged)).is_err());
    let honest = chain.create(with_parts(main, &parts)).unwrap();
    assert!(chain.call(honest, calldata(3, 4)).is_ok());
    assert!(chain.call(honest, calldata(3, 5)).is_err());
}
