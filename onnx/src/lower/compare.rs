//! Max, Min, MaxPool, ReduceMax, ReduceMin and Clip, built from proven ReLUs:
//! `max(a, b) = b + relu(a - b)` and `min(a, b) = b - relu(b - a)`. Each ReLU is a requant row whose sign bit is proven, so a
//! wrong maximum needs a wrong sign, which the requant chip rejects; no new chip is needed.
//! A window's maximum is a tree of pairwise maxima, one pair of float ops per level.

use super::index::{all_coords, ravel, strides};
use super::window::Window;
use super::{all_acts, attr_f, attr_ints, broadcast_all, Lowered, Lowering, Operand};
use crate::float_op::{Gather, Relu, Reshape, SparseDot};
use crate::graph::{broadcast, FloatOp};
use std::collections::BTreeMap;
use tract_onnx::pb::NodeProto;

/// A value: (tensor id, flat index).
type Ref = (usize, u32);
/// A linear combination of values.
type Combo = Vec<(Ref, f64)>;
type Node = (FloatOp, Vec<usize>, Vec<usize>);

/// Builds SparseDot nodes whose terms name tensors by id: maps ids to input positions.
pub(super) struct DotBuilder {
    inputs: Vec<usize>,
    pos: BTreeMap<usize, u32>,
    terms: Vec<Vec<(u32, u32, f64)>>,
    b: Vec<f64>,
}

impl DotBuilder {
    pub(super) fn new() -> Self {
        Self {
            inputs: vec![],
            pos: BTreeMap::new(),
            terms: vec![],
            b: vec![],
        }
    }

    fn term(&mut self, (id, i): Ref, w: f64) -> (u32, u32, f64) {
        let next = self.inputs.len() as u32;
        let k = *self.pos.entry(id).or_insert_with(|| next);
        if k == next {
            self.inputs.push(id);
        }
        (k, i, w)
    }

    /// Adds an output `bias + Σ w·ref`; returns its index.
    pub(super) fn push(&mut self, refs: &[(Ref, f64)], bias: f64) -> u32 {
        let t = refs.iter().map(|&(r, w)| self.term(r, w)).collect();
        self.terms.push(t);
        self.b.push(bias);
        (self.terms.len() - 1) as u32
    }

    pub(super) fn node(self) -> Node {
        let n = self.terms.len();
        (
            FloatOp::SparseDot(SparseDot {
                terms: self.terms,
                b: self.b,
            }),
            self.inputs,
            vec![n],
        )
    }
}

/// Appends `dot` then a ReLU of it; returns the ReLU's tensor id.
fn push_relu(nodes: &mut Vec<Node>, base: usize, dot: Node) -> usize {
    let n = dot.2.clone();
    nodes.push(dot);
    let dot_id = base + nodes.len() - 1;
    nodes.push((FloatOp::Relu(Relu), vec![dot_id], n));
    base + nodes.len() - 1
}

/// The maximum (`sign = 1`) or minimum (`sign = -1`) of each list, shaped `out`.
pub(super) fn extremum(
    l: &Lowering,
    lists: Vec<Vec<Ref>>,
    out: Vec<usize>,
    sign: f64,
) -> Result<Lowered, String> {
    if lists.iter().any(Vec::is_empty) {
        return Err("an empty window".into());
    }
    let base = l.next_id();
    let mut nodes: Vec<Node> = Vec::new();
    // Each candidate is a linear combination of proven values: `max(A, B) = B + relu(A − B)`
    // is carried as the combination `B + d`, never materialized, so a window costs one
    // proven ReLU per comparison and one requantization per output.
    let mut lists: Vec<Vec<Combo>> = lists
        .into_iter()
        .map(|v| v.into_iter().map(|r| vec![(r, 1.0)]).collect())
        .collect();
    while lists.iter().any(|v| v.len() > 1) {
        let mut diff = DotBuilder::new();
        let pairs: Vec<_> = lists
            .iter()
            .map(|v| differences(v, sign, &mut diff))
            .collect();
        let d_id = push_relu(&mut nodes, base, diff.node());
        lists = lists
            .iter()
            .zip(pairs)
            .map(|(v, ps)| winners(v, ps, (d_id, sign)))
            .collect();
    }
    let finals: Vec<Combo> = lists.into_iter().map(|mut v| v.remove(0)).collect();
    nodes.push(result(&finals, out));
    let last = nodes.len() - 1;
    Ok(Lowered::Nodes {
        nodes,
        outputs: vec![last],
    })
}

