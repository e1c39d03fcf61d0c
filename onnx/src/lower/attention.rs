//! ONNX `Attention` (opsets 23–25) as a function body of proven blocks: heads split by
//! `Reshape`/`Transpose` (3-D inputs), the key/value cache by `Concat`, grouped-query heads
//! by `Gather`, `Q·Kᵀ` and `P·V` by the activation MatMul, the scale and softcap by `Mul` and
//! `Tanh`, an additive mask by `Add`, and the softmax by `Softmax` or, when positions are
//! masked out, zkonnx's `MaskedSoftmax`.
//!
//! What is masked is fixed at compile time wherever it can be (the causal frontier, the
//! sliding window, `nonpad_kv_seqlen`, a constant mask), so those positions cost nothing; a
//! boolean mask the prover supplies is applied in the circuit as a 0/1 factor on `exp`.

use super::expand::{Attr, Body};
use super::index::{all_coords, ravel, strides};
use super::{attr, attr_f, attr_i, Const, Lowered, Lowering};
use crate::graph::broadcast;
use tract_onnx::pb::NodeProto;

/// One of the node's inputs.
enum Input<'a> {
    Act(&'a str, &'a [usize]),
    Const(&'a Const),
}

fn input<'a>(l: &'a Lowering, node: &'a NodeProto, i: usize) -> Option<Input<'a>> {
    let name = node.input.get(i).filter(|n| !n.is_empty())?;
    match (l.acts.get(name), l.consts.get(name)) {
        (Some(&id), _) => Some(Input::Act(name, l.shape(id))),
        (None, Some(c)) => Some(Input::Const(c)),
        _ => None,
    }
}

/// An activation input (`Q`, `K`, `V`, the caches): its name and shape.
fn activation<'a>(
    l: &'a Lowering,
    node: &'a NodeProto,
    i: usize,
    what: &str,
) -> Result<Option<(&'a str, Vec<usize>)>, String> {
    match input(l, node, i) {
        None => Ok(None),
        Some(Input::Act(n, s)) => Ok(Some((n, s.to_vec()))),
        Some(Input::Const(_)) => Err(format!("a constant {what} is not supported")),
    }
}

/// `[B, S, H·d]` → `[B, H, S, d]`.
fn split_heads(b: &mut Body, x: &str, s: &[usize], heads: usize) -> Result<String, String> {
    let [batch, seq, hidden] = s[..] else {
        return Err(format!("3-D inputs expected, got {s:?}"));
    };
    if heads == 0 || hidden % heads != 0 {
        return Err(format!(
            "hidden size {hidden} does not split into {heads} heads"
        ));
    }
    let shape = b.ints(&[batch, seq, heads, hidden / heads].map(|d| d as i64));
    let r = b.op("Reshape", &[x, &shape], &[]);
    Ok(b.op(
        "Transpose",
        &[&r],
        &[("perm", Attr::Ints(vec![0, 2, 1, 3]))],
    ))
}

/// The positions a query may attend: the causal frontier, the sliding window and the
/// padding `nonpad_kv_seqlen` gives, all fixed at compile time; shape `[B, H, Sq, T]`.
struct Frontier {
    causal: bool,
    left: i64,
    right: i64,
    /// Per batch, the number of keys that precede the query block.
    offset: Vec<i64>,
    /// Per batch, the number of keys that are not padding.
    nonpad: Option<Vec<i64>>,
}

impl Frontier {
    fn allows(&self, b: usize, i: usize, j: usize) -> bool {
        let diff = i as i64 + self.offset[b] - j as i64;
        !(self.causal && diff < 0
            || self.left >= 0 && diff > self.left
            || self.right >= 0 && -diff > self.right
            || self.nonpad.as_ref().is_some_and(|n| j as i64 >= n[b]))
    }
}

/// The mask input, resolved against the full score shape `[B, H, Sq, T]`.
struct Mask {
    /// Positions admitted (all masks and the frontier together), flat over the full shape.
    allowed: Vec<bool>,
    /// A constant added to the scores (a constant float mask), if any.
    add_const: Option<Vec<f64>>,
    /// An activation added to the scores (a float mask, padded to `T`).
    add_act: Option<String>,
    /// A boolean activation the softmax multiplies by (padded to `T`).
    factor: Option<String>,
}

