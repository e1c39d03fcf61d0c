//! The verifier snark-verifier generates, read as data: its one inline-assembly block cut
//! into top-level statements, and the facts the contracts written around it need.
//!
//! The generator writes straight-line code whose only state between top-level statements
//! is memory (its loader allocates memory bump-style and never reuses it) and three
//! variables (`success`, `f_p`, `f_q`). It reads the call data at literal offsets: every
//! public value and proof scalar as `mod(calldataload(OFFSET), f_q)` (which would let
//! `w + r` pass as `w`), every point as two plain `calldataload`s checked on the curve.
//! [`Block::canonical_body`] and [`Block::scalar_offsets`] let the contract refuse a
//! non-canonical word instead, and [`Block::calldata_len`] lets it refuse any other length.

use crate::error::EvmError;

/// The generated assembly block, cut into statements.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block<'a> {
    /// Declarations every contract repeats: `f_p`, `f_q` and the functions.
    pub defs: Vec<&'a str>,
    /// The verifier proper, from the first call data read to the last check.
    pub body: Vec<&'a str>,
}

const SCALAR_LOAD: &str = "mod(calldataload(";
const SCALAR_LOAD_END: &str = "), f_q)";

impl<'a> Block<'a> {
    /// Finds the assembly block of a generated verifier and cuts it into statements.
    pub fn parse(code: &'a str) -> Result<Self, EvmError> {
        let bad = |why: &str| EvmError::Generate(format!("unexpected verifier code: {why}"));
        let open = "assembly (\"memory-safe\") {";
        let start = code
            .find(open)
            .map(|i| i + open.len())
            .ok_or_else(|| bad("no assembly block"))?;
        let statements =
            top_level_statements(&code[start..]).ok_or_else(|| bad("unbalanced braces"))?;
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
            return Err(bad("an unexpected ending"));
        }
        let body = rest[..rest.len() - tail.len()].to_vec();
        if body.iter().any(|s| is_declaration(s)) {
            return Err(bad("a declaration outside the prologue"));
        }
        let defs = prologue
            .iter()
            .copied()
            .filter(|s| s.starts_with("let f_") || s.starts_with("function "))
            .collect();
        Ok(Self { defs, body })
    }

    /// Offsets of every scalar the verifier reads from the call data (public values first,
    /// then the proof's evaluations), in order.
    pub fn scalar_offsets(&self) -> Result<Vec<usize>, EvmError> {
        let mut out = Vec::new();
        for s in &self.body {
            let mut rest = *s;
            while let Some(i) = rest.find(SCALAR_LOAD) {
                let after = &rest[i + SCALAR_LOAD.len()..];
                let end = after.find(SCALAR_LOAD_END).ok_or_else(|| {
                    EvmError::Generate(format!("unexpected scalar load in `{s}`"))
                })?;
                out.push(literal(&after[..end])?);
                rest = &after[end..];
            }
        }
        Ok(out)
    }

    /// The body with every scalar read as the raw word (`calldataload(OFFSET)`), for a
    /// contract that has already refused any word `≥ r`.
    pub fn canonical_body(&self) -> Vec<String> {
        self.body
            .iter()
            .map(|s| {
                let mut out = String::with_capacity(s.len());
                let mut rest = *s;
                while let Some(i) = rest.find(SCALAR_LOAD) {
                    let after = &rest[i + SCALAR_LOAD.len()..];
                    match after.find(SCALAR_LOAD_END) {
                        Some(end) => {
                            out.push_str(&rest[..i]);
                            out.push_str("calldataload(");
                            out.push_str(&after[..end]);
                            out.push(')');
                            rest = &after[end + SCALAR_LOAD_END.len()..];
                        }
                        None => break,
                    }
                }
                out.push_str(rest);
                out
            })
            .collect()
    }

    /// The exact call data length the verifier reads: one past its last word.
    pub fn calldata_len(&self) -> Result<usize, EvmError> {
        let mut end = 0;
        for s in &self.body {
            let mut rest = *s;
            while let Some(i) = rest.find("calldataload(") {
                let after = &rest[i + "calldataload(".len()..];
                let close = after.find(')').ok_or_else(|| {
                    EvmError::Generate(format!("unclosed call data read in `{s}`"))
                })?;
                end = end.max(literal(&after[..close])? + 0x20);
                rest = &after[close..];
            }
        }
        if end == 0 {
            return Err(EvmError::Generate("the verifier reads no call data".into()));
        }
        Ok(end)
    }
}

/// A hex (`0x…`) or decimal literal.
fn literal(t: &str) -> Result<usize, EvmError> {
    let t = t.trim();
    let v = match t.strip_prefix("0x") {
        Some(h) => usize::from_str_radix(h, 16),
        None => t.parse(),
    };
    v.map_err(|_| EvmError::Generate(format!("`{t}` is not a call data offset")))
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
pub(crate) mod tests {
    use super::*;

    /// A small verifier in the generator's shape.
    pub(crate) const CODE: &str = r#"
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
        let block = Block::parse(CODE).unwrap();
        assert_eq!(block.defs.len(), 1);
        assert_eq!(block.body.len(), 5);
        assert!(block.body[1].starts_with('{') && block.body[1].ends_with('}'));
    }

    #[test]
    fn scalar_reads_are_found_and_made_raw() {
        let block = Block::parse(CODE).unwrap();
        assert_eq!(block.scalar_offsets().unwrap(), vec![0]);
        let body = block.canonical_body();
        assert_eq!(body[0], "mstore(0xa0, calldataload(0x0))");
        assert_eq!(body[2], block.body[2]);
        assert_eq!(block.calldata_len().unwrap(), 0x40);
    }

    #[test]
    fn code_of_another_shape_is_an_error() {
        assert!(Block::parse("contract C {}").is_err());
        let no_end = CODE.replace("return(0, 0)", "stop()");
        assert!(Block::parse(&no_end).is_err());
    }
}
