//! Debug aid: runs halo2's MockProver on a compiled model directory and an input file,
//! printing the first failures. `cargo run --release --example mock_check -- DIR INPUT.json`

use std::path::PathBuf;
use std::sync::Arc;
use zkonnx_circuits::execute::{execute, quantize_inputs};

fn main() -> Result<(), zkonnx::Error> {
    let args: Vec<String> = std::env::args().collect();
    let (dir, input) = (PathBuf::from(&args[1]), PathBuf::from(&args[2]));
    let prover = zkonnx::load_prover(&dir)?;
    let inputs = zkonnx::read_input(&input)?;
    let trace = execute(
        &prover.model,
        quantize_inputs(&prover.model, &inputs).map_err(zkonnx_onnx::OnnxError::from)?,
    )
    .map_err(zkonnx_onnx::OnnxError::from)?;
    let inst = trace.instances(&prover.model);
    let circuit = prover.circuit.with_trace(Arc::new(trace));
    let k = prover.circuit.plan().k;
    match halo2_proofs::dev::MockProver::run(k, &circuit, vec![inst]) {
        Ok(p) => match p.verify() {
            Ok(()) => println!("MockProver: ok"),
            Err(e) => {
                println!("MockProver: {} failures", e.len());
                for f in e.iter().take(6) {
                    println!("{f}");
                }
            }
        },
        Err(e) => println!("synthesis: {e:?}"),
    }
    Ok(())
}
