//! Splitting a generated verifier across contracts, so a verifier over EIP-170 still deploys.
//!
//! snark-verifier writes the verifier as one straight-line inline-assembly block. Between its
//! top-level statements the only state is memory (its loader allocates memory bump-style and
//! never reuses it) and three variables (`success`, `f_p`, `f_q`). So the block can be cut
//! at any top-level statement after the last read of the proof:
//!
//! * the main contract `Halo2Verifier` runs the first piece (the transcript, every
//!   `calldataload`), then hands its memory to `Halo2VerifierPart1` by `staticcall`;
//! * a part copies that memory in, runs its piece, reverts if any check failed, and returns
//!   its memory, which main copies back and hands to the next part; the last part ends with
//!   the pairing check.
//!
//! Soundness: the pieces are the generator's own code, run in order on the same memory.
//! A part that fails a check reverts, and main reverts if a part reverts or returns memory of
//! another length (a call to an address without code "succeeds" with no data, and must not
//! pass). Main's constructor takes the parts' addresses and refuses any whose code hash is
//! not the one compiled with it, so main's own code fixes what every part runs: nobody has
//! to trust the deployer. Parts are compiled without a metadata hash, so their code depends
//! only on their source and the compiler settings ([`crate::solc::OPTIMIZER`]).

use crate::error::EvmError;
use std::fmt::Write;

/// The main contract's name (the one the proof is sent to).
pub const MAIN: &str = "Halo2Verifier";

/// Source characters (whitespace excluded) a whole verifier may have and stay one contract.
/// solc 0.8.19 (with [`crate::solc::OPTIMIZER`]) makes 0.28–0.29 bytes of deployed code per
/// character of generated code (measured on the six example models), so this is ~23 KB.
pub const WHOLE_BUDGET: usize = 80_000;

/// Source characters one piece of a split verifier may have (~20 KB of code, leaving room
/// for the part's own frame under EIP-170's 24,576 bytes).
pub const PIECE_BUDGET: usize = 70_000;

/// A verifier's Solidity source and how many part contracts it has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifierSource {
    /// The Solidity source (every contract).
    pub solidity: String,
    /// Number of part contracts (0: one self-contained contract).
    pub parts: usize,
}

impl VerifierSource {
    /// Contract names in deployment order: the parts, then [`MAIN`].
    pub fn deploy_order(&self) -> Vec<String> {
        (1..=self.parts)
            .map(part_name)
            .chain([MAIN.to_string()])
            .collect()
    }
}

/// The name of part `i` (from 1).
pub fn part_name(i: usize) -> String {
    format!("{MAIN}Part{i}")
}

/// Characters that count against [`WHOLE_BUDGET`] and [`PIECE_BUDGET`].
fn weight(code: &str) -> usize {
    code.chars().filter(|c| !c.is_whitespace()).count()
}

/// Keeps `code` whole if it has at most `whole` characters, else splits it into pieces of
/// at most `piece` characters. `hashes` gets the parts' source and their number, compiles
/// them and returns the keccak256 of each part's deployed code, in order.
pub fn fit(
    code: &str,
    whole: usize,
    piece: usize,
    hashes: impl FnOnce(&str, usize) -> Result<Vec<[u8; 32]>, EvmError>,
) -> Result<VerifierSource, EvmError> {
    if weight(code) <= whole {
        return Ok(VerifierSource {
            solidity: code.to_string(),
            parts: 0,
        });
    }
    let pieces = Pieces::cut(code, piece)?;
    let parts = pieces.parts();
    let hashes = hashes(&pieces.parts_source(), parts)?;
    if hashes.len() != parts {
        return Err(EvmError::Generate(format!(
            "expected {parts} part hashes, got {}",
            hashes.len()
        )));
    }
    Ok(VerifierSource {
        solidity: pieces.source(&hashes),
        parts,
    })
}