fn resolve_mask(
    l: &Lowering,
    node: &NodeProto,
    b: &mut Body,
    full: &[usize],
    frontier: &Frontier,
) -> Result<Mask, String> {
    let t = full[3];
    let mut mask = Mask {
        allowed: all_coords(full)
            .map(|c| frontier.allows(c[0], c[2], c[3]))
            .collect(),
        add_const: None,
        add_act: None,
        factor: None,
    };
    let Some(input) = input(l, node, 3) else {
        return Ok(mask);
    };
    let boolean = l.types.of(&node.input[3]) == super::types::BOOL;
    let ms: Vec<usize> = match &input {
        Input::Act(_, s) => s.to_vec(),
        Input::Const(c) => c.shape.clone(),
    };
    let kv = *ms.last().ok_or("the mask must have rank ≥ 1")?;
    let mut target = full.to_vec();
    target[3] = kv;
    // Where each position of `target` reads the mask (numpy's right-aligned broadcast).
    let source = match broadcast(&target, &ms) {
        Some((s, [_, source])) if kv <= t && ms.len() <= 4 && s == target => source,
        _ => {
            return Err(format!(
                "mask shape {ms:?} does not broadcast to {target:?}"
            ))
        }
    };
    // Keys past the mask's last axis are masked (ONNX pads the mask with -inf / false).
    for (f, c) in all_coords(full).enumerate() {
        if c[3] >= kv {
            mask.allowed[f] = false;
        }
    }
    match input {
        Input::Const(c) => {
            let mut add = vec![0.0; mask.allowed.len()];
            let st = strides(&target);
            for (f, co) in all_coords(full).enumerate().filter(|(_, co)| co[3] < kv) {
                let v = c.data[source[ravel(&co, &st)] as usize];
                if (boolean && v == 0.0) || v == f64::NEG_INFINITY {
                    mask.allowed[f] = false;
                } else if !boolean {
                    add[f] = v;
                }
            }
            mask.add_const = add.iter().any(|&v| v != 0.0).then_some(add);
        }
        Input::Act(name, _) => {
            let padded = if kv < t {
                let mut pads = vec![0i64; 2 * ms.len()];
                pads[2 * ms.len() - 1] = (t - kv) as i64;
                let pads = b.ints(&pads);
                b.op("Pad", &[name, &pads], &[])
            } else {
                name.to_string()
            };
            if boolean {
                mask.factor = Some(padded);
            } else {
                mask.add_act = Some(padded);
            }
        }
    }
    Ok(mask)
}

fn frontier(
    l: &Lowering,
    node: &NodeProto,
    batch: usize,
    q_len: usize,
    past: usize,
) -> Result<Frontier, String> {
    let nonpad = match input(l, node, 6) {
        None => None,
        Some(Input::Const(c)) if c.data.len() == batch => {
            Some(c.data.iter().map(|&v| v as i64).collect::<Vec<_>>())
        }
        Some(Input::Const(c)) => {
            return Err(format!(
                "nonpad_kv_seqlen holds {} values for a batch of {batch}",
                c.data.len()
            ))
        }
        Some(Input::Act(..)) => {
            return Err("nonpad_kv_seqlen must be fixed at compile time".into());
        }
    };
    if nonpad.is_some() && past > 0 {
        return Err("nonpad_kv_seqlen cannot be combined with a past key/value cache".into());
    }
    let offset = match &nonpad {
        Some(n) => n.iter().map(|&n| n - q_len as i64).collect(),
        None => vec![past as i64; batch],
    };
    Ok(Frontier {
        causal: attr_i(node, "is_causal", 0) != 0,
        left: attr_i(node, "left_window_size", -1),
        right: attr_i(node, "right_window_size", -1),
        offset,
        nonpad,
    })
}

