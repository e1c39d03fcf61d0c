//! ArgMax, ArgMin and Hardmax from proven comparisons of the input's own values.
//!
//! For each pair `j < k` of a group, one comparison `a = [x_j ≥ x_k]` (exact on the
//! quantized values: both sides are the same tensor at the same scale); position `j` wins
//! against `k` by `a` or `1 − a` (ties go to the first position, or to the last with
//! `select_last_index`), and the chosen position is the one that wins against all `n − 1`
//! others: `f_j = [wins_j − (n − 1) ≥ 0]`, again a proven comparison. The index is
//! `Σ j·f_j`; Hardmax is `f`. Comparing the values pairwise, rather than against a computed
//! maximum, keeps the choice exact when the maximum's own tensor is rounded to a coarser
//! scale. It costs `n(n − 1)/2` comparisons per group, so long axes are refused.

use super::compare::DotBuilder;
use super::{attr_i, Lowered, Lowering, Operand};
use crate::float_op::{Compare, Reshape};
use crate::graph::FloatOp;
use tract_onnx::pb::NodeProto;

type Node = (FloatOp, Vec<usize>, Vec<usize>);

/// The longest axis chosen over (pairwise comparisons grow with its square).
const MAX_AXIS: usize = 64;

/// Which value a group picks.
#[derive(Clone, Copy)]
struct Pick {
    /// The largest (`true`) or the smallest.
    largest: bool,
    /// On a tie, the last position rather than the first.
    last: bool,
}

/// The nodes that compute the one-hot `f` of each group's pick (flat, in `x`'s order),
/// and the groups.
fn picked(
    l: &Lowering,
    x: usize,
    ax: usize,
    pick: Pick,
) -> Result<(Vec<Node>, Vec<Vec<u32>>), String> {
    let xs = l.shape(x).to_vec();
    let n_all: usize = xs.iter().product();
    let n = xs[ax];
    if !(2..=MAX_AXIS).contains(&n) {
        return Err(format!(
            "an axis of {n} values (zkonnx chooses among 2 to {MAX_AXIS} values)"
        ));
    }
    let groups = super::softmax::groups(&xs, ax, false);
    // 1. One comparison per pair (j, k), j < k: `a = [s·(x_j − x_k) ≥ 0]`.
    let s = if pick.largest { 1 } else { -1 };
    let (mut first, mut second) = (vec![], vec![]);
    for g in &groups {
        for (p, &j) in g.iter().enumerate() {
            for &k in &g[p + 1..] {
                first.push(j);
                second.push(k);
            }
        }
    }
    let pairs = first.len();
    let (earlier, later) = if pick.last {
        (second, first)
    } else {
        (first, second)
    };
    let base = l.next_id();
    let cmp = Compare {
        sign: vec![s, -s],
        index: vec![earlier, later],
        bias: vec![0.0; pairs],
        or_equal: true,
    };
    // With `last`, `a` says the later position beats or ties the earlier one.
    let mut nodes = vec![(FloatOp::Compare(cmp), vec![x, x], vec![pairs])];
    // 2. wins_j − (n − 1), in x's flat order.
    let mut wins: Vec<(Vec<(u32, f64)>, f64)> = vec![(vec![], -(n as f64 - 1.0)); n_all];
    let mut p = 0u32;
    for g in &groups {
        for (a, &j) in g.iter().enumerate() {
            for &k in &g[a + 1..] {
                // `a_p` credits the position it favours; the other wins on `1 − a_p`.
                let (fav, other) = if pick.last { (k, j) } else { (j, k) };
                wins[fav as usize].0.push((p, 1.0));
                wins[other as usize].0.push((p, -1.0));
                wins[other as usize].1 += 1.0;
                p += 1;
            }
        }
    }
    let mut w = DotBuilder::new();
    for (terms, bias) in &wins {
        let refs: Vec<_> = terms.iter().map(|&(p, c)| ((base, p), c)).collect();
        w.push(&refs, *bias);
    }
    nodes.push(w.node());
    // 3. f = [wins − (n − 1) ≥ 0].
    let f = Compare {
        sign: vec![1],
        index: vec![(0..n_all as u32).collect()],
        bias: vec![0.0; n_all],
        or_equal: true,
    };
    nodes.push((FloatOp::Compare(f), vec![base + 1], vec![n_all]));
    Ok((nodes, groups))
}

