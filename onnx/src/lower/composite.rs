//! ONNX ops that are short compositions of others, lowered as function bodies (see
//! [`super::expand`]) and so proven by their parts: `ReduceSumSquare`, `ReduceL1`,
//! `ReduceL2`, `ReduceLogSum`, `ReduceLogSumExp`, `GlobalMaxPool`, `LpNormalization`,
//! `DepthToSpace` and `SpaceToDepth`.

use super::expand::{attribute, Attr, Body};
use super::{attr_i, attr_s, Lowered, Lowering, Operand};
use tract_onnx::pb::{AttributeProto, NodeProto};

/// The node's data input (an activation) and a body for it.
fn start<'a>(l: &Lowering, node: &'a NodeProto) -> Result<(&'a str, Vec<usize>, Body), String> {
    let x = node.input.first().map(String::as_str).unwrap_or_default();
    let &id = l.acts.get(x).ok_or("the input must be an activation")?;
    let body = Body::new(node.output.first().cloned().unwrap_or_default());
    Ok((x, l.shape(id).to_vec(), body))
}

/// A body with one output.
fn done(mut b: Body, y: String) -> Lowered {
    b.outputs = vec![Some(y)];
    Lowered::Body(b)
}

/// The reduction's inputs after the data (its `axes`, when given as an input).
fn axes_input(node: &NodeProto) -> Vec<&str> {
    node.input
        .get(1)
        .filter(|a| !a.is_empty())
        .map(String::as_str)
        .into_iter()
        .collect()
}

/// `reduce(inner(x))` with the node's axes and attributes, then `outer` if any.
fn reduce_of(
    l: &Lowering,
    node: &NodeProto,
    inner: &[&str],
    outer: Option<&str>,
) -> Result<Lowered, String> {
    let (x, _, mut b) = start(l, node)?;
    let mut v = x.to_string();
    for op in inner {
        v = if *op == "Square" {
            b.op("Mul", &[&v, &v], &[])
        } else {
            b.op(op, &[&v], &[])
        };
    }
    let mut inputs = vec![v.as_str()];
    inputs.extend(axes_input(node));
    let mut y = b.op_with("ReduceSum", &inputs, node.attribute.clone());
    if let Some(op) = outer {
        y = if op == "Ln" {
            b.internal("Ln", &[&y])
        } else {
            b.op(op, &[&y], &[])
        };
    }
    Ok(done(b, y))
}

/// ReduceSumSquare: `Σ x²`.
pub fn reduce_sum_square(l: &Lowering, node: &NodeProto, _: &[Operand]) -> Result<Lowered, String> {
    reduce_of(l, node, &["Square"], None)
}

/// ReduceL1: `Σ |x|`.
pub fn reduce_l1(l: &Lowering, node: &NodeProto, _: &[Operand]) -> Result<Lowered, String> {
    reduce_of(l, node, &["Abs"], None)
}

/// ReduceL2: `√(Σ x²)`.
pub fn reduce_l2(l: &Lowering, node: &NodeProto, _: &[Operand]) -> Result<Lowered, String> {
    reduce_of(l, node, &["Square"], Some("Sqrt"))
}

/// ReduceLogSum: `ln Σ x`.
pub fn reduce_log_sum(l: &Lowering, node: &NodeProto, _: &[Operand]) -> Result<Lowered, String> {
    reduce_of(l, node, &[], Some("Ln"))
}

/// The node's attributes with `keepdims` set to 1.
fn keeping_dims(node: &NodeProto) -> Vec<AttributeProto> {
    let mut attrs: Vec<AttributeProto> = (node.attribute.iter())
        .filter(|a| a.name != "keepdims")
        .cloned()
        .collect();
    attrs.push(attribute("keepdims", &Attr::Int(1)));
    attrs
}

/// ReduceLogSumExp: `m + ln Σ exp(x − m)` with `m` the group's proven maximum, so every
/// exponent is at most 0 (the exp table's one-sided domain).
pub fn reduce_log_sum_exp(
    l: &Lowering,
    node: &NodeProto,
    ops: &[Operand],
) -> Result<Lowered, String> {
    let (_, groups, shape) = super::affine::reduction_groups(l, node, ops)?;
    if groups.iter().any(Vec::is_empty) {
        return Err("a reduction over an empty set".into());
    }
    let (x, _, mut b) = start(l, node)?;
    let keep = keeping_dims(node);
    let mut inputs = vec![x];
    inputs.extend(axes_input(node));
    let m = b.op_with("ReduceMax", &inputs, keep.clone());
    let d = b.op("Sub", &[x, &m], &[]);
    let e = b.op("Exp", &[&d], &[]);
    inputs[0] = &e;
    let s = b.op_with("ReduceSum", &inputs, keep);
    let ln = b.internal("Ln", &[&s]);
    let y = b.op("Add", &[&ln, &m], &[]);
    let shape = b.ints(&shape.iter().map(|&d| d as i64).collect::<Vec<_>>());
    let y = b.op("Reshape", &[&y, &shape], &[]);
    Ok(done(b, y))
}

/// GlobalMaxPool: the maximum over every spatial axis.
pub fn global_max_pool(l: &Lowering, node: &NodeProto, _: &[Operand]) -> Result<Lowered, String> {
    let (x, xs, mut b) = start(l, node)?;
    if xs.len() < 3 {
        return Err(format!("expects N×C×spatial input, got {xs:?}"));
    }
    let axes = b.ints(&(2..xs.len() as i64).collect::<Vec<_>>());
    let y = b.op("ReduceMax", &[x, &axes], &[("keepdims", Attr::Int(1))]);
    Ok(done(b, y))
}

