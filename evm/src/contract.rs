//! The Solidity zkonnx writes around the generated verifier: one contract, or a main
//! contract and parts ([`crate::split`]), each with a header that says how to call, compile
//! and deploy it.
//!
//! On top of the generated checks, the main contract refuses
//! * call data of any length but the exact one (no bytes appended, none missing), and
//! * any public value or proof scalar `≥ r` (the generated loader would reduce it `mod r`,
//!   so `w + r` would pass as `w` and a consumer reading the raw word would see another
//!   value than the one proven); the scalars are then read as they are.
//!
//! The frame is written so that solc 0.8.19 compiles it under the settings contract authors
//! use: `success` is a Solidity variable (a Yul one, live across the whole block, left
//! solc's default optimizer one stack slot short), the fallback takes no parameters, and
//! the block carries no `memory-safe` annotation (with it, via-IR's optimizer assumes the
//! layout check fails and compiles an always-reverting contract; without it, that setting
//! fails to compile, which is the safe outcome).

use crate::assembly::Block;
use std::fmt::Write;
use std::ops::Range;

/// The main contract's name (the one the proof is sent to).
pub const MAIN: &str = "Halo2Verifier";

/// The name of part `i` (from 1).
pub fn part_name(i: usize) -> String {
    format!("{MAIN}Part{i}")
}

/// What the header and the call data checks say about the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The compiled model's hash.
    pub model_hash: String,
    /// SHA-256 of `vk.bin`.
    pub vk_hash: String,
    /// Public values at the start of the call data.
    pub instances: usize,
    /// Exact call data length.
    pub calldata_len: usize,
    /// Call data offsets of every scalar (public values and proof evaluations).
    pub scalars: Vec<usize>,
}

impl Frame {
    /// The frame of `block` for a model.
    pub fn new(
        block: &Block<'_>,
        model_hash: &str,
        vk_hash: &str,
        instances: usize,
    ) -> Result<Self, crate::EvmError> {
        Ok(Self {
            model_hash: model_hash.into(),
            vk_hash: vk_hash.into(),
            instances,
            calldata_len: block.calldata_len()?,
            scalars: block.scalar_offsets()?,
        })
    }
}

/// How a verifier is cut: statement ranges of the body (main's first, then one per part)
/// and the memory used by the end of each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cut {
    /// Statement ranges.
    pub ranges: Vec<Range<usize>>,
    /// Memory end (bytes) after each range.
    pub ends: Vec<usize>,
}

impl Cut {
    /// One contract: the whole body in main.
    pub fn whole(body_len: usize) -> Self {
        let all = 0..body_len;
        Self {
            ranges: vec![all],
            ends: vec![0],
        }
    }

    /// Part contracts.
    pub fn parts(&self) -> usize {
        self.ranges.len() - 1
    }
}

/// Every contract of a verifier: the parts, then main, which accepts only parts whose
/// deployed code has the keccak256 `hashes[i]`.
pub fn source(block: &Block<'_>, frame: &Frame, cut: &Cut, hashes: &[[u8; 32]]) -> String {
    let body = block.canonical_body();
    let mut out = header(frame, cut.parts());
    write_parts(&mut out, block, &body, cut);
    write_main(&mut out, block, &body, frame, cut, hashes);
    out
}

/// The part contracts alone (to compile them and hash their code).
pub fn parts_source(block: &Block<'_>, frame: &Frame, cut: &Cut) -> String {
    let mut out = header(frame, cut.parts());
    write_parts(&mut out, block, &block.canonical_body(), cut);
    out
}

fn header(frame: &Frame, parts: usize) -> String {
    let mut out = String::from("// SPDX-License-Identifier: MIT\n//\n");
    let _ = write!(
        out,
        "// zkonnx verifier of the model {} (vk.bin {}).\n//\n\
         // Call {MAIN} with exactly {} bytes of call data and no function selector: the {} public\n\
         // values (the public inputs, if any, then the outputs), each a 32-byte big-endian word\n\
         // below the BN254 scalar field's order, then the proof (`zkonnx evm calldata` prints\n\
         // it). It reverts unless the proof is valid, and returns nothing.\n//\n\
         // Compiler: solc 0.8.19, with the legacy pipeline and any optimizer setting (off, or on\n\
         // with any runs), or via-IR with the optimizer off; via-IR with the optimizer on does\n\
         // not compile. zkonnx compiles it with {}.\n",
        frame.model_hash,
        frame.vk_hash,
        frame.calldata_len,
        frame.instances,
        crate::solc::Settings::zkonnx().describe(),
    );
    if parts > 0 {
        let names: Vec<String> = (1..=parts).map(part_name).collect();
        let _ = write!(
            out,
            "//\n// Split to fit EIP-170: deploy {}, then {MAIN} with their addresses as\n\
             // constructor arguments, in that order. {MAIN}'s constructor accepts only parts whose\n\
             // code hash is the one zkonnx compiled, so compile the parts with exactly the settings\n\
             // above (the foundry.toml zkonnx writes beside this file sets them).\n",
            names.join(", ")
        );
    }
    out.push_str("\npragma solidity 0.8.19;\n");
    out
}