/// Attention.
pub fn attention(l: &Lowering, node: &NodeProto, _: &[super::Operand]) -> Result<Lowered, String> {
    let need = |i: usize, what: &str| {
        activation(l, node, i, what)?.ok_or_else(|| format!("{what} is required"))
    };
    let ((q, qs), (k, ks), (v, vs)) = (need(0, "Q")?, need(1, "K")?, need(2, "V")?);
    let mut b = Body::new(node.output.first().cloned().unwrap_or_default());
    let (mut q, mut k, mut v) = (q.to_string(), k.to_string(), v.to_string());
    let three_d = qs.len() == 3;
    let (qs, ks, vs) = match qs.len() {
        3 => {
            let hq = attr_i(node, "q_num_heads", 0).max(0) as usize;
            let hkv = attr_i(node, "kv_num_heads", 0).max(0) as usize;
            q = split_heads(&mut b, &q, &qs, hq)?;
            k = split_heads(&mut b, &k, &ks, hkv)?;
            v = split_heads(&mut b, &v, &vs, hkv)?;
            let four = |s: &[usize], h: usize| vec![s[0], h, s[1], s[2] / h];
            (four(&qs, hq), four(&ks, hkv), four(&vs, hkv))
        }
        4 => (qs, ks, vs),
        r => return Err(format!("Q, K and V must be 3-D or 4-D, got rank {r}")),
    };
    if ks.len() != 4 || vs.len() != 4 || ks[..3] != vs[..3] || qs[3] != ks[3] {
        return Err(format!(
            "Q {qs:?}, K {ks:?} and V {vs:?} do not fit together"
        ));
    }
    let (batch, hq, q_len) = (qs[0], qs[1], qs[2]);
    let hkv = ks[1];
    // The key/value cache.
    let past = match (
        activation(l, node, 4, "past_key")?,
        activation(l, node, 5, "past_value")?,
    ) {
        (Some((pk, pks)), Some((pv, _))) => {
            let axis = [("axis", Attr::Int(2))];
            k = b.op("Concat", &[pk, &k], &axis);
            v = b.op("Concat", &[pv, &v], &axis);
            pks.get(2).copied().unwrap_or(0)
        }
        (None, None) => 0,
        _ => return Err("past_key and past_value must be given together".into()),
    };
    let present = (k.clone(), v.clone());
    let t = ks[2] + past;
    // Grouped-query attention: query head h reads key/value head h / (hq / hkv).
    if hq != hkv {
        if hkv == 0 || hq % hkv != 0 {
            return Err(format!(
                "{hq} query heads do not group over {hkv} key/value heads"
            ));
        }
        let reps = hq / hkv;
        let idx = b.ints(&(0..hq).map(|h| (h / reps) as i64).collect::<Vec<_>>());
        let axis = [("axis", Attr::Int(1))];
        k = b.op("Gather", &[&k, &idx], &axis);
        v = b.op("Gather", &[&v, &idx], &axis);
    }
    // Scores: (Q·Kᵀ)·scale, then the softcap.
    let kt = b.op(
        "Transpose",
        &[&k],
        &[("perm", Attr::Ints(vec![0, 1, 3, 2]))],
    );
    let raw = b.op("MatMul", &[&q, &kt], &[]);
    let scale = attr(node, "scale").map_or(1.0 / (qs[3] as f64).sqrt(), |a| f64::from(a.f));
    let scale = b.scalar(scale);
    let mut scores = b.op("Mul", &[&raw, &scale], &[]);
    let softcap = f64::from(attr_f(node, "softcap", 0.0));
    if softcap > 0.0 {
        let (inv, cap) = (b.scalar(1.0 / softcap), b.scalar(softcap));
        let s = b.op("Mul", &[&scores, &inv], &[]);
        let s = b.op("Tanh", &[&s], &[]);
        scores = b.op("Mul", &[&s, &cap], &[]);
    }
    // The mask.
    let full = [batch, hq, q_len, t];
    let frontier = frontier(l, node, batch, q_len, past)?;
    let mask = resolve_mask(l, node, &mut b, &full, &frontier)?;
    let mut biased = scores.clone();
    if let Some(c) = mask.add_const {
        let c = b.constant(full.to_vec(), c);
        biased = b.op("Add", &[&biased, &c], &[]);
    }
    if let Some(a) = &mask.add_act {
        biased = b.op("Add", &[&biased, a], &[]);
    }
    let everything = mask.allowed.iter().all(|&a| a);
    let probs = if everything && mask.factor.is_none() {
        b.op("Softmax", &[&biased], &[("axis", Attr::Int(-1))])
    } else {
        let allowed = mask
            .allowed
            .iter()
            .map(|&a| f64::from(u8::from(a)))
            .collect();
        let allowed = b.constant(full.to_vec(), allowed);
        match &mask.factor {
            Some(m) => b.internal("MaskedSoftmax", &[&biased, &allowed, m]),
            None => b.internal("MaskedSoftmax", &[&biased, &allowed]),
        }
    };
    let wants_qk = node.output.get(3).is_some_and(|o| !o.is_empty());
    let qk_out = match attr_i(node, "qk_matmul_output_mode", 0) {
        _ if !wants_qk => None,
        0 | 1 => Some(scores),
        2 if everything => Some(biased),
        2 => {
            return Err(
                "qk_matmul_output mode 2 holds -inf at masked positions, which a circuit \
                 cannot represent"
                    .into(),
            )
        }
        3 => Some(probs.clone()),
        m => return Err(format!("qk_matmul_output_mode {m} is not defined")),
    };
    let mut y = b.op("MatMul", &[&probs, &v], &[]);
    if three_d {
        let tr = b.op(
            "Transpose",
            &[&y],
            &[("perm", Attr::Ints(vec![0, 2, 1, 3]))],
        );
        let shape = b.ints(&[batch as i64, q_len as i64, (hq * vs[3]) as i64]);
        y = b.op("Reshape", &[&tr, &shape], &[]);
    }
    b.outputs = vec![Some(y), Some(present.0), Some(present.1), qk_out];
    Ok(Lowered::Body(b))
}
