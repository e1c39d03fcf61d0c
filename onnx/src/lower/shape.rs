//! Shape ops lowered to copies of input values (`Gather`) or to views (`Reshape`):
//! Transpose, Concat, Squeeze, Unsqueeze, Slice, Split, Expand, Tile, Gather (constant
//! indices) and Pad (constant mode as a dot product with the pad value as bias; reflect and
//! edge as copies).

use super::index::{all_coords, axis, iota, ravel, strides};
use super::{
    all_acts, attr_f, attr_i, attr_ints, attr_s, single, Const, Lowered, Lowering, Operand,
};
use crate::float_op::{Embed, Gather, Reshape, SparseDot};
use crate::graph::{broadcast, FloatOp};
use ndarray::{ArrayViewD, Axis, IxDyn, Slice};
use tract_onnx::pb::NodeProto;

/// Integer values of a constant input, or of an attribute for older opsets.
fn ints(node: &NodeProto, ops: &[Operand], input: usize, attr: &str) -> Option<Vec<i64>> {
    match super::operand(node, ops, input) {
        Some(Operand::Const(c)) => Some(c.data.iter().map(|&v| v as i64).collect()),
        _ => attr_ints(node, attr),
    }
}

/// The copy of input `x` that `view` (a view of `x`'s index tensor, see [`iota`]) selects,
/// in the view's row-major order.
fn copy_of(x: usize, view: ArrayViewD<'_, u32>) -> (FloatOp, Vec<usize>, Vec<usize>) {
    let sources = view.iter().map(|&i| (0, i)).collect();
    let op = FloatOp::Gather(Gather { sources });
    (op, vec![x], view.shape().to_vec())
}

/// [`copy_of`] as the one op of a node.
fn copy(x: usize, view: ArrayViewD<'_, u32>) -> Lowered {
    let (op, ins, out) = copy_of(x, view);
    Lowered::Op(op, ins, out)
}

/// Transpose by `perm` (default: reversed axes).
pub fn transpose(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let (x, xs) = single(l, ops)?;
    let perm: Vec<usize> = attr_ints(node, "perm").map_or_else(
        || (0..xs.len()).rev().collect(),
        |p| p.iter().map(|&a| a.max(0) as usize).collect(),
    );
    let mut sorted = perm.clone();
    sorted.sort_unstable();
    if sorted != (0..xs.len()).collect::<Vec<_>>() {
        return Err(format!(
            "perm {perm:?} is not a permutation of {} axes",
            xs.len()
        ));
    }
    Ok(copy(x, iota(&xs).view().permuted_axes(IxDyn(&perm))))
}

/// Concat along `axis`; every input must be an activation.
pub fn concat(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let ids = all_acts(ops, "Concat")?;
    let first = l.shape(*ids.first().ok_or("no inputs")?).to_vec();
    let ax = axis(attr_i(node, "axis", 0), first.len())?;
    let parts: Vec<_> = (ids.iter().enumerate())
        .map(|(k, &i)| iota(l.shape(i)).mapv(|v| (k as u32, v)))
        .collect();
    let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
    let joined = ndarray::concatenate(Axis(ax), &views).map_err(|e| e.to_string())?;
    let out = joined.shape().to_vec();
    let sources = joined.iter().copied().collect();
    Ok(Lowered::Op(FloatOp::Gather(Gather { sources }), ids, out))
}

/// Squeeze the given axes (default: every axis of size 1).
pub fn squeeze(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let (x, xs) = single(l, ops)?;
    let axes = match ints(node, ops, 1, "axes") {
        Some(a) => a
            .iter()
            .map(|&a| axis(a, xs.len()))
            .collect::<Result<Vec<_>, _>>()?,
        None => (0..xs.len()).filter(|&i| xs[i] == 1).collect(),
    };
    let out = xs
        .iter()
        .enumerate()
        .filter(|(i, _)| !axes.contains(i))
        .map(|(_, &d)| d)
        .collect();
    Ok(Lowered::Op(FloatOp::Reshape(Reshape), vec![x], out))
}

/// Unsqueeze at the given axes.
pub fn unsqueeze(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let (x, xs) = single(l, ops)?;
    let raw = ints(node, ops, 1, "axes").ok_or("axes are required")?;
    let rank = xs.len() + raw.len();
    let mut axes = raw
        .iter()
        .map(|&a| axis(a, rank))
        .collect::<Result<Vec<_>, _>>()?;
    axes.sort_unstable();
    let mut out = xs.clone();
    for a in axes {
        out.insert(a.min(out.len()), 1);
    }
    Ok(Lowered::Op(FloatOp::Reshape(Reshape), vec![x], out))
}