/// LpNormalization: `x / ‖x‖ₚ` along `axis`, `p` 1 or 2.
pub fn lp_normalization(l: &Lowering, node: &NodeProto, _: &[Operand]) -> Result<Lowered, String> {
    let (x, xs, mut b) = start(l, node)?;
    let ax = super::index::axis(attr_i(node, "axis", -1), xs.len())?;
    let norm = match attr_i(node, "p", 2) {
        1 => "ReduceL1",
        2 => "ReduceL2",
        p => return Err(format!("p = {p} (only 1 and 2 are defined)")),
    };
    let axes = b.ints(&[ax as i64]);
    let n = b.op(norm, &[x, &axes], &[("keepdims", Attr::Int(1))]);
    let y = b.op("Div", &[x, &n], &[]);
    Ok(done(b, y))
}

/// `[N, C, H, W]` and the block size, checked.
fn nchw(xs: &[usize], node: &NodeProto) -> Result<([usize; 4], usize), String> {
    let [n, c, h, w] = xs[..] else {
        return Err(format!("expects a 4-D input, got {xs:?}"));
    };
    let bs = attr_i(node, "blocksize", 0);
    if bs <= 0 {
        return Err("blocksize must be positive".into());
    }
    Ok(([n, c, h, w], bs as usize))
}

/// Reshape to `first`, transpose by `perm`, reshape to `last`.
fn shuffle(mut b: Body, x: &str, first: &[usize], perm: Vec<i64>, last: &[usize]) -> Lowered {
    let as_i64 = |s: &[usize]| s.iter().map(|&d| d as i64).collect::<Vec<_>>();
    let s1 = b.ints(&as_i64(first));
    let r = b.op("Reshape", &[x, &s1], &[]);
    let t = b.op("Transpose", &[&r], &[("perm", Attr::Ints(perm))]);
    let s2 = b.ints(&as_i64(last));
    let y = b.op("Reshape", &[&t, &s2], &[]);
    done(b, y)
}

/// DepthToSpace (modes DCR and CRD).
pub fn depth_to_space(l: &Lowering, node: &NodeProto, _: &[Operand]) -> Result<Lowered, String> {
    let (x, xs, b) = start(l, node)?;
    let ([n, c, h, w], bs) = nchw(&xs, node)?;
    if c % (bs * bs) != 0 {
        return Err(format!("{c} channels do not split into {bs}×{bs} blocks"));
    }
    let c2 = c / (bs * bs);
    let last = [n, c2, h * bs, w * bs];
    Ok(match attr_s(node, "mode").as_str() {
        "" | "DCR" => shuffle(b, x, &[n, bs, bs, c2, h, w], vec![0, 3, 4, 1, 5, 2], &last),
        "CRD" => shuffle(b, x, &[n, c2, bs, bs, h, w], vec![0, 1, 4, 2, 5, 3], &last),
        m => return Err(format!("mode '{m}' is not defined")),
    })
}

/// SpaceToDepth (modes DCR and CRD).
pub fn space_to_depth(l: &Lowering, node: &NodeProto, _: &[Operand]) -> Result<Lowered, String> {
    let (x, xs, b) = start(l, node)?;
    let ([n, c, h, w], bs) = nchw(&xs, node)?;
    if h % bs != 0 || w % bs != 0 {
        return Err(format!("{h}×{w} does not split into {bs}×{bs} blocks"));
    }
    let first = [n, c, h / bs, bs, w / bs, bs];
    let last = [n, c * bs * bs, h / bs, w / bs];
    Ok(match attr_s(node, "mode").as_str() {
        "" | "DCR" => shuffle(b, x, &first, vec![0, 3, 5, 1, 2, 4], &last),
        "CRD" => shuffle(b, x, &first, vec![0, 1, 3, 5, 2, 4], &last),
        m => return Err(format!("mode '{m}' is not defined")),
    })
}

/// LpPool for p = 1, 2 or 4: `(Σ_window |x|ᵖ)^(1/p)`, the window sums a depthwise `Conv` with
/// a kernel of ones (so padding, strides, dilations and `auto_pad` are the convolution's).
pub fn lp_pool(l: &Lowering, node: &NodeProto, _: &[Operand]) -> Result<Lowered, String> {
    let (x, xs, mut b) = start(l, node)?;
    if xs.len() < 3 {
        return Err(format!("expects N×C×spatial input, got {xs:?}"));
    }
    if attr_i(node, "ceil_mode", 0) != 0 {
        return Err("ceil_mode is not supported".into());
    }
    let kernel = super::attr_ints(node, "kernel_shape").ok_or("kernel_shape is required")?;
    let c = xs[1];
    let mut wshape = vec![c, 1];
    wshape.extend(kernel.iter().map(|&k| k.max(0) as usize));
    let ones = b.constant(wshape.clone(), vec![1.0; wshape.iter().product()]);
    let p = attr_i(node, "p", 2);
    let v = match p {
        1 => b.op("Abs", &[x], &[]),
        2 | 4 => b.op("Mul", &[x, x], &[]),
        _ => return Err(format!("p = {p} is not supported (1, 2 and 4 are)")),
    };
    let v = if p == 4 {
        b.op("Mul", &[&v, &v], &[])
    } else {
        v
    };
    let mut attrs: Vec<AttributeProto> = (node.attribute.iter())
        .filter(|a| a.name != "p" && a.name != "ceil_mode")
        .cloned()
        .collect();
    attrs.push(attribute("group", &Attr::Int(c as i64)));
    let s = b.op_with("Conv", &[&v, &ones], attrs);
    let y = match p {
        1 => s,
        2 => b.op("Sqrt", &[&s], &[]),
        _ => {
            let r = b.op("Sqrt", &[&s], &[]);
            b.op("Sqrt", &[&r], &[])
        }
    };
    Ok(done(b, y))
}
