//! Softmax and LogSoftmax over an axis, from the proven blocks: the group's maximum (a tree
//! of proven ReLUs, see [`super::compare`]), `d = x − max`, `e = exp(d)` by table, the sum
//! `s`, then `e · (1/s)` (Softmax) or `d − ln s` (LogSoftmax), both by table. Subtracting the
//! maximum keeps every exponent in `(−∞, 0]`, so the exp table's domain is one-sided.

use super::compare::{extremum, DotBuilder};
use super::index::{all_coords, ravel, strides};
use super::{attr_i, Lowered, Lowering, Operand};
use crate::float_op::{Mul, Reshape, TableFn};
use crate::graph::FloatOp;
use tract_onnx::pb::NodeProto;
use zkonnx_circuits::ops::FnKind;

type Node = (FloatOp, Vec<usize>, Vec<usize>);

/// Softmax.
pub fn softmax(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    lower(l, node, ops, false)
}

/// LogSoftmax.
pub fn log_softmax(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    lower(l, node, ops, true)
}

/// The groups one softmax normalizes over, as flat indices. Before opset 13 the input is
/// seen as 2-D, `[prod(d[..axis]), prod(d[axis..])]`.
fn groups(xs: &[usize], ax: usize, legacy: bool) -> Vec<Vec<u32>> {
    if legacy {
        let inner: usize = xs[ax..].iter().product();
        let outer: usize = xs[..ax].iter().product();
        return (0..outer)
            .map(|o| (0..inner).map(|i| (o * inner + i) as u32).collect())
            .collect();
    }
    let st = strides(xs);
    let mut reduced = xs.to_vec();
    reduced[ax] = 1;
    all_coords(&reduced)
        .map(|c| {
            (0..xs[ax])
                .map(|i| {
                    let mut c = c.clone();
                    c[ax] = i;
                    ravel(&c, &st) as u32
                })
                .collect()
        })
        .collect()
}

/// `Σ_j w_j·a[j] + w_g·b[group(j)]` for every value `j`: one dot product per value.
fn per_value(n: usize, (a, wa): (usize, f64), (b, wb): (usize, f64), group_of: &[u32]) -> Node {
    let mut d = DotBuilder::new();
    for j in 0..n as u32 {
        d.push(&[((a, j), wa), ((b, group_of[j as usize]), wb)], 0.0);
    }
    d.node()
}

/// Nodes built in order, each read by later ones through the tensor id it will get.
struct Chain {
    base: usize,
    nodes: Vec<Node>,
}

impl Chain {
    /// Appends a node; returns its future tensor id.
    fn push(&mut self, node: Node) -> usize {
        self.nodes.push(node);
        self.base + self.nodes.len() - 1
    }

    fn table(&mut self, kind: FnKind, input: usize, len: usize) -> usize {
        self.push((FloatOp::TableFn(TableFn { kind }), vec![input], vec![len]))
    }
}

fn lower(l: &Lowering, node: &NodeProto, ops: &[Operand], log: bool) -> Result<Lowered, String> {
    let [Operand::Act(x)] = ops else {
        return Err("expects one activation".into());
    };
    let (x, xs) = (*x, l.shape(*x).to_vec());
    let legacy = l.opset < 13;
    let ax = super::index::axis(attr_i(node, "axis", if legacy { 1 } else { -1 }), xs.len())?;
    let groups = groups(&xs, ax, legacy);
    let n: usize = xs.iter().product();
    let mut group_of = vec![0u32; n];
    for (g, members) in groups.iter().enumerate() {
        for &i in members {
            group_of[i as usize] = g as u32;
        }
    }
    // 1. The maximum of each group.
    let lists = groups
        .iter()
        .map(|g| g.iter().map(|&i| (x, i)).collect())
        .collect();
    let Lowered::Nodes { nodes, .. } = extremum(l, lists, vec![groups.len()], 1.0)? else {
        return Err("internal: extremum returns nodes".into());
    };
    let mut c = Chain {
        base: l.next_id(),
        nodes,
    };
    let max_id = c.base + c.nodes.len() - 1;
    // 2. d = x - max(group); 3. e = exp(d), s = Σ_group e.
    let d_id = c.push(per_value(n, (x, 1.0), (max_id, -1.0), &group_of));
    let e_id = c.table(FnKind::Exp, d_id, n);
    let mut s = DotBuilder::new();
    for g in &groups {
        s.push(
            &g.iter().map(|&i| ((e_id, i), 1.0)).collect::<Vec<_>>(),
            0.0,
        );
    }
    let s_id = c.push(s.node());
    // 4. d - ln(s), or e · (1/s).
    let last = if log {
        let ln_id = c.table(FnKind::Ln, s_id, groups.len());
        c.push(per_value(n, (d_id, 1.0), (ln_id, -1.0), &group_of))
    } else {
        let r_id = c.table(FnKind::Reciprocal, s_id, groups.len());
        let mul = Mul {
            index: [(0..n as u32).collect(), group_of],
            bias: vec![],
        };
        c.push((FloatOp::Mul(mul), vec![e_id, r_id], vec![n]))
    };
    c.push((FloatOp::Reshape(Reshape), vec![last], xs));
    let out = c.nodes.len() - 1;
    Ok(Lowered::Nodes {
        nodes: c.nodes,
        outputs: vec![out],
    })
}