/// Slice with starts, ends, axes and steps (inputs, or attributes before opset 10).
pub fn slice(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let (x, xs) = single(l, ops)?;
    let starts = ints(node, ops, 1, "starts").ok_or("starts are required")?;
    let ends = ints(node, ops, 2, "ends").ok_or("ends are required")?;
    let axes = ints(node, ops, 3, "axes").unwrap_or_else(|| (0..starts.len() as i64).collect());
    let steps = ints(node, ops, 4, "steps").unwrap_or_else(|| vec![1; starts.len()]);
    let mut cut: Vec<Slice> = vec![Slice::from(..); xs.len()];
    for i in 0..starts.len() {
        let a = axis(*axes.get(i).ok_or("axes too short")?, xs.len())?;
        let (d, s) = (xs[a] as i64, *steps.get(i).ok_or("steps too short")?);
        if s <= 0 {
            return Err("only positive steps are supported".into());
        }
        let clamp = |v: i64| if v < 0 { (v + d).max(0) } else { v.min(d) };
        let (b, e) = (clamp(starts[i]), clamp(ends[i]));
        cut[a] = Slice::new(b as isize, Some(e.max(b) as isize), s as isize);
    }
    let idx = iota(&xs);
    Ok(copy(x, idx.slice_each_axis(|ax| cut[ax.axis.index()])))
}

/// Split along `axis` into the sizes given (or equal parts, one per output).
pub fn split(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let (x, xs) = single(l, ops)?;
    let ax = axis(attr_i(node, "axis", 0), xs.len())?;
    let parts = node.output.len().max(1);
    let sizes: Vec<usize> = match ints(node, ops, 1, "split") {
        Some(s) => s.iter().map(|&v| v.max(0) as usize).collect(),
        None => vec![xs[ax].div_ceil(parts); parts],
    };
    let idx = iota(&xs);
    let mut nodes = Vec::new();
    let mut offset = 0;
    for size in sizes.iter().take(parts) {
        let size = (*size).min(xs[ax].saturating_sub(offset));
        let part = idx.slice_axis(Axis(ax), Slice::from(offset..offset + size));
        nodes.push(copy_of(x, part));
        offset += size;
    }
    let outputs = (0..nodes.len()).collect();
    Ok(Lowered::Nodes { nodes, outputs })
}

/// Expand to a broadcast shape given as a constant.
pub fn expand(l: &Lowering, _: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let (x, xs) = single(l, ops)?;
    let Some(Operand::Const(shape)) = ops.get(1) else {
        return Err("the shape must be a constant (fixed at compile time)".into());
    };
    let target: Vec<usize> = shape.data.iter().map(|&d| d.max(0.0) as usize).collect();
    let (out, _) = broadcast(&xs, &target).ok_or("shapes do not broadcast")?;
    let idx = iota(&xs);
    let view = idx
        .broadcast(IxDyn(&out))
        .ok_or("shapes do not broadcast")?;
    Ok(copy(x, view))
}

/// Tile by constant repeats.
pub fn tile(l: &Lowering, _: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let (x, xs) = single(l, ops)?;
    let Some(Operand::Const(reps)) = ops.get(1) else {
        return Err("repeats must be a constant".into());
    };
    if reps.data.len() != xs.len() {
        return Err("repeats must have one value per axis".into());
    }
    let mut tiled = iota(&xs);
    for (a, &r) in reps.data.iter().enumerate() {
        let copies = vec![tiled.view(); r.max(0.0) as usize];
        tiled = ndarray::concatenate(Axis(a), &copies).map_err(|e| e.to_string())?;
    }
    Ok(copy(x, tiled.view()))
}

/// Gather along `axis` with constant indices.
pub fn gather(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    if let [Operand::Const(table), Operand::Act(idx)] = ops {
        return embedding(l, node, table, *idx);
    }
    let (x, xs) = single(l, ops)?;
    let Some(Operand::Const(idx)) = ops.get(1) else {
        return Err("the indices of an activation must be constants".into());
    };
    let ax = axis(attr_i(node, "axis", 0), xs.len())?;
    let d = xs[ax] as i64;
    let indices: Vec<usize> = idx
        .data
        .iter()
        .map(|&i| {
            let i = i as i64;
            let i = if i < 0 { i + d } else { i };
            if (0..d).contains(&i) {
                Ok(i as usize)
            } else {
                Err(format!("index {i} out of range for axis of size {d}"))
            }
        })
        .collect::<Result<_, _>>()?;
    let out: Vec<usize> = xs[..ax]
        .iter()
        .chain(&idx.shape)
        .chain(&xs[ax + 1..])
        .copied()
        .collect();
    // `select` along an inner axis may leave a non-standard layout; reshape needs C order.
    let picked = iota(&xs).select(Axis(ax), &indices);
    let picked = picked
        .as_standard_layout()
        .into_owned()
        .into_shape_with_order(IxDyn(&out))
        .map_err(|e| e.to_string())?;
    Ok(copy(x, picked.view()))
}

