//! Softmax and LogSoftmax over an axis, from the proven blocks: the group's maximum (a tree
//! of proven ReLUs, see [`super::compare`]), `d = x − max`, `e = exp(d)` by table, the sum
//! `s`, then `e · (1/s)` (Softmax) or `d − ln s` (LogSoftmax), both by table. Subtracting the
//! maximum keeps every exponent in `(−∞, 0]`, so the exp table's domain is one-sided.

use super::compare::{extremum, DotBuilder};
use super::index::{all_coords, ravel, strides};
use super::{attr_i, Lowered, Lowering, Operand};
use crate::float_op::{Mul, Relu, Reshape, TableFn};
use crate::graph::{broadcast, FloatOp};
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
pub(super) fn groups(xs: &[usize], ax: usize, legacy: bool) -> Vec<Vec<u32>> {
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
    let mut groups = groups(&xs, ax, legacy);
    // Positions an added -inf masks out get no weight.
    if let Some(allowed) = l.masked.get(&x) {
        for g in &mut groups {
            g.retain(|&i| allowed[i as usize]);
        }
    }
    normalize(l, x, &xs, &groups, None, log)
}

/// zkonnx's internal `MaskedSoftmax(x, allowed, m?)`: a softmax over the last axis that
/// gives weight only to the positions a constant `allowed` (0/1, the shape of `x`) admits
/// and, when the boolean activation `m` (broadcast to `x`) is given, those it holds true.
/// Masked positions come out 0, and so does a group with no position admitted (the
/// convention of ONNX `Attention` for a fully masked row).
pub fn masked_softmax(l: &Lowering, _: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let (x, allowed, m) = match ops {
        [Operand::Act(x), Operand::Const(a)] => (*x, *a, None),
        [Operand::Act(x), Operand::Const(a), Operand::Act(m)] => (*x, *a, Some(*m)),
        _ => {
            return Err("expects an activation, a constant mask and an optional activation".into())
        }
    };
    let xs = l.shape(x).to_vec();
    if allowed.shape != xs {
        return Err(format!(
            "mask shape {:?} is not the input's {xs:?}",
            allowed.shape
        ));
    }
    let last = xs
        .len()
        .checked_sub(1)
        .ok_or("expects a tensor of rank ≥ 1")?;
    let groups: Vec<Vec<u32>> = groups(&xs, last, false)
        .into_iter()
        .map(|g| {
            g.into_iter()
                .filter(|&i| allowed.data[i as usize] != 0.0)
                .collect()
        })
        .collect();
    let m = match m {
        Some(m) => {
            let (shape, [_, index]) = broadcast(&xs, l.shape(m))
                .filter(|(s, _)| *s == xs)
                .ok_or_else(|| {
                    format!("mask shape {:?} does not broadcast to {xs:?}", l.shape(m))
                })?;
            debug_assert_eq!(shape, xs);
            Some((m, index))
        }
        None => None,
    };
    normalize(l, x, &xs, &groups, m, false)
}

/// The softmax (or log-softmax) of `x` over each group of flat indices. Positions in no
/// group come out 0; `m` = (a 0/1 tensor, its index for each position of `x`) zeroes more.
fn normalize(
    l: &Lowering,
    x: usize,
    xs: &[usize],
    groups: &[Vec<u32>],
    m: Option<(usize, Vec<u32>)>,
    log: bool,
) -> Result<Lowered, String> {
    let n: usize = xs.iter().product();
    // The positions the softmax covers, in group order, and each one's group; `x` itself
    // when every position is covered in flat order (a plain softmax over the last axis).
    let groups: Vec<&Vec<u32>> = groups.iter().filter(|g| !g.is_empty()).collect();
    let covered: Vec<u32> = groups.iter().flat_map(|g| g.iter().copied()).collect();
    let mut group_of = vec![0u32; covered.len()];
    let mut compact: Vec<Vec<u32>> = Vec::with_capacity(groups.len());
    let identity = covered.len() == n && m.is_none();
    let mut k = 0u32;
    for (g, members) in groups.iter().enumerate() {
        let mut c = Vec::with_capacity(members.len());
        for &i in members.iter() {
            let slot = if identity { i } else { k };
            group_of[slot as usize] = g as u32;
            c.push(slot);
            k += 1;
        }
        compact.push(c);
    }
    let positions: Vec<u32> = if identity {
        (0..n as u32).collect()
    } else {
        covered
    };
    if groups.is_empty() {
        return Err("every position is masked".into());
    }
    if log && !identity {
        return Err("a masked log-softmax is not supported".into());
    }
    let p = positions.len();
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
    // 2. d = x - max(group); 3. e = exp(d) (times m), s = Σ_group e.
    let mut d = DotBuilder::new();
    for (k, &i) in positions.iter().enumerate() {
        d.push(&[((x, i), 1.0), ((max_id, group_of[k]), -1.0)], 0.0);
    }
    let d_id = c.push(d.node());
    let mut e_id = c.table(FnKind::Exp, d_id, p);
    let mut s = DotBuilder::new();
    if let Some((m, m_index)) = &m {
        let at: Vec<u32> = positions.iter().map(|&i| m_index[i as usize]).collect();
        e_id = c.push((
            FloatOp::Mul(Mul {
                index: [(0..p as u32).collect(), at.clone()],
                bias: vec![],
            }),
            vec![e_id, *m],
            vec![p],
        ));
        // A group whose every m is 0 sums to 0; add relu(1 - Σ m) = 1 to it (m is 0/1, so
        // the ReLU is 1 exactly there), so its reciprocal exists and its values stay 0.
        let mut none = DotBuilder::new();
        for g in &compact {
            let refs: Vec<_> = g.iter().map(|&k| ((*m, at[k as usize]), -1.0)).collect();
            none.push(&refs, 1.0);
        }
        let none_id = c.push(none.node());
        let empty = c.push((FloatOp::Relu(Relu), vec![none_id], vec![groups.len()]));
        for (g, members) in compact.iter().enumerate() {
            let mut refs: Vec<_> = members.iter().map(|&k| ((e_id, k), 1.0)).collect();
            refs.push(((empty, g as u32), 1.0));
            s.push(&refs, 0.0);
        }
    } else {
        for g in &compact {
            s.push(
                &g.iter().map(|&k| ((e_id, k), 1.0)).collect::<Vec<_>>(),
                0.0,
            );
        }
    }
    let s_id = c.push(s.node());
    // 4. d - ln(s), or e · (1/s).
    let mut last = if log {
        let ln_id = c.table(FnKind::Ln, s_id, groups.len());
        c.push(per_value(n, (d_id, 1.0), (ln_id, -1.0), &group_of))
    } else {
        let r_id = c.table(FnKind::Reciprocal, s_id, groups.len());
        let mul = Mul {
            index: [(0..p as u32).collect(), group_of],
            bias: vec![],
        };
        c.push((FloatOp::Mul(mul), vec![e_id, r_id], vec![p]))
    };
    // 5. Masked positions are 0: scatter the covered values back to their places.
    if !identity {
        let mut slot = vec![None; n];
        for (k, &i) in positions.iter().enumerate() {
            slot[i as usize] = Some(k as u32);
        }
        let mut scatter = DotBuilder::new();
        for s in slot {
            match s {
                Some(k) => scatter.push(&[((last, k), 1.0)], 0.0),
                None => scatter.push(&[], 0.0),
            };
        }
        last = c.push(scatter.node());
    }
    c.push((FloatOp::Reshape(Reshape), vec![last], xs.to_vec()));
    let out = c.nodes.len() - 1;
    Ok(Lowered::Nodes {
        nodes: c.nodes,
        outputs: vec![out],
    })
}

