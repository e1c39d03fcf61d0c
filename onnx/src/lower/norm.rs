//! InstanceNormalization: per (batch, channel) group, `y = scale·(x − μ)/√(σ² + ε) + B`;
//! LayerNormalization and RMSNormalization: the same over the trailing axes from `axis`.
//!
//! Lowered to proven pieces: the mean and variance are dot products (reductions), the
//! centred values and their squares are requantized rows, `1/√(σ² + ε)` is a table, and the
//! last step is one product row per value with the bias folded in.

use super::index::axis;
use super::{attr_f, attr_i, single, Lowered, Lowering, Operand};
use crate::float_op::{Add, Mul, SparseDot, TableFn};
use crate::graph::{broadcast, FloatOp};
use tract_onnx::pb::NodeProto;
use zkonnx_circuits::ops::FnKind;

type Node = (FloatOp, Vec<usize>, Vec<usize>);

/// A dot node that maps every group to `w·input[group]` plus `b`.
fn per_group(input: usize, groups: usize, w: impl Fn(usize) -> f64, b: f64) -> Node {
    let terms = (0..groups).map(|g| vec![(0, g as u32, w(g))]).collect();
    (
        FloatOp::SparseDot(SparseDot {
            terms,
            b: vec![b; groups],
        }),
        vec![input],
        vec![groups],
    )
}

/// The mean over each group of `size` consecutive values, plus `b`.
fn group_mean(input: usize, groups: usize, size: usize, b: f64) -> Node {
    let w = 1.0 / size as f64;
    let terms = (0..groups)
        .map(|g| {
            (g * size..(g + 1) * size)
                .map(|i| (0, i as u32, w))
                .collect()
        })
        .collect();
    (
        FloatOp::SparseDot(SparseDot {
            terms,
            b: vec![b; groups],
        }),
        vec![input],
        vec![groups],
    )
}

/// InstanceNormalization with constant scale and bias.
pub fn instance_norm(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let (x, xs) = single(l, ops)?;
    let (Some(Operand::Const(scale)), Some(Operand::Const(bias))) = (ops.get(1), ops.get(2)) else {
        return Err("scale and B must be constants".into());
    };
    if xs.len() < 3 {
        return Err("the input needs a batch, a channel and a spatial axis".into());
    }
    let channels = xs[1];
    if scale.data.len() != channels || bias.data.len() != channels {
        return Err("scale and B need one value per channel".into());
    }
    let eps = attr_f(node, "epsilon", 1e-5) as f64;
    let size: usize = xs[2..].iter().product();
    let groups = xs[0] * channels;
    let n = groups * size;
    let group_of: Vec<u32> = (0..n).map(|j| (j / size) as u32).collect();
    let ids: Vec<u32> = (0..n as u32).collect();
    let base = l.next_id();
    let (mean, centred, square, var, rsqrt, gain) =
        (base, base + 1, base + 2, base + 3, base + 4, base + 5);
    let centre_terms = (0..n)
        .map(|j| vec![(0, j as u32, 1.0), (1, group_of[j], -1.0)])
        .collect();
    let nodes = vec![
        group_mean(x, groups, size, 0.0),
        (
            FloatOp::SparseDot(SparseDot {
                terms: centre_terms,
                b: vec![0.0; n],
            }),
            vec![x, mean],
            xs.clone(),
        ),
        (
            FloatOp::Mul(Mul {
                index: [ids.clone(), ids.clone()],
                bias: vec![],
            }),
            vec![centred, centred],
            xs.clone(),
        ),
        group_mean(square, groups, size, eps),
        (
            FloatOp::TableFn(TableFn {
                kind: FnKind::Rsqrt,
            }),
            vec![var],
            vec![groups],
        ),
        per_group(rsqrt, groups, |g| scale.data[g % channels], 0.0),
        (
            FloatOp::Mul(Mul {
                index: [ids, group_of.clone()],
                bias: group_of
                    .iter()
                    .map(|&g| bias.data[g as usize % channels])
                    .collect(),
            }),
            vec![centred, gain],
            xs,
        ),
    ];
    debug_assert_eq!(gain + 2, base + nodes.len());
    Ok(Lowered::Nodes {
        nodes,
        outputs: vec![6],
    })
}

/// Each of `n` values' source in a parameter of shape `ps` broadcast over the normalized
/// axes `inner` (value `j` is at position `j % size` of those axes).
fn param_index(ps: &[usize], inner: &[usize], n: usize) -> Result<Vec<u32>, String> {
    let (shape, [ip, _]) = broadcast(ps, inner).ok_or("a parameter does not broadcast")?;
    if shape != inner {
        return Err(format!(
            "a parameter of shape {ps:?} is wider than the normalized axes {inner:?}"
        ));
    }
    let size = ip.len();
    Ok((0..n).map(|j| ip[j % size]).collect())
}

