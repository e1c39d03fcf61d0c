//! Deploying and calling a verifier in an in-process EVM (revm, through snark-verifier).

use crate::error::EvmError;
use crate::solc::Compiled;
use crate::MAX_CODE_SIZE;

/// Gas and size of one verification on the EVM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// Gas the call used (including the 21,000 of the transaction).
    pub gas_used: u64,
    /// Deployed code size in bytes.
    pub deployed_size: usize,
}

/// Deploys `contract` and calls it with `calldata`; `Ok` only if the contract accepted.
pub fn deploy_and_call(contract: &Compiled, calldata: Vec<u8>) -> Result<Receipt, EvmError> {
    let size = contract.deployed.len();
    if size > MAX_CODE_SIZE {
        return Err(EvmError::TooLarge {
            size,
            limit: MAX_CODE_SIZE,
        });
    }
    let code = contract.bytecode.clone();
    let run = move || snark_verifier::loader::evm::deploy_and_call(code, calldata);
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(Ok(gas_used)) => Ok(Receipt {
            gas_used,
            deployed_size: size,
        }),
        Ok(Err(e)) if e.starts_with("Contract deployment") => Err(EvmError::Deploy(e)),
        Ok(Err(e)) => Err(EvmError::Rejected(
            e.lines().next().unwrap_or("reverted").to_string(),
        )),
        Err(_) => Err(EvmError::Deploy("the EVM executor panicked".into())),
    }
}