fn write_parts(out: &mut String, block: &Block<'_>, body: &[String], cut: &Cut) {
    for (i, range) in cut.ranges.iter().enumerate().skip(1) {
        let _ = write!(
            out,
            "\n// Part {i} of the verifier: run by {MAIN} on its memory.\ncontract {} {{\n    \
             fallback() external {{\n        uint256 success = 1;\n        assembly {{\n\
             calldatacopy(0, 0, calldatasize())\n",
            part_name(i)
        );
        for s in &block.defs {
            let _ = writeln!(out, "{s}");
        }
        for s in &body[range.clone()] {
            let _ = writeln!(out, "{s}");
        }
        let _ = write!(
            out,
            "if iszero(success) {{ revert(0, 0) }}\nreturn(0, {:#x})\n        }}\n    }}\n}}\n",
            cut.ends[i]
        );
    }
}

fn write_main(
    out: &mut String,
    block: &Block<'_>,
    body: &[String],
    frame: &Frame,
    cut: &Cut,
    hashes: &[[u8; 32]],
) {
    let parts = 1..cut.ranges.len();
    let _ = write!(out, "\ncontract {MAIN} {{\n");
    if !parts.is_empty() {
        for i in parts.clone() {
            let _ = writeln!(out, "    address private immutable part{i};");
        }
        let args: Vec<String> = parts.clone().map(|i| format!("address p{i}")).collect();
        let _ = writeln!(out, "\n    constructor({}) {{", args.join(", "));
        for (i, h) in parts.clone().zip(hashes) {
            let _ = writeln!(
                out,
                "        require(p{i}.codehash == 0x{}, \"part {i}: other code\");\n        part{i} = p{i};",
                hex::encode(h)
            );
        }
        let _ = writeln!(out, "    }}\n");
    }
    let _ = writeln!(out, "    fallback() external {{");
    for i in parts.clone() {
        let _ = writeln!(out, "        address p{i} = part{i};");
    }
    let _ = write!(
        out,
        "        uint256 success = 1;\n        assembly {{\n\
         // The loader's memory starts where Solidity's free memory does.\n\
         if iszero(eq(mload(0x40), 0x80)) {{ revert(0, 0) }}\n\
         // Exactly the public values and the proof: nothing appended, nothing missing.\n\
         if iszero(eq(calldatasize(), {:#x})) {{ revert(0, 0) }}\n",
        frame.calldata_len
    );
    for s in &block.defs {
        let _ = writeln!(out, "{s}");
    }
    let _ = writeln!(
        out,
        "// Every public value and proof scalar is canonical (below r), so it is read as it is."
    );
    for off in &frame.scalars {
        let _ = writeln!(
            out,
            "if iszero(lt(calldataload({off:#x}), f_q)) {{ revert(0, 0) }}"
        );
    }
    for s in &body[cut.ranges[0].clone()] {
        let _ = writeln!(out, "{s}");
    }
    for i in parts {
        let (start, end) = (cut.ends[i - 1], cut.ends[i]);
        let _ = write!(
            out,
            "if iszero(success) {{ revert(0, 0) }}\n\
             if iszero(staticcall(gas(), p{i}, 0, {start:#x}, 0, 0)) {{ revert(0, 0) }}\n\
             if iszero(eq(returndatasize(), {end:#x})) {{ revert(0, 0) }}\n\
             returndatacopy(0, 0, {end:#x})\n"
        );
    }
    let _ = write!(
        out,
        "if iszero(success) {{ revert(0, 0) }}\nreturn(0, 0)\n        }}\n    }}\n}}\n"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assembly::tests::CODE;

    fn frame(block: &Block<'_>) -> Frame {
        Frame::new(block, "mh", "vh", 1).unwrap()
    }

    #[test]
    fn the_whole_contract_checks_length_and_canonical_words() {
        let block = Block::parse(CODE).unwrap();
        let f = frame(&block);
        let src = source(&block, &f, &Cut::whole(block.body.len()), &[]);
        assert!(src.contains("if iszero(eq(calldatasize(), 0x40)) { revert(0, 0) }"));
        assert!(src.contains("if iszero(lt(calldataload(0x0), f_q)) { revert(0, 0) }"));
        assert!(src.contains("mstore(0xa0, calldataload(0x0))"));
        assert!(!src.contains("mod(calldataload"));
        assert!(!src.contains("memory-safe"));
        assert!(src.contains("fallback() external {\n        uint256 success = 1;"));
        assert!(!src.contains("constructor"));
        assert!(src.contains("the model mh (vk.bin vh)"));
    }
}