/// LayerNormalization (`centre`) and RMSNormalization over the axes from `axis` on:
/// `y = W·(x − μ)/√(σ² + ε) + B`, and without `μ` and `B` for RMSNormalization (there `σ²`
/// is the mean square). `W` and `B` are constants or activations broadcast over the
/// normalized axes. LayerNormalization's optional outputs `Mean` and `InvStdDev` are the
/// group mean and the table's `1/√(σ² + ε)`.
fn normalize(
    l: &Lowering,
    node: &NodeProto,
    ops: &[Operand],
    centre: bool,
) -> Result<Lowered, String> {
    let Some(Operand::Act(x)) = ops.first() else {
        return Err("X must be an activation".into());
    };
    let xs = l.shape(*x).to_vec();
    let ax = axis(attr_i(node, "axis", -1), xs.len())?;
    let eps = attr_f(node, "epsilon", 1e-5) as f64;
    let (size, groups): (usize, usize) = (xs[ax..].iter().product(), xs[..ax].iter().product());
    let n = groups * size;
    let mut stats = xs[..ax].to_vec();
    stats.resize(xs.len(), 1);
    let group_of: Vec<u32> = (0..n).map(|j| (j / size) as u32).collect();
    let ids: Vec<u32> = (0..n as u32).collect();
    let base = l.next_id();
    let mut nodes: Vec<Node> = vec![];
    let mut push = |node: Node| {
        nodes.push(node);
        base + nodes.len() - 1
    };
    let (centred, mean) = if centre {
        let (op, ins, _) = group_mean(*x, groups, size, 0.0);
        let mean = push((op, ins, stats.clone()));
        let terms = (0..n)
            .map(|j| vec![(0, j as u32, 1.0), (1, group_of[j], -1.0)])
            .collect();
        let dot = SparseDot {
            terms,
            b: vec![0.0; n],
        };
        (
            push((FloatOp::SparseDot(dot), vec![*x, mean], xs.clone())),
            Some(mean),
        )
    } else {
        (*x, None)
    };
    let product = |index: [Vec<u32>; 2], bias: Vec<f64>| FloatOp::Mul(Mul { index, bias });
    let square = push((
        product([ids.clone(), ids.clone()], vec![]),
        vec![centred, centred],
        xs.clone(),
    ));
    let var = push(group_mean(square, groups, size, eps));
    let rsqrt_op = FloatOp::TableFn(TableFn {
        kind: FnKind::Rsqrt,
    });
    let rsqrt = push((rsqrt_op, vec![var], stats));
    let normed = push((
        product([ids.clone(), group_of], vec![]),
        vec![centred, rsqrt],
        xs.clone(),
    ));
    let inner = &xs[ax..];
    let bias_at = |k: usize| -> Result<(Option<usize>, Vec<f64>), String> {
        match ops.get(k) {
            None => Ok((None, vec![0.0; n])),
            Some(Operand::Const(b)) => {
                let ib = param_index(&b.shape, inner, n)?;
                Ok((None, ib.iter().map(|&i| b.data[i as usize]).collect()))
            }
            Some(Operand::Act(b)) => Ok((Some(*b), vec![0.0; n])),
        }
    };
    let (bias_act, bias) = if centre {
        bias_at(2)?
    } else {
        (None, vec![0.0; n])
    };
    let scaled = match ops.get(1) {
        Some(Operand::Act(w)) => {
            let iw = param_index(l.shape(*w), inner, n)?;
            push((
                product([ids.clone(), iw], bias),
                vec![normed, *w],
                xs.clone(),
            ))
        }
        Some(Operand::Const(w)) => {
            let iw = param_index(&w.shape, inner, n)?;
            let terms = (0..n)
                .map(|j| vec![(0, j as u32, w.data[iw[j] as usize])])
                .collect();
            let dot = SparseDot { terms, b: bias };
            push((FloatOp::SparseDot(dot), vec![normed], xs.clone()))
        }
        None => return Err("Scale is required".into()),
    };
    let out = match bias_act {
        Some(b) => {
            let ib = param_index(l.shape(b), inner, n)?;
            let add = Add {
                sign: 1,
                index: [ids, ib],
            };
            push((FloatOp::Add(add), vec![scaled, b], xs))
        }
        None => scaled,
    };
    let mut outputs = vec![out - base];
    if let Some(mean) = mean {
        outputs.extend([mean - base, rsqrt - base]);
    }
    Ok(Lowered::Nodes { nodes, outputs })
}

pub fn layer_norm(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    normalize(l, node, ops, true)
}

pub fn rms_norm(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    normalize(l, node, ops, false)
}
