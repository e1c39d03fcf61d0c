//! A real node over JSON-RPC (alloy): deploying a verifier and checking proofs against a
//! deployed one.
//!
//! [`deploy`] sends the parts of a split verifier first, then the main contract with their
//! addresses; [`verify_at`] checks a proof with `eth_call` after making sure the code at
//! the address is this model's verifier (a call to an address without code "succeeds", so a
//! wrong address must never read as an accepted proof); [`transact`] sends the proof in a
//! transaction, for the gas a chain charges.

use crate::error::EvmError;
use crate::in_process::{in_order, with_parts};
use crate::solc::{Compiled, CompiledSource};
use crate::split::VerifierSource;
use alloy::network::{EthereumWallet, ReceiptResponse, TransactionBuilder};
use alloy::primitives::{Address, Bytes};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use alloy::transports::{RpcError, TransportErrorKind};

/// The environment variable `zkonnx evm deploy` reads the deployer's private key from.
pub const KEY_VAR: &str = "ZKONNX_PRIVATE_KEY";

/// A local signing key.
pub type Signer = PrivateKeySigner;

/// Where a verifier was deployed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deployment {
    /// The main contract (the one proofs are sent to).
    pub address: Address,
    /// The part contracts, in order (empty for a verifier in one contract).
    pub parts: Vec<Address>,
    /// Gas of all the deployment transactions.
    pub gas_used: u64,
}

/// Runs one async RPC exchange to completion on a single-threaded runtime.
fn block_on<T>(f: impl std::future::Future<Output = Result<T, EvmError>>) -> Result<T, EvmError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| EvmError::Node(format!("cannot start the RPC runtime: {e}")))?
        .block_on(f)
}

fn url(rpc: &str) -> Result<alloy::transports::http::reqwest::Url, EvmError> {
    rpc.parse()
        .map_err(|e| EvmError::Node(format!("'{rpc}' is not an RPC URL: {e}")))
}

/// A node error in one line: a revert is the contract's answer, anything else the node's.
fn rpc_error(e: RpcError<TransportErrorKind>) -> EvmError {
    match e.as_error_resp() {
        Some(p) if p.message.contains("revert") => EvmError::Rejected(p.message.to_string()),
        Some(p) => EvmError::Node(format!("the node answered {}: {}", p.code, p.message)),
        None => EvmError::Node(e.to_string()),
    }
}

/// Parses a hex private key (with or without `0x`).
pub fn signer(key: &str) -> Result<PrivateKeySigner, EvmError> {
    key.trim()
        .parse()
        .map_err(|_| EvmError::Node(format!("{KEY_VAR} does not hold a 32-byte hex private key")))
}

/// Deploys the contracts of `source` (parts first) from the account of `key`.
pub fn deploy(
    rpc: &str,
    key: &PrivateKeySigner,
    source: &VerifierSource,
    compiled: &CompiledSource,
) -> Result<Deployment, EvmError> {
    let contracts = in_order(source, compiled)?;
    let (main, parts) = contracts
        .split_last()
        .ok_or_else(|| EvmError::Deploy("no contract".into()))?;
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(key.clone()))
        .connect_http(url(rpc)?);
    block_on(async {
        let mut gas_used = 0;
        let mut addresses = Vec::new();
        for part in parts {
            let (a, gas) = create(&provider, part.bytecode.clone()).await?;
            addresses.push(a);
            gas_used += gas;
        }
        let (address, gas) = create(&provider, with_parts(main, &addresses)).await?;
        Ok(Deployment {
            address,
            parts: addresses,
            gas_used: gas_used + gas,
        })
    })
}

/// Sends `tx` and waits for its receipt.
async fn send(
    provider: &impl Provider,
    tx: TransactionRequest,
) -> Result<alloy::rpc::types::TransactionReceipt, EvmError> {
    provider
        .send_transaction(tx)
        .await
        .map_err(rpc_error)?
        .get_receipt()
        .await
        .map_err(|e| EvmError::Node(e.to_string()))
}

async fn create(provider: &impl Provider, code: Vec<u8>) -> Result<(Address, u64), EvmError> {
    let receipt = send(
        provider,
        TransactionRequest::default().with_deploy_code(code),
    )
    .await?;
    match (receipt.status(), receipt.contract_address()) {
        (true, Some(a)) => Ok((a, receipt.gas_used())),
        _ => Err(EvmError::Deploy(format!(
            "the deployment transaction {} failed",
            receipt.transaction_hash()
        ))),
    }
}

/// Checks that the code at `address` is `main` (its immutables, the part addresses of a
/// split verifier, aside), then calls it with `calldata` by `eth_call`. `Ok` only if the
/// contract accepted, with the gas a transaction would use (`eth_estimateGas`).
pub fn verify_at(
    rpc: &str,
    address: Address,
    main: &Compiled,
    calldata: Vec<u8>,
) -> Result<u64, EvmError> {
    let provider = ProviderBuilder::new().connect_http(url(rpc)?);
    block_on(async {
        let code = provider.get_code_at(address).await.map_err(rpc_error)?;
        if !main.is_deployed_code(&code) {
            return Err(EvmError::NotTheVerifier(if code.is_empty() {
                format!("{address} holds no contract")
            } else {
                format!("the code at {address} is not this model's verifier")
            }));
        }
        let tx = TransactionRequest::default()
            .with_to(address)
            .with_input(Bytes::from(calldata));
        provider.call(tx.clone()).await.map_err(rpc_error)?;
        provider.estimate_gas(tx).await.map_err(rpc_error)
    })
}

/// Sends `calldata` to `address` in a transaction from the account of `key`; returns the
/// gas used, or [`EvmError::Rejected`] if it reverted.
pub fn transact(
    rpc: &str,
    key: &PrivateKeySigner,
    address: Address,
    calldata: Vec<u8>,
) -> Result<u64, EvmError> {
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(key.clone()))
        .connect_http(url(rpc)?);
    block_on(async {
        // A fixed limit, so that a reverting call is mined (and reported) rather than
        // refused by gas estimation.
        let tx = TransactionRequest::default()
            .with_to(address)
            .with_input(Bytes::from(calldata))
            .with_gas_limit(5_000_000);
        let receipt = send(&provider, tx).await?;
        if receipt.status() {
            Ok(receipt.gas_used())
        } else {
            Err(EvmError::Rejected(format!(
                "transaction {} reverted",
                receipt.transaction_hash()
            )))
        }
    })
}
