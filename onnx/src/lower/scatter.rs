//! Indexing by constant indices (given in the model, or graph inputs fixed at compile
//! time): GatherElements, GatherND, ScatterElements (and the older Scatter) and ScatterND
//! are copies of input values, or a dot product where a scatter adds duplicates. Indices
//! taken from an activation are refused.

use super::index::{all_coords, axis, ravel, strides, unravel};
use super::{attr_i, attr_s, Const, Lowered, Lowering, Operand};
use crate::float_op::{Gather, SparseDot};
use crate::graph::FloatOp;
use tract_onnx::pb::NodeProto;

/// The data (an activation) and the indices (a constant) of an indexing op.
fn data_and_indices<'a>(
    l: &Lowering,
    ops: &'a [Operand<'a>],
) -> Result<(usize, Vec<usize>, &'a Const), String> {
    match ops {
        [Operand::Act(x), Operand::Const(idx), ..] => Ok((*x, l.shape(*x).to_vec(), idx)),
        [Operand::Act(_), Operand::Act(_), ..] => {
            Err("indices from an activation are not supported; give them as constants".into())
        }
        _ => Err("the data must be an activation".into()),
    }
}

/// An index along an axis of `d` values (negative from the end), checked.
fn within(i: f64, d: usize) -> Result<usize, String> {
    let i = i as i64;
    let j = if i < 0 { i + d as i64 } else { i };
    if (0..d as i64).contains(&j) {
        Ok(j as usize)
    } else {
        Err(format!("index {i} out of range for an axis of {d}"))
    }
}

/// GatherElements: `y[p] = x[p with p[axis] = idx[p]]`.
pub fn gather_elements(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let (x, xs, idx) = data_and_indices(l, ops)?;
    let ax = axis(attr_i(node, "axis", 0), xs.len())?;
    if idx.shape.len() != xs.len() {
        return Err(format!(
            "indices {:?} and data {xs:?} differ in rank",
            idx.shape
        ));
    }
    let st = strides(&xs);
    let sources = all_coords(&idx.shape)
        .enumerate()
        .map(|(f, mut c)| {
            c[ax] = within(idx.data[f], xs[ax])?;
            Ok((0, ravel(&c, &st) as u32))
        })
        .collect::<Result<_, String>>()?;
    Ok(Lowered::Op(
        FloatOp::Gather(Gather { sources }),
        vec![x],
        idx.shape.clone(),
    ))
}

/// For index tuples of length `k` (the last axis of `idx`) into `xs` after `batch` leading
/// axes: per tuple, the flat offset of the slice it selects; and the slice's shape.
fn tuples(xs: &[usize], idx: &Const, batch: usize) -> Result<(Vec<usize>, Vec<usize>), String> {
    let k = *idx.shape.last().ok_or("indices must have rank ≥ 1")?;
    if batch + k > xs.len() || idx.shape.len() < batch + 1 || idx.shape[..batch] != xs[..batch] {
        return Err(format!("indices {:?} do not index data {xs:?}", idx.shape));
    }
    let st = strides(xs);
    let per_batch: usize = idx.shape[batch..idx.shape.len() - 1].iter().product();
    let count = idx.data.len() / k.max(1);
    let offsets = (0..count)
        .map(|t| {
            let b = unravel(t / per_batch.max(1), &xs[..batch]);
            let mut off: usize = b.iter().zip(&st).map(|(c, s)| c * s).sum();
            for j in 0..k {
                off += within(idx.data[t * k + j], xs[batch + j])? * st[batch + j];
            }
            Ok(off)
        })
        .collect::<Result<_, String>>()?;
    Ok((offsets, xs[batch + k..].to_vec()))
}

/// GatherND (with `batch_dims`).
pub fn gather_nd(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let (x, xs, idx) = data_and_indices(l, ops)?;
    let batch = attr_i(node, "batch_dims", 0).max(0) as usize;
    let (offsets, slice) = tuples(&xs, idx, batch)?;
    let inner: usize = slice.iter().product();
    let sources = offsets
        .iter()
        .flat_map(|&o| (0..inner).map(move |i| (0, (o + i) as u32)))
        .collect();
    let out: Vec<usize> = idx.shape[..idx.shape.len() - 1]
        .iter()
        .chain(&slice)
        .copied()
        .collect();
    Ok(Lowered::Op(
        FloatOp::Gather(Gather { sources }),
        vec![x],
        out,
    ))
}

