//! Deploying a verifier in an in-process EVM (revm) and calling it with a proof.
//!
//! A split verifier ([`crate::split`]) is deployed part by part, then the main contract with
//! the parts' addresses as constructor arguments; the proof is sent to the main contract.

use crate::error::EvmError;
use crate::solc::{Compiled, CompiledSource};
use crate::split::VerifierSource;
use crate::MAX_CODE_SIZE;
use revm::context::result::{ExecutionResult, Output};
use revm::context::TxEnv;
use revm::database::InMemoryDB;
pub use revm::primitives::Address;
use revm::primitives::TxKind;
use revm::{Context, ExecuteCommitEvm, MainBuilder, MainContext};

/// Gas and sizes of one verification on the EVM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// Gas the call used (including the 21,000 of the transaction).
    pub gas_used: u64,
    /// Deployed code size of each contract, in deployment order (the main contract last).
    pub sizes: Vec<(String, usize)>,
}

impl Receipt {
    /// The largest deployed code (what EIP-170 limits).
    pub fn deployed_size(&self) -> usize {
        self.sizes.iter().map(|(_, s)| *s).max().unwrap_or(0)
    }
}

/// Deploys the contracts of `source` and calls the main one with `calldata`; `Ok` only if
/// the contract accepted.
pub fn deploy_and_call(
    source: &VerifierSource,
    compiled: &CompiledSource,
    calldata: Vec<u8>,
) -> Result<Receipt, EvmError> {
    let contracts = in_order(source, compiled)?;
    let mut chain = Chain::default();
    let (main, parts) = contracts
        .split_last()
        .ok_or_else(|| EvmError::Deploy("no contract".into()))?;
    let parts = parts
        .iter()
        .map(|c| chain.create(c.bytecode.clone()))
        .collect::<Result<Vec<_>, _>>()?;
    let main = chain.create(with_parts(main, &parts))?;
    let gas_used = chain.call(main, calldata)?;
    Ok(Receipt {
        gas_used,
        sizes: contracts
            .iter()
            .map(|c| (c.name.clone(), c.deployed.len()))
            .collect(),
    })
}

/// The compiled contracts of `source` in deployment order (parts, then main), each refused
/// if its code exceeds EIP-170.
pub(crate) fn in_order<'a>(
    source: &VerifierSource,
    compiled: &'a CompiledSource,
) -> Result<Vec<&'a Compiled>, EvmError> {
    source
        .deploy_order()
        .iter()
        .map(|name| checked(compiled, name))
        .collect()
}

/// The contract `name`, refused if its code exceeds EIP-170.
fn checked<'a>(compiled: &'a CompiledSource, name: &str) -> Result<&'a Compiled, EvmError> {
    let c = compiled
        .get(name)
        .ok_or_else(|| EvmError::Deploy(format!("solc produced no contract {name}")))?;
    if c.deployed.len() > MAX_CODE_SIZE {
        return Err(EvmError::TooLarge {
            size: c.deployed.len(),
            limit: MAX_CODE_SIZE,
        });
    }
    Ok(c)
}

/// The creation code of a main contract with its parts' addresses as constructor arguments.
pub fn with_parts(main: &Compiled, parts: &[Address]) -> Vec<u8> {
    let mut code = main.bytecode.clone();
    for a in parts {
        code.extend_from_slice(&[0u8; 12]);
        code.extend_from_slice(a.as_slice());
    }
    code
}

/// An in-memory chain with one sender.
pub struct Chain {
    evm: revm::handler::MainnetEvm<revm::handler::MainnetContext<InMemoryDB>>,
    nonce: u64,
}

impl Default for Chain {
    fn default() -> Self {
        Self {
            evm: Context::mainnet()
                .with_db(InMemoryDB::default())
                .build_mainnet(),
            nonce: 0,
        }
    }
}

impl Chain {
    fn transact(&mut self, kind: TxKind, data: Vec<u8>) -> Result<ExecutionResult, EvmError> {
        let tx = TxEnv {
            gas_limit: 30_000_000,
            kind,
            data: data.into(),
            nonce: self.nonce,
            ..Default::default()
        };
        self.nonce += 1;
        self.evm
            .transact_commit(tx)
            .map_err(|e| EvmError::Deploy(format!("the EVM refused the transaction: {e}")))
    }

    /// Deploys `code`; returns the contract's address.
    pub fn create(&mut self, code: Vec<u8>) -> Result<Address, EvmError> {
        match self.transact(TxKind::Create, code)? {
            ExecutionResult::Success {
                output: Output::Create(_, Some(address)),
                ..
            } => Ok(address),
            other => Err(EvmError::Deploy(format!(
                "the deployment did not succeed ({})",
                outcome(&other)
            ))),
        }
    }

    /// Calls `to`; returns the gas used if the call succeeded.
    pub fn call(&mut self, to: Address, data: Vec<u8>) -> Result<u64, EvmError> {
        match self.transact(TxKind::Call(to), data)? {
            ExecutionResult::Success { gas_used, .. } => Ok(gas_used),
            other => Err(EvmError::Rejected(outcome(&other))),
        }
    }
}

/// One line on how a transaction ended.
fn outcome(r: &ExecutionResult) -> String {
    match r {
        ExecutionResult::Success { gas_used, .. } => format!("succeeded, gas used {gas_used}"),
        ExecutionResult::Revert { gas_used, .. } => format!("reverted, gas used {gas_used}"),
        ExecutionResult::Halt { reason, gas_used } => {
            format!("halted ({reason:?}), gas used {gas_used}")
        }
    }
}
