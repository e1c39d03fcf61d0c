//! zkonnx-cli's library: what the `zkonnx` binary runs beyond the facade's four steps, kept
//! here so that its tests can call it. Only the conformance harness lives here; arguments,
//! messages and exit codes stay in the binary.

pub mod conformance;
