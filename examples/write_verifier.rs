//! Writes the Solidity verifier of a compiled and set-up model directory to stdout.
//! `cargo run --release --example write_verifier -- DIR > Verifier.sol`

use std::path::PathBuf;

fn main() -> Result<(), zkonnx::Error> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "out/digits".into()),
    );
    print!("{}", zkonnx::evm::evm_verifier_source(&dir)?.solidity);
    Ok(())
}
