//! A split verifier behaves like the whole one, on a real compiler and EVM: a toy verifier in
//! the generator's shape (accepts call data `a, b` with `(a + b)² = 49`) is cut into a main
//! contract and three parts; both forms accept and reject the same call data, and a main
//! contract cannot be deployed with parts other than its own. Needs the pinned solc
//! (`npm ci --prefix evm/solc`).

#![allow(clippy::unwrap_used)]

use zkonnx_evm::execute::{deploy_and_call, with_parts, Address, Chain};
use zkonnx_evm::solc::compile;
use zkonnx_evm::solidity::part_hashes;
use zkonnx_evm::split::{fit, part_name, VerifierSource, MAIN};
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

fn calldata(a: u8, b: u8) -> Vec<u8> {
    let mut data = vec![0u8; 64];
    data[31] = a;
    data[63] = b;
    data
}

fn accepts(source: &VerifierSource, a: u8, b: u8) -> bool {
    let compiled = compile(&source.solidity).unwrap();
    match deploy_and_call(source, &compiled, calldata(a, b)) {
        Ok(_) => true,
        Err(EvmError::Rejected(_)) => false,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn a_split_verifier_accepts_and_rejects_like_the_whole_one() {
    let whole = fit(TOY, 100_000, 100_000, part_hashes).unwrap();
    let split = fit(TOY, 10, 10, part_hashes).unwrap();
    assert_eq!((whole.parts, split.parts), (0, 3));
    for source in [&whole, &split] {
        assert!(accepts(source, 3, 4));
        assert!(!accepts(source, 3, 5));
    }
}

#[test]
fn a_main_contract_cannot_be_deployed_with_other_parts() {
    // Main pins its parts' code hashes: an address without code, another part, or a part
    // compiled from other code are refused at deployment, so a deployed main runs exactly
    // the code it was compiled with.
    let split = fit(TOY, 10, 10, part_hashes).unwrap();
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