/// The generated assembly block, cut into statements.
struct Block<'a> {
    /// Declarations (`let data …`, `let success`, `f_p`, `f_q`, functions) and the memory
    /// layout check.
    prologue: Vec<&'a str>,
    /// The verifier proper.
    body: Vec<&'a str>,
    /// The final `if iszero(success) { revert … }` and `return(0, 0)`.
    epilogue: Vec<&'a str>,
}

/// A generated verifier cut into a main contract's piece and the parts' pieces.
pub struct Pieces<'a> {
    block: Block<'a>,
    /// Statement ranges of `block.body`: main's first, then one per part.
    ranges: Vec<std::ops::Range<usize>>,
    /// Memory used by the end of each range.
    ends: Vec<usize>,
    /// Declarations every part repeats (`f_p`, `f_q`, functions).
    defs: Vec<&'a str>,
}

const HEADER: &str = "// SPDX-License-Identifier: MIT\n\npragma solidity 0.8.19;\n";

impl<'a> Pieces<'a> {
    /// Cuts `code` (one generated verifier) into a main piece and as few parts of at most
    /// `budget` characters as the main piece (which must read the whole proof) allows: each
    /// part costs a call and two copies of the memory.
    pub fn cut(code: &'a str, budget: usize) -> Result<Self, EvmError> {
        let block = parse(code)?;
        let first_min = block
            .body
            .iter()
            .rposition(|s| s.contains("calldataload"))
            .map_or(0, |i| i + 1);
        let ranges = cut(&block.body, first_min, budget);
        let ends = memory_ends(&block.body, &ranges);
        let defs = block
            .prologue
            .iter()
            .copied()
            .filter(|s| s.starts_with("let f_") || s.starts_with("function "))
            .collect();
        Ok(Self {
            block,
            ranges,
            ends,
            defs,
        })
    }

    /// Number of part contracts.
    pub fn parts(&self) -> usize {
        self.ranges.len() - 1
    }

    /// The part contracts alone (to compile them and hash their code).
    pub fn parts_source(&self) -> String {
        let mut out = String::from(HEADER);
        self.write_parts(&mut out);
        out
    }

    /// Every contract: the parts, then main, which accepts only parts whose deployed code
    /// has the keccak256 `hashes[i]`.
    pub fn source(&self, hashes: &[[u8; 32]]) -> String {
        let mut out = String::from(HEADER);
        self.write_parts(&mut out);
        write_main(&mut out, &self.block, &self.ranges, &self.ends, hashes);
        out
    }

    fn write_parts(&self, out: &mut String) {
        for (i, range) in self.ranges.iter().enumerate().skip(1) {
            let piece = &self.block.body[range.clone()];
            write_part(out, i, &self.defs, piece, self.ends[i]);
        }
    }
}

/// Cuts `body` into consecutive ranges; the first ends no earlier than `first_min`, and
/// each later one holds at most `budget` characters (or one statement).
fn cut(body: &[&str], first_min: usize, budget: usize) -> Vec<std::ops::Range<usize>> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut size = 0;
    for (i, s) in body.iter().enumerate() {
        let w = weight(s);
        if i > start && i >= first_min && size + w > budget {
            pieces.push(start..i);
            start = i;
            size = 0;
        }
        size += w;
    }
    pieces.push(start..body.len());
    pieces
}

/// For each piece, an upper bound (a multiple of 32) on the memory the verifier has used by
/// the end of it: the largest memory-sized literal so far plus a word pair. Every write the
/// loader emits starts at a literal address of memory it allocated, at most 0x40 long.
fn memory_ends(body: &[&str], pieces: &[std::ops::Range<usize>]) -> Vec<usize> {
    let mut max = 0;
    pieces
        .iter()
        .map(|r| {
            for s in &body[r.clone()] {
                max = max.max(largest_small_literal(s));
            }
            (max + 0x60).div_ceil(0x20) * 0x20
        })
        .collect()
}