/// Gather of a constant table along axis 0 by indices from an activation: an embedding
/// lookup, proven against the table.
fn embedding(l: &Lowering, node: &NodeProto, table: &Const, idx: usize) -> Result<Lowered, String> {
    if table.shape.is_empty() || axis(attr_i(node, "axis", 0), table.shape.len())? != 0 {
        return Err("indices from an activation are supported along axis 0 only".into());
    }
    let dim: usize = table.shape[1..].iter().product();
    let out: Vec<usize> = l
        .shape(idx)
        .iter()
        .chain(&table.shape[1..])
        .copied()
        .collect();
    let op = FloatOp::Embed(Embed {
        table: table.data.clone(),
        dim,
    });
    Ok(Lowered::Op(op, vec![idx], out))
}

/// Pad: constant mode as a dot product (the value is the bias of padded cells), reflect and
/// edge modes as copies.
pub fn pad(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let (x, xs) = single(l, ops)?;
    let given = ints(node, ops, 1, "pads").ok_or("pads are required")?;
    let n = xs.len();
    // With `axes` (opset 18), `pads` holds the begins and ends of those axes only.
    let pads = match ints(node, ops, 3, "") {
        None => given,
        Some(axes) if given.len() == 2 * axes.len() => {
            let mut full = vec![0; 2 * n];
            for (k, &a) in axes.iter().enumerate() {
                let a = axis(a, n)?;
                full[a] = given[k];
                full[n + a] = given[axes.len() + k];
            }
            full
        }
        Some(_) => return Err("pads must hold a begin and an end per axis".into()),
    };
    // A negative pad crops; the output keeps at least nothing of each axis.
    if pads.len() != 2 * n || (0..n).any(|i| xs[i] as i64 + pads[i] + pads[n + i] < 0) {
        return Err("pads must be 2·rank values that leave no axis negative".into());
    }
    // The fill value: a constant, an attribute (opset < 11), or an input the prover gives,
    // which becomes the sparse dot's second input.
    let (value, value_act) = match super::operand(node, ops, 2) {
        Some(Operand::Const(c)) => (c.data.first().copied().unwrap_or(0.0), None),
        Some(Operand::Act(v)) if l.shape(*v).iter().product::<usize>() == 1 => (0.0, Some(*v)),
        Some(Operand::Act(_)) => return Err("the constant value must hold one value".into()),
        None => (attr_f(node, "value", 0.0) as f64, None),
    };
    let out: Vec<usize> = (0..n)
        .map(|i| (xs[i] as i64 + pads[i] + pads[n + i]) as usize)
        .collect();
    let st = strides(&xs);
    let mode = attr_s(node, "mode");
    let src = |o: &[usize], reflect: bool| -> Option<Vec<usize>> {
        (0..n)
            .map(|i| {
                let p = o[i] as i64 - pads[i];
                let d = xs[i] as i64;
                match (p, reflect) {
                    (p, _) if (0..d).contains(&p) => Some(p as usize),
                    (_, false) if mode == "edge" => Some(p.clamp(0, d - 1) as usize),
                    (p, true) if d > 1 => {
                        let period = 2 * (d - 1);
                        let m = p.rem_euclid(period);
                        Some(if m < d { m } else { period - m } as usize)
                    }
                    _ => None,
                }
            })
            .collect()
    };
    match mode.as_str() {
        "" | "constant" => {
            let fill = match value_act {
                Some(_) => vec![(1, 0, 1.0)],
                None => vec![],
            };
            let (terms, b) = all_coords(&out)
                .map(|o| match src(&o, false) {
                    Some(c) => (vec![(0, ravel(&c, &st) as u32, 1.0)], 0.0),
                    None => (fill.clone(), value),
                })
                .unzip();
            let inputs = std::iter::once(x).chain(value_act).collect();
            Ok(Lowered::Op(
                FloatOp::SparseDot(SparseDot { terms, b }),
                inputs,
                out,
            ))
        }
        "reflect" | "edge" => {
            let reflect = mode == "reflect";
            let sources = all_coords(&out)
                .map(|o| {
                    src(&o, reflect)
                        .map(|c| (0, ravel(&c, &st) as u32))
                        .ok_or("cannot reflect a size-1 axis".to_string())
                })
                .collect::<Result<_, _>>()?;
            Ok(Lowered::Op(
                FloatOp::Gather(Gather { sources }),
                vec![x],
                out,
            ))
        }
        m => Err(format!("pad mode '{m}' is not supported")),
    }
}
