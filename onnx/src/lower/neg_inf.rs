//! Masks written as `−∞` in constants, as exported attention adds them to its scores:
//! `Add(scores, bias)` with `bias = Where(allowed, 0, −∞)` folded at compile time. No
//! fixed-point value holds `−∞`, but a softmax gives such a position weight 0, so zkonnx
//! adds 0 there instead and remembers which positions are masked; the tensor may then pass
//! through copies and further additions, and the softmax that reads it covers only the
//! admitted positions (see [`super::softmax`]). Any other use of such a tensor is refused.

use crate::graph::FloatOp;

/// Why a node cannot read a masked tensor.
pub(super) const REFUSAL: &str = "reads a tensor holding -inf (an attention mask); zkonnx \
    proves such a tensor only as the input of a Softmax";

/// The masked positions a node's output carries: `Ok(None)` for none. `masks` holds, per
/// activation input, the positions it admits when it carries a mask. Replaces the `−∞` of
/// an `AddConst` by 0 in `op`.
pub(super) fn carry(
    op: &mut FloatOp,
    masks: &[Option<&Vec<bool>>],
) -> Result<Option<Vec<bool>>, String> {
    match op {
        FloatOp::AddConst(a) => {
            let fresh: Vec<bool> = a.c.iter().map(|&c| c != f64::NEG_INFINITY).collect();
            for c in a.c.iter_mut().filter(|c| **c == f64::NEG_INFINITY) {
                *c = 0.0;
            }
            let allowed = match masks.first().copied().flatten() {
                Some(m) => m.iter().zip(&fresh).map(|(a, b)| *a && *b).collect(),
                None => fresh,
            };
            Ok((!allowed.iter().all(|&a| a)).then_some(allowed))
        }
        _ if masks.iter().all(Option::is_none) => Ok(None),
        // A copy in the same flat order (Identity, Cast, Reshape).
        FloatOp::Reshape(_) => Ok(masks.first().copied().flatten().cloned()),
        FloatOp::Add(add) if add.sign > 0 => {
            let at = |k: usize, j: usize| masks[k].is_none_or(|m| m[add.index[k][j] as usize]);
            Ok(Some(
                (0..add.index[0].len())
                    .map(|j| at(0, j) && at(1, j))
                    .collect(),
            ))
        }
        _ => Err(REFUSAL.into()),
    }
}