/// One level of a window's tournament: for each pair `(A, B)` of candidates, the term
/// `sign·(A − B)` pushed into `diff` (whose ReLU is `d`), with `B` and `d`'s position.
fn differences(candidates: &[Combo], sign: f64, diff: &mut DotBuilder) -> Vec<(Combo, u32)> {
    candidates
        .chunks(2)
        .filter(|c| c.len() == 2)
        .map(|c| {
            let terms: Combo = (c[0].iter().map(|&(r, w)| (r, sign * w)))
                .chain(c[1].iter().map(|&(r, w)| (r, -sign * w)))
                .collect();
            (c[1].clone(), diff.push(&terms, 0.0))
        })
        .collect()
}

/// The candidates left after a level: `B + sign·d` for each pair; an odd last candidate is
/// carried through.
fn winners(
    candidates: &[Combo],
    pairs: Vec<(Combo, u32)>,
    (d_id, sign): (usize, f64),
) -> Vec<Combo> {
    let mut out: Vec<Combo> = pairs
        .into_iter()
        .map(|(mut b, d)| {
            b.push(((d_id, d), sign));
            b
        })
        .collect();
    if candidates.len() % 2 == 1 {
        out.push(candidates[candidates.len() - 1].clone());
    }
    out
}

/// The window results: copies when every window held one value, else one dot product
/// (one requantization) per output.
fn result(finals: &[Combo], out: Vec<usize>) -> Node {
    if finals.iter().all(|c| matches!(c[..], [(_, w)] if w == 1.0)) {
        let sources: Vec<Ref> = finals.iter().map(|c| c[0].0).collect();
        let mut ids: Vec<usize> = sources.iter().map(|s| s.0).collect();
        ids.sort_unstable();
        ids.dedup();
        let sources = sources
            .iter()
            .map(|&(id, i)| (ids.iter().position(|&x| x == id).unwrap_or(0) as u32, i))
            .collect();
        return (FloatOp::Gather(Gather { sources }), ids, out);
    }
    let mut dot = DotBuilder::new();
    for c in finals {
        dot.push(c, 0.0);
    }
    let (op, inputs, _) = dot.node();
    (op, inputs, out)
}

fn variadic(l: &Lowering, ops: &[Operand], op: &str, sign: f64) -> Result<Lowered, String> {
    let ids = all_acts(ops, op)?;
    let shape = broadcast_all(l, &ids)?;
    let n: usize = shape.iter().product();
    let mut lists: Vec<Vec<Ref>> = vec![Vec::new(); n];
    for &i in &ids {
        let (_, [_, idx]) = broadcast(&shape, l.shape(i)).ok_or("shapes do not broadcast")?;
        for (j, src) in idx.into_iter().enumerate() {
            lists[j].push((i, src));
        }
    }
    extremum(l, lists, shape, sign)
}

/// Max of any number of activations.
pub fn max(l: &Lowering, _: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    variadic(l, ops, "Max", 1.0)
}

/// Min of any number of activations.
pub fn min(l: &Lowering, _: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    variadic(l, ops, "Min", -1.0)
}

/// ReduceMax (`sign = 1`) and ReduceMin (`sign = -1`): the extremum of each reduced group.
fn reduce_extremum(
    l: &Lowering,
    node: &NodeProto,
    ops: &[Operand],
    sign: f64,
) -> Result<Lowered, String> {
    let (x, groups, shape) = super::affine::reduction_groups(l, node, ops)?;
    if groups.iter().any(Vec::is_empty) {
        return Err("a reduction over an empty set".into());
    }
    let lists = groups
        .into_iter()
        .map(|g| g.into_iter().map(|i| (x, i)).collect())
        .collect();
    extremum(l, lists, shape, sign)
}

/// ReduceMax.
pub fn reduce_max(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    reduce_extremum(l, node, ops, 1.0)
}

/// ReduceMin.
pub fn reduce_min(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    reduce_extremum(l, node, ops, -1.0)
}