/// The largest integer literal below 2^24 in `s` (memory offsets and lengths).
fn largest_small_literal(s: &str) -> usize {
    let bytes = s.as_bytes();
    let mut max = 0;
    let mut i = 0;
    while i < bytes.len() {
        let starts = bytes[i].is_ascii_digit() && (i == 0 || !is_ident(bytes[i - 1]));
        if !starts {
            i += 1;
            continue;
        }
        let j = (i..bytes.len())
            .find(|&j| !bytes[j].is_ascii_alphanumeric())
            .unwrap_or(bytes.len());
        let token = &s[i..j];
        let value = match token.strip_prefix("0x") {
            Some(h) => usize::from_str_radix(h, 16).ok(),
            None => token.parse::<usize>().ok(),
        };
        if let Some(v) = value.filter(|&v| v < 1 << 24) {
            max = max.max(v);
        }
        i = j;
    }
    max
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn write_part(out: &mut String, i: usize, defs: &[&str], piece: &[&str], end: usize) {
    let _ = write!(
        out,
        "\n// Part {i} of the verifier: run by {MAIN} on its memory.\ncontract {} {{\n    \
         fallback(bytes calldata) external returns (bytes memory) {{\n        assembly {{\n\
         calldatacopy(0, 0, calldatasize())\nlet success := true\n",
        part_name(i)
    );
    for s in defs.iter().chain(piece) {
        let _ = writeln!(out, "{s}");
    }
    let _ = write!(
        out,
        "if iszero(success) {{ revert(0, 0) }}\nreturn(0, {end:#x})\n        }}\n    }}\n}}\n"
    );
}

fn write_main(
    out: &mut String,
    block: &Block<'_>,
    pieces: &[std::ops::Range<usize>],
    ends: &[usize],
    hashes: &[[u8; 32]],
) {
    let parts = 1..pieces.len();
    let _ = write!(out, "\ncontract {MAIN} {{\n");
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
    let _ = write!(
        out,
        "    }}\n\n    fallback(bytes calldata) external returns (bytes memory) {{\n"
    );
    for i in parts.clone() {
        let _ = writeln!(out, "        address p{i} = part{i};");
    }
    let _ = writeln!(out, "        assembly (\"memory-safe\") {{");
    for s in block.prologue.iter().chain(&block.body[pieces[0].clone()]) {
        let _ = writeln!(out, "{s}");
    }
    for i in parts {
        let (start, end) = (ends[i - 1], ends[i]);
        let _ = write!(
            out,
            "if iszero(success) {{ revert(0, 0) }}\n\
             if iszero(staticcall(gas(), p{i}, 0, {start:#x}, 0, 0)) {{ revert(0, 0) }}\n\
             if iszero(eq(returndatasize(), {end:#x})) {{ revert(0, 0) }}\n\
             returndatacopy(0, 0, {end:#x})\n"
        );
    }
    for s in &block.epilogue {
        let _ = writeln!(out, "{s}");
    }
    let _ = write!(out, "        }}\n    }}\n}}\n");
}

/// Finds the assembly block of a generated verifier and cuts it into statements.
fn parse(code: &str) -> Result<Block<'_>, EvmError> {
    let bad = |why: &str| EvmError::Generate(format!("cannot split the verifier: {why}"));
    let open = "assembly (\"memory-safe\") {";
    let start = code
        .find(open)
        .map(|i| i + open.len())
        .ok_or_else(|| bad("no assembly block"))?;
    let statements = top_level_statements(&code[start..]).ok_or_else(|| bad("unbalanced"))?;
    let body_start = statements
        .iter()
        .position(|s| !is_declaration(s))
        .ok_or_else(|| bad("no statements"))?;
    let (prologue, rest) = statements.split_at(body_start);
    if !prologue.contains(&"let success := true") {
        return Err(bad("no success flag"));
    }
    let tail = ["if iszero(success) { revert(0, 0) }", "return(0, 0)"];
    if rest.len() < tail.len() || rest[rest.len() - tail.len()..] != tail {
        return Err(bad("unexpected ending"));
    }
    let body = &rest[..rest.len() - tail.len()];
    if body.iter().any(|s| is_declaration(s)) {
        return Err(bad("a declaration outside the prologue"));
    }
    Ok(Block {
        prologue: prologue.to_vec(),
        body: body.to_vec(),
        epilogue: rest[rest.len() - tail.len()..].to_vec(),
    })
}