/// The updates of a scatter: an activation.
fn updates(l: &Lowering, ops: &[Operand]) -> Result<(usize, usize), String> {
    match ops.get(2) {
        Some(Operand::Act(u)) => Ok((*u, l.shape(*u).iter().product())),
        _ => Err("the updates must be an activation".into()),
    }
}

/// The scattered result: each output position reads the data, or the updates written
/// there (the last one, or their sum with the data for `reduction = add`).
fn scattered(
    x: usize,
    xs: Vec<usize>,
    u: usize,
    targets: &[usize],
    reduction: &str,
) -> Result<Lowered, String> {
    let n: usize = xs.iter().product();
    let mut writes: Vec<Vec<u32>> = vec![vec![]; n];
    for (p, &t) in targets.iter().enumerate() {
        writes[t].push(p as u32);
    }
    match reduction {
        "" | "none" => {
            let sources = (0..n)
                .map(|t| writes[t].last().map_or((0, t as u32), |&p| (1, p)))
                .collect();
            Ok(Lowered::Op(
                FloatOp::Gather(Gather { sources }),
                vec![x, u],
                xs,
            ))
        }
        "add" => {
            let terms = (0..n)
                .map(|t| {
                    let mut v = vec![(0, t as u32, 1.0)];
                    v.extend(writes[t].iter().map(|&p| (1, p, 1.0)));
                    v
                })
                .collect();
            let op = FloatOp::SparseDot(SparseDot {
                terms,
                b: vec![0.0; n],
            });
            Ok(Lowered::Op(op, vec![x, u], xs))
        }
        r => Err(format!("reduction '{r}' is not supported")),
    }
}

/// ScatterElements and Scatter.
pub fn scatter_elements(
    l: &Lowering,
    node: &NodeProto,
    ops: &[Operand],
) -> Result<Lowered, String> {
    let (x, xs, idx) = data_and_indices(l, ops)?;
    let (u, count) = updates(l, ops)?;
    let ax = axis(attr_i(node, "axis", 0), xs.len())?;
    if count != idx.data.len() || idx.shape.len() != xs.len() {
        return Err("indices and updates must have the same shape, of the data's rank".into());
    }
    let st = strides(&xs);
    let targets: Vec<usize> = all_coords(&idx.shape)
        .enumerate()
        .map(|(f, mut c)| {
            c[ax] = within(idx.data[f], xs[ax])?;
            Ok(ravel(&c, &st))
        })
        .collect::<Result<_, String>>()?;
    scattered(x, xs, u, &targets, &attr_s(node, "reduction"))
}

/// ScatterND.
pub fn scatter_nd(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let (x, xs, idx) = data_and_indices(l, ops)?;
    let (u, count) = updates(l, ops)?;
    let (offsets, slice) = tuples(&xs, idx, 0)?;
    let inner: usize = slice.iter().product();
    if count != offsets.len() * inner {
        return Err("the updates do not match the indices".into());
    }
    let targets: Vec<usize> = offsets
        .iter()
        .flat_map(|&o| (0..inner).map(move |i| o + i))
        .collect();
    scattered(x, xs, u, &targets, &attr_s(node, "reduction"))
}

/// Dropout at inference (or with ratio 0): the input unchanged, and a mask of ones (each a
/// dot row with no terms, proven 1). Training-mode dropout draws random numbers: refused.
pub fn dropout(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let [Operand::Act(x), ..] = ops else {
        return Err("the input must be an activation".into());
    };
    let flag = |i: usize, default: f64| match super::operand(node, ops, i) {
        Some(Operand::Const(c)) => Ok(c.data.first().copied().unwrap_or(default)),
        Some(Operand::Act(_)) => Err("ratio and training_mode must be fixed at compile time"),
        None => Ok(default),
    };
    let ratio = flag(1, f64::from(super::attr_f(node, "ratio", 0.5)))?;
    if flag(2, 0.0)? != 0.0 && ratio != 0.0 {
        return Err("training-mode Dropout draws random numbers".into());
    }
    let xs = l.shape(*x).to_vec();
    let n: usize = xs.iter().product();
    let copy = (
        FloatOp::Reshape(crate::float_op::Reshape),
        vec![*x],
        xs.clone(),
    );
    let ones = FloatOp::SparseDot(SparseDot {
        terms: vec![vec![]; n],
        b: vec![1.0; n],
    });
    Ok(Lowered::Nodes {
        nodes: vec![copy, (ones, vec![*x], xs)],
        outputs: vec![0, 1],
    })
}
