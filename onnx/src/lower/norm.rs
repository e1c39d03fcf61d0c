//! InstanceNormalization: per (batch, channel) group, `y = scale·(x − μ)/√(σ² + ε) + B`.
//!
//! Lowered to proven pieces: the mean and variance are dot products (reductions), the
//! centred values and their squares are requantized rows, `1/√(σ² + ε)` is a table, and the
//! last step is one product row per value with the bias folded in.

use super::{attr_f, single, Lowered, Lowering, Operand};
use crate::float_op::{Mul, SparseDot, TableFn};
use crate::graph::FloatOp;
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
