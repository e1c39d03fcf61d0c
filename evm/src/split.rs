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
//! only on their source and the compiler settings ([`crate::solc::Settings::zkonnx`]).

use crate::assembly::Block;
use crate::contract::{self, Cut, Frame};
use crate::error::EvmError;

pub use crate::contract::{part_name, MAIN};

/// Source characters (whitespace excluded) a whole verifier may have and stay one contract.
/// solc 0.8.19 (with [`crate::solc::Settings::zkonnx`]) makes 0.28–0.29 bytes of deployed
/// code per character of generated code (measured on the six example models), so this is
/// ~23 KB.
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

/// Characters that count against [`WHOLE_BUDGET`] and [`PIECE_BUDGET`].
fn weight(code: &str) -> usize {
    code.chars().filter(|c| !c.is_whitespace()).count()
}

/// Writes `block` as one contract if its body has at most `whole` characters, else as a
/// main contract and parts of at most `piece` characters each. `hashes` gets the parts'
/// source and their number, compiles them and returns the keccak256 of each part's
/// deployed code, in order.
pub fn fit(
    block: &Block<'_>,
    frame: &Frame,
    whole: usize,
    piece: usize,
    hashes: impl FnOnce(&str, usize) -> Result<Vec<[u8; 32]>, EvmError>,
) -> Result<VerifierSource, EvmError> {
    let size: usize = block.body.iter().map(|s| weight(s)).sum();
    if size <= whole {
        return Ok(VerifierSource {
            solidity: contract::source(block, frame, &Cut::whole(block.body.len()), &[]),
            parts: 0,
        });
    }
    let cut = cut_block(block, piece);
    let parts = cut.parts();
    let hashes = hashes(&contract::parts_source(block, frame, &cut), parts)?;
    if hashes.len() != parts {
        return Err(EvmError::Generate(format!(
            "expected {parts} part hashes, got {}",
            hashes.len()
        )));
    }
    Ok(VerifierSource {
        solidity: contract::source(block, frame, &cut, &hashes),
        parts,
    })
}

/// Cuts the body into a main piece and as few parts of at most `budget` characters as the
/// main piece (which must read the whole proof) allows: each part costs a call and two
/// copies of the memory.
pub fn cut_block(block: &Block<'_>, budget: usize) -> Cut {
    let first_min = block
        .body
        .iter()
        .rposition(|s| s.contains("calldataload"))
        .map_or(0, |i| i + 1);
    let ranges = cut(&block.body, first_min, budget);
    let ends = memory_ends(&block.body, &ranges);
    Cut { ranges, ends }
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

#[cfg(test)]
mod tests {
    use super::*;

    use crate::assembly::tests::CODE;

    #[test]
    fn a_small_verifier_stays_whole_and_a_cut_starts_after_the_last_proof_read() {
        let hashes = |_: &str, n: usize| Ok(vec![[7u8; 32]; n]);
        let block = Block::parse(CODE).unwrap();
        let frame = Frame::new(&block, "m", "v", 1).unwrap();
        assert_eq!(fit(&block, &frame, 100_000, 10, hashes).unwrap().parts, 0);
        let split = fit(&block, &frame, 10, 10, hashes).unwrap();
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