/// Statements that declare stack variables or functions, or check the memory layout.
fn is_declaration(s: &str) -> bool {
    s.starts_with("let ") || s.starts_with("function ") || s.starts_with("if iszero(eq(data")
}

/// The top-level statements of an assembly block body (up to its closing brace), trimmed;
/// comments between statements are dropped. `None` if the block does not close.
fn top_level_statements(text: &str) -> Option<Vec<&str>> {
    let bytes = text.as_bytes();
    let (mut braces, mut parens) = (0i32, 0i32);
    let mut current: Option<usize> = None;
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'/' && bytes.get(i + 1) == Some(&b'/') {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        match c {
            b'{' => braces += 1,
            b'}' if braces == 0 => {
                if let Some(s) = current.take() {
                    out.push(text[s..i].trim());
                }
                return Some(out);
            }
            b'}' => braces -= 1,
            b'(' => parens += 1,
            b')' => parens -= 1,
            _ => {}
        }
        if c == b'\n' && braces == 0 && parens == 0 {
            if let Some(s) = current.take() {
                out.push(text[s..i].trim());
            }
        } else if current.is_none() && !c.is_ascii_whitespace() {
            current = Some(i);
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const CODE: &str = r#"
pragma solidity 0.8.19;

contract Halo2Verifier {
    fallback(bytes calldata) external returns (bytes memory) {
        assembly ("memory-safe") {
            // Enforce that Solidity memory layout is respected
            let data := mload(0x40)
            if iszero(eq(data, 0x80)) {
                revert(0, 0)
            }

            let success := true
            let f_q := 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001
            mstore(0xa0, mod(calldataload(0x0), f_q))
        {
            let x := calldataload(0x20)
            mstore(0xc0, x)
        }
mstore(0xe0, addmod(mload(0xa0), mload(0xc0), f_q))
mstore(0x100, mulmod(mload(0xe0), 12345678901234567890123456789, f_q))
success := and(eq(mload(0x100), 3), success)

            // Revert if anything fails
            if iszero(success) { revert(0, 0) }

            // Return empty bytes on success
            return(0, 0)

        }
    }
}
"#;

    #[test]
    fn statements_follow_braces_and_parentheses() {
        let block = parse(CODE).unwrap();
        assert_eq!(block.prologue.len(), 4);
        assert_eq!(block.body.len(), 5);
        assert!(block.body[1].starts_with('{') && block.body[1].ends_with('}'));
        assert_eq!(block.epilogue[1], "return(0, 0)");
    }

    #[test]
    fn a_small_verifier_stays_whole_and_a_cut_starts_after_the_last_proof_read() {
        let hashes = |_: &str, n: usize| Ok(vec![[7u8; 32]; n]);
        assert_eq!(fit(CODE, 100_000, 10, hashes).unwrap().parts, 0);
        let split = fit(CODE, 10, 10, hashes).unwrap();
        // The first piece holds both calldata reads; each later statement is its own part.
        assert_eq!(split.parts, 3);
        assert!(split.solidity.contains("contract Halo2VerifierPart3"));
        assert!(split
            .solidity
            .contains("constructor(address p1, address p2, address p3)"));
        assert!(split
            .solidity
            .contains(&format!("require(p3.codehash == 0x{}", "07".repeat(32))));
        // Part 1 receives memory up to 0xc0 + 0x60 and returns up to 0xe0 + 0x60.
        assert!(split
            .solidity
            .contains("staticcall(gas(), p1, 0, 0x120, 0, 0)"));
        assert!(split.solidity.contains("return(0, 0x140)"));
    }

    #[test]
    fn literals_below_two_to_the_24_count_as_memory() {
        assert_eq!(
            largest_small_literal("mstore(0x1a0, keccak256(0x80, 736))"),
            0x2e0
        );
        assert_eq!(
            largest_small_literal("mulmod(x, 123456789012345678901234, f_q)"),
            0
        );
        assert_eq!(largest_small_literal("let y2 := mload(0x20)"), 0x20);
    }
}