fn arg(l: &Lowering, node: &NodeProto, ops: &[Operand], largest: bool) -> Result<Lowered, String> {
    let [Operand::Act(x), ..] = ops else {
        return Err("the input must be an activation".into());
    };
    let xs = l.shape(*x).to_vec();
    let ax = super::index::axis(attr_i(node, "axis", 0), xs.len())?;
    let last = attr_i(node, "select_last_index", 0) != 0;
    let (mut nodes, groups) = picked(l, *x, ax, Pick { largest, last })?;
    let f = l.next_id() + nodes.len() - 1;
    // 4. The index: Σ j·f_j over each group.
    let mut idx = DotBuilder::new();
    for g in &groups {
        let refs: Vec<_> = (g.iter().enumerate())
            .map(|(j, &i)| ((f, i), j as f64))
            .collect();
        idx.push(&refs, 0.0);
    }
    nodes.push(idx.node());
    let mut out = xs.clone();
    if attr_i(node, "keepdims", 1) != 0 {
        out[ax] = 1;
    } else {
        out.remove(ax);
    }
    let last_id = l.next_id() + nodes.len() - 1;
    nodes.push((FloatOp::Reshape(Reshape), vec![last_id], out));
    let outputs = vec![nodes.len() - 1];
    Ok(Lowered::Nodes { nodes, outputs })
}

/// ArgMax.
pub fn arg_max(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    arg(l, node, ops, true)
}

/// ArgMin.
pub fn arg_min(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    arg(l, node, ops, false)
}

/// Hardmax (opset 13 on: along one axis): 1 at the first maximum of each group.
pub fn hardmax(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    if l.opset < 13 {
        return Err("Hardmax before opset 13 (over a flattened 2-D view) is not supported".into());
    }
    let [Operand::Act(x)] = ops else {
        return Err("the input must be an activation".into());
    };
    let xs = l.shape(*x).to_vec();
    let ax = super::index::axis(attr_i(node, "axis", -1), xs.len())?;
    let pick = Pick {
        largest: true,
        last: false,
    };
    let (mut nodes, _) = picked(l, *x, ax, pick)?;
    let f = l.next_id() + nodes.len() - 1;
    nodes.push((FloatOp::Reshape(Reshape), vec![f], xs));
    let outputs = vec![nodes.len() - 1];
    Ok(Lowered::Nodes { nodes, outputs })
}

/// OneHot of activation indices by a depth and values fixed at compile time:
/// `off + (on − off)·([idx = j] + [idx = j − depth])` (negative indices count from the
/// end; an index out of range matches nothing), each `[· = ·]` a proven comparison.
pub fn one_hot(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    use super::expand::{Attr, Body};
    let [Operand::Act(idx), Operand::Const(depth), Operand::Const(values)] = ops else {
        return Err("the indices must be an activation, depth and values constants".into());
    };
    let depth = depth.data.first().copied().ok_or("depth is empty")? as i64;
    let [off, on] = values.data[..] else {
        return Err("values must hold [off, on]".into());
    };
    if depth <= 0 {
        return Err(format!("depth {depth} is not positive"));
    }
    let is = l.shape(*idx).to_vec();
    let ax = super::index::axis(attr_i(node, "axis", -1), is.len() + 1)?;
    let mut b = Body::new(node.output.first().cloned().unwrap_or_default());
    let at = b.ints(&[ax as i64]);
    let u = b.op("Unsqueeze", &[&node.input[0], &at], &[]);
    let mut rshape = vec![1; is.len() + 1];
    rshape[ax] = depth as usize;
    let j: Vec<f64> = (0..depth).map(|j| j as f64).collect();
    let low: Vec<f64> = j.iter().map(|v| v - depth as f64).collect();
    let (j, low) = (b.constant(rshape.clone(), j), b.constant(rshape, low));
    let float = [("to", Attr::Int(1))];
    let e1 = b.op("Equal", &[&u, &j], &[]);
    let e1 = b.op("Cast", &[&e1], &float);
    let e2 = b.op("Equal", &[&u, &low], &[]);
    let e2 = b.op("Cast", &[&e2], &float);
    let hit = b.op("Add", &[&e1, &e2], &[]);
    let (gain, base) = (b.scalar(on - off), b.scalar(off));
    let y = b.op("Mul", &[&hit, &gain], &[]);
    let y = b.op("Add", &[&y, &base], &[]);
    b.outputs = vec![Some(y)];
    Ok(Lowered::Body(b))
}