/// MaxPool: padding never wins (it is −∞), so a window's maximum is over its inside values.
pub fn max_pool(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let [Operand::Act(x)] = ops else {
        return Err("expects one activation".into());
    };
    if node.output.iter().skip(1).any(|o| !o.is_empty()) {
        return Err("the Indices output is not supported".into());
    }
    let xs = l.shape(*x).to_vec();
    if xs.len() < 3 {
        return Err("the input must be N×C×spatial".into());
    }
    let spatial = &xs[2..];
    let kernel: Vec<usize> = attr_ints(node, "kernel_shape")
        .ok_or("kernel_shape is required")?
        .iter()
        .map(|&k| k.max(1) as usize)
        .collect();
    let win = Window::new(node, spatial, &kernel)?;
    let out: Vec<usize> = xs[..2]
        .iter()
        .copied()
        .chain(win.out.iter().copied())
        .collect();
    let xst = strides(&xs);
    let lists = all_coords(&out)
        .map(|o| {
            all_coords(&kernel)
                .filter_map(|k| win.input_at(&o[2..], &k, spatial))
                .map(|p| {
                    let at: Vec<usize> = [o[0], o[1]].into_iter().chain(p).collect();
                    (*x, ravel(&at, &xst) as u32)
                })
                .collect()
        })
        .collect::<Vec<Vec<_>>>();
    if lists.iter().any(Vec::is_empty) {
        return Err("a window holds only padding".into());
    }
    extremum(l, lists, out, 1.0)
}

/// Clip to constant bounds: `lo + relu(x - lo)`, then `y - relu(y - hi)`.
pub fn clip(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let Some(Operand::Act(x)) = ops.first() else {
        return Err("the input must be an activation".into());
    };
    let bound = |i: usize, attr: &str, default: f32| -> Result<Option<f64>, String> {
        match super::operand(node, ops, i) {
            Some(Operand::Const(c)) => Ok(c.data.first().copied()),
            Some(Operand::Act(_)) => Err("bounds must be constants".into()),
            None => Ok(node
                .attribute
                .iter()
                .any(|a| a.name == attr)
                .then(|| attr_f(node, attr, default) as f64)),
        }
    };
    let (lo, hi) = (bound(1, "min", f32::MIN)?, bound(2, "max", f32::MAX)?);
    let xs = l.shape(*x).to_vec();
    let n: usize = xs.iter().product();
    let base = l.next_id();
    let mut nodes: Vec<Node> = Vec::new();
    let mut cur: (usize, f64) = (*x, 0.0); // value = tensor + offset
    if let Some(lo) = lo {
        let d = DotBuilder::relu_shift(cur, -lo, n, 1.0);
        let r = push_relu(&mut nodes, base, d);
        cur = (r, lo);
    }
    if let Some(hi) = hi {
        let d = DotBuilder::relu_shift(cur, -hi, n, 1.0);
        let r = push_relu(&mut nodes, base, d);
        let mut fin = DotBuilder::new();
        for j in 0..n as u32 {
            fin.push(&[((cur.0, j), 1.0), ((r, j), -1.0)], cur.1);
        }
        nodes.push(fin.node());
    } else {
        let mut fin = DotBuilder::new();
        for j in 0..n as u32 {
            fin.push(&[((cur.0, j), 1.0)], cur.1);
        }
        nodes.push(fin.node());
    }
    let last = base + nodes.len() - 1;
    nodes.push((FloatOp::Reshape(Reshape), vec![last], xs));
    let out = nodes.len() - 1;
    Ok(Lowered::Nodes {
        nodes,
        outputs: vec![out],
    })
}

impl DotBuilder {
    /// `tensor + offset + shift` per value (the ReLU follows), for Clip.
    fn relu_shift((id, offset): (usize, f64), shift: f64, n: usize, w: f64) -> Node {
        let mut d = DotBuilder::new();
        for j in 0..n as u32 {
            d.push(&[((id, j), w)], offset + shift);
        }
        d.node()
    }
}

/// Abs: `2·relu(x) - x`.
pub fn abs(l: &Lowering, _: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let [Operand::Act(x)] = ops else {
        return Err("expects one activation".into());
    };
    let xs = l.shape(*x).to_vec();
    let n: usize = xs.iter().product();
    let relu_id = l.next_id();
    let terms = (0..n as u32)
        .map(|j| vec![(0, j, -1.0), (1, j, 2.0)])
        .collect();
    Ok(Lowered::Nodes {
        nodes: vec![
            (FloatOp::Relu(Relu), vec![*x], xs.clone()),
            (
                FloatOp::SparseDot(SparseDot {
                    terms,
                    b: vec![0.0; n],
                }),
                vec![*x, relu_id],
                xs,
            ),
        ],
        outputs: vec![1],
    })
}