#[cfg(test)]
mod tests {
    use super::super::{types::ElemTypes, Const};
    use super::*;
    use crate::graph::FloatGraph;
    use std::collections::HashMap;

    /// Lowers `MaskedSoftmax` over a graph whose inputs are `x` and, optionally, `m`, and
    /// runs it in floats.
    fn run(
        x: (&[usize], Vec<f64>),
        allowed: Vec<f64>,
        m: Option<(&[usize], Vec<f64>)>,
    ) -> Vec<f64> {
        let mut l = Lowering {
            opset: 23,
            graph: FloatGraph::default(),
            acts: HashMap::new(),
            consts: HashMap::new(),
            types: ElemTypes::default(),
            masked: HashMap::new(),
        };
        l.graph.inputs.push(("x".into(), x.0.to_vec()));
        let mut data = vec![x.1];
        let allowed = Const {
            shape: x.0.to_vec(),
            data: allowed,
        };
        let mut ops = vec![Operand::Act(0), Operand::Const(&allowed)];
        if let Some((shape, values)) = m {
            l.graph.inputs.push(("m".into(), shape.to_vec()));
            data.push(values);
            ops.push(Operand::Act(1));
        }
        let Ok(Lowered::Nodes { nodes, .. }) = masked_softmax(&l, &NodeProto::default(), &ops)
        else {
            panic!("MaskedSoftmax does not lower");
        };
        let mut last = 0;
        for n in nodes {
            last = l.push(String::new(), "MaskedSoftmax", n);
        }
        let (tensors, _) = l.graph.run(&data);
        tensors[last].clone()
    }

    fn close(got: &[f64], want: &[f64]) -> bool {
        got.len() == want.len() && got.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-9)
    }

    #[test]
    fn masked_positions_get_no_weight_and_a_fully_masked_row_is_zero() {
        let x = vec![1.0, 2.0, 30.0, 4.0, 5.0, 6.0];
        let got = run((&[2, 3], x), vec![1.0, 1.0, 0.0, 0.0, 0.0, 0.0], None);
        let e = 1f64.exp() + 2f64.exp();
        let want = [1f64.exp() / e, 2f64.exp() / e, 0.0, 0.0, 0.0, 0.0];
        assert!(close(&got, &want), "{got:?}");
    }

    #[test]
    fn a_boolean_activation_mask_zeroes_its_positions_and_rows_it_empties() {
        let x = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        // Row 0 admits positions 0 and 2 of which m keeps 0 and 2; row 1 admits only
        // position 1, which m drops: the row is 0, not a division by zero.
        let allowed = vec![1.0, 0.0, 1.0, 0.0, 1.0, 0.0];
        let got = run((&[2, 3], x), allowed, Some((&[3], vec![1.0, 0.0, 1.0])));
        let e = 1f64.exp() + 3f64.exp();
        let want = [1f64.exp() / e, 0.0, 3f64.exp() / e, 0.0, 0.0, 0.0];
        assert!(close(&got, &want), "{got:?}");
    }

    #[test]
    fn with_nothing_masked_it_is_the_plain_softmax() {
        let x = vec![0.5, -1.0, 2.0, 0.0];
        let got = run((&[1, 4], x.clone()), vec![1.0; 4], None);
        let s: f64 = x.iter().map(|v| v.exp()).sum();
        let want: Vec<f64> = x.iter().map(|v| v.exp() / s).collect();
        assert!(close(&got, &want), "{got:?}");
    }
}
