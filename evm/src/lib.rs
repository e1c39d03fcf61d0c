//! zkonnx-evm: check zkonnx proofs on an EVM.
//!
//! [`solidity`] writes a self-contained Solidity verifier for a model's `vk.bin` (with
//! snark-verifier's EVM loader, SHPLONK, the same Keccak transcript the prover uses):
//! [`assembly`] reads the generated code, [`contract`] writes zkonnx's contracts around it
//! (exact call data length, canonical public values), [`split`] cuts a verifier over EIP-170
//! into a main contract and parts;
//! [`solc`] compiles it with the pinned solc 0.8.19 (npm's WebAssembly build, run by node);
//! [`calldata`] encodes a proof as the contract's call data; [`in_process`] deploys and calls
//! the contracts in an in-process EVM (revm) and reports gas; [`node`] deploys them on a
//! real node and checks proofs there (alloy).

pub mod assembly;
pub mod calldata;
pub mod contract;
pub mod error;
pub mod in_process;
pub mod node;
pub mod solc;
pub mod solidity;
pub mod split;

pub use error::EvmError;

/// EIP-170: the largest deployed contract, in bytes.
pub const MAX_CODE_SIZE: usize = 24_576;

/// Ethereum primitive types (addresses) used in this crate's API.
pub mod primitives {
    pub use alloy::primitives::Address;
}
