//! Affine ops lowered to per-output dot products with constant weights: Mul and Div by a
//! constant, Neg, Sum, BatchNormalization (inference), ReduceSum, ReduceMean, and PRelu /
//! LeakyRelu as `α·x + (1-α)·relu(x)` (a proven ReLU, then a dot product).

use super::index::{all_coords, axis, ravel, strides};
use super::{
    all_acts, attr_f, attr_i, attr_ints, broadcast_all, single, Lowered, Lowering, Operand,
};
use crate::float_op::{Mul, Relu, SparseDot, TableFn};
use crate::graph::{broadcast, FloatOp};
use tract_onnx::pb::NodeProto;

type Terms = Vec<Vec<(u32, u32, f64)>>;

fn dot(x: Vec<usize>, shape: Vec<usize>, terms: Terms, b: Vec<f64>) -> Lowered {
    Lowered::Op(FloatOp::SparseDot(SparseDot { terms, b }), x, shape)
}

/// `x · c` (or `x / c`) with `c` a constant broadcast to `x`.
fn scale_by_const(l: &Lowering, ops: &[Operand], invert: bool) -> Result<Lowered, String> {
    let (a, c) = match ops {
        [Operand::Act(a), Operand::Const(c)] => (*a, *c),
        [Operand::Const(c), Operand::Act(a)] if !invert => (*a, *c),
        _ => return Err("only an activation times (or over) a constant is supported".into()),
    };
    let xs = l.shape(a).to_vec();
    let (shape, [ia, ic]) = broadcast(&xs, &c.shape).ok_or("shapes do not broadcast")?;
    if shape.iter().product::<usize>() != xs.iter().product::<usize>() {
        return Err("the constant may not enlarge the activation".into());
    }
    let terms = ia
        .iter()
        .zip(&ic)
        .map(|(&i, &k)| {
            let v = c.data[k as usize];
            vec![(0, i, if invert { 1.0 / v } else { v })]
        })
        .collect();
    let n = ia.len();
    Ok(dot(vec![a], shape, terms, vec![0.0; n]))
}

/// The product of two activations, with broadcast.
fn product(l: &Lowering, a: usize, b: usize) -> Result<(FloatOp, Vec<usize>, Vec<usize>), String> {
    let (shape, index) = broadcast(l.shape(a), l.shape(b)).ok_or("shapes do not broadcast")?;
    Ok((
        FloatOp::Mul(Mul {
            index,
            bias: vec![],
        }),
        vec![a, b],
        shape,
    ))
}

/// Mul by a constant, or of two activations.
pub fn mul(l: &Lowering, _: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    match ops {
        [Operand::Act(a), Operand::Act(b)] => {
            let (op, ins, shape) = product(l, *a, *b)?;
            Ok(Lowered::Op(op, ins, shape))
        }
        _ => scale_by_const(l, ops, false),
    }
}

/// `a / b` for two activations: a reciprocal table on `b`, then a product.
fn divide(l: &Lowering, a: usize, b: usize) -> Result<Lowered, String> {
    let recip = l.next_id();
    let bs = l.shape(b).to_vec();
    let (shape, index) = broadcast(l.shape(a), &bs).ok_or("shapes do not broadcast")?;
    Ok(Lowered::Nodes {
        nodes: vec![
            (
                FloatOp::TableFn(TableFn {
                    kind: zkonnx_circuits::ops::FnKind::Reciprocal,
                }),
                vec![b],
                bs,
            ),
            (
                FloatOp::Mul(Mul {
                    index,
                    bias: vec![],
                }),
                vec![a, recip],
                shape,
            ),
        ],
        outputs: vec![1],
    })
}

/// Div by a constant, or of two activations.
pub fn div(l: &Lowering, _: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    if let [Operand::Act(a), Operand::Act(b)] = ops {
        return divide(l, *a, *b);
    }
    if let [_, Operand::Const(c)] = ops {
        if c.data.contains(&0.0) {
            return Err("division by zero".into());
        }
    }
    scale_by_const(l, ops, true)
}

/// Neg.
pub fn neg(l: &Lowering, _: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let (x, xs) = single(l, ops)?;
    let n: usize = xs.iter().product();
    Ok(dot(
        vec![x],
        xs,
        (0..n).map(|j| vec![(0, j as u32, -1.0)]).collect(),
        vec![0.0; n],
    ))
}

/// Sum of any number of activations (with broadcast).
pub fn sum(l: &Lowering, _: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let ids = all_acts(ops, "Sum")?;
    let shape = broadcast_all(l, &ids)?;
    let n: usize = shape.iter().product();
    let mut terms: Terms = vec![Vec::new(); n];
    for (k, &i) in ids.iter().enumerate() {
        let (_, [_, idx]) = broadcast(&shape, l.shape(i)).ok_or("shapes do not broadcast")?;
        for (j, src) in idx.into_iter().enumerate() {
            terms[j].push((k as u32, src, 1.0));
        }
    }
    Ok(dot(ids, shape, terms, vec![0.0; n]))
}

/// BatchNormalization in inference mode: a per-channel affine map.
pub fn batch_norm(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let (x, xs) = single(l, ops)?;
    let consts: Vec<_> = ops[1..]
        .iter()
        .map(|o| match o {
            Operand::Const(c) => Ok(&c.data),
            Operand::Act(_) => Err("scale, bias, mean and var must be constants".to_string()),
        })
        .collect::<Result<_, _>>()?;
    let [scale, bias, mean, var] = consts[..] else {
        return Err("expects X, scale, B, mean, var".into());
    };
    let eps = attr_f(node, "epsilon", 1e-5) as f64;
    let channels = *xs.get(1).ok_or("X needs a channel axis")?;
    if [scale, bias, mean, var].iter().any(|v| v.len() != channels) {
        return Err("parameters must have one value per channel".into());
    }
    let inner: usize = xs[2..].iter().product();
    let n: usize = xs.iter().product();
    let (mut terms, mut b) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for j in 0..n {
        let c = (j / inner) % channels;
        let a = scale[c] / (var[c] + eps).sqrt();
        terms.push(vec![(0, j as u32, a)]);
        b.push(bias[c] - mean[c] * a);
    }
    Ok(dot(vec![x], xs, terms, b))
}

/// A reduction: its input, the flat indices of each output's group, the output shape.
pub(super) type Groups = (usize, Vec<Vec<u32>>, Vec<usize>);

/// The values a Reduce* node combines: its input, for each output value the flat indices it
/// reduces over (from the `axes` input or attribute, `keepdims`, `noop_with_empty_axes`),
/// and the output shape.
pub(super) fn reduction_groups(
    l: &Lowering,
    node: &NodeProto,
    ops: &[Operand],
) -> Result<Groups, String> {
    let (x, xs) = single(l, ops)?;
    let (groups, shape) = reduction_layout(&xs, node, ops)?;
    Ok((x, groups, shape))
}

/// For a Reduce* node over an input of shape `xs`: for each output value the flat indices it
/// reduces over, and the output shape.
pub(super) fn reduction_layout(
    xs: &[usize],
    node: &NodeProto,
    ops: &[Operand],
) -> Result<(Vec<Vec<u32>>, Vec<usize>), String> {
    let raw = match ops.get(1) {
        Some(Operand::Const(c)) => Some(c.data.iter().map(|&v| v as i64).collect()),
        Some(Operand::Act(_)) => return Err("the axes must be constants".into()),
        None => attr_ints(node, "axes"),
    };
    let axes: Vec<usize> = match raw {
        Some(a) if !a.is_empty() => a
            .iter()
            .map(|&v| axis(v, xs.len()))
            .collect::<Result<_, _>>()?,
        _ if attr_i(node, "noop_with_empty_axes", 0) != 0 => vec![],
        _ => (0..xs.len()).collect(),
    };
    let keep = attr_i(node, "keepdims", 1) != 0;
    let kept: Vec<usize> = xs
        .iter()
        .enumerate()
        .map(|(i, &d)| if axes.contains(&i) { 1 } else { d })
        .collect();
    let reduced: Vec<usize> = axes.iter().map(|&a| xs[a]).collect();
    let st = strides(xs);
    let groups = all_coords(&kept)
        .map(|o| {
            all_coords(&reduced)
                .map(|r| {
                    let mut c = o.clone();
                    for (k, &a) in axes.iter().enumerate() {
                        c[a] = r[k];
                    }
                    ravel(&c, &st) as u32
                })
                .collect()
        })
        .collect();
    let shape = if keep {
        kept
    } else {
        xs.iter()
            .enumerate()
            .filter(|(i, _)| !axes.contains(i))
            .map(|(_, &d)| d)
            .collect()
    };
    Ok((groups, shape))
}

fn reduce(l: &Lowering, node: &NodeProto, ops: &[Operand], mean: bool) -> Result<Lowered, String> {
    let (x, groups, shape) = reduction_groups(l, node, ops)?;
    let terms: Terms = groups
        .iter()
        .map(|g| {
            let w = if mean {
                1.0 / g.len().max(1) as f64
            } else {
                1.0
            };
            g.iter().map(|&i| (0, i, w)).collect()
        })
        .collect();
    let n = terms.len();
    Ok(dot(vec![x], shape, terms, vec![0.0; n]))
}

/// ReduceSum.
pub fn reduce_sum(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    reduce(l, node, ops, false)
}

/// ReduceMean.
pub fn reduce_mean(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    reduce(l, node, ops, true)
}

/// `α·x + (1-α)·relu(x)` with one α per value.
fn leaky(l: &Lowering, x: usize, xs: Vec<usize>, alpha: Vec<f64>) -> Lowered {
    let relu_id = l.next_id();
    let terms = alpha
        .iter()
        .enumerate()
        .map(|(j, &a)| vec![(0, j as u32, a), (1, j as u32, 1.0 - a)])
        .collect();
    let n = alpha.len();
    Lowered::Nodes {
        nodes: vec![
            (FloatOp::Relu(Relu), vec![x], xs.clone()),
            (
                FloatOp::SparseDot(SparseDot {
                    terms,
                    b: vec![0.0; n],
                }),
                vec![x, relu_id],
                xs,
            ),
        ],
        outputs: vec![1],
    }
}

/// LeakyRelu.
pub fn leaky_relu(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let (x, xs) = single(l, ops)?;
    let alpha = attr_f(node, "alpha", 0.01) as f64;
    let n = xs.iter().product();
    Ok(leaky(l, x, xs, vec![alpha; n]))
}

/// PRelu with a constant slope (per channel or broadcast).
pub fn prelu(l: &Lowering, _: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let (x, xs) = single(l, ops)?;
    let Some(Operand::Const(slope)) = ops.get(1) else {
        return Err("the slope must be a constant".into());
    };
    // ONNX broadcasts the slope numpy-style; a 1-D slope of C values on an N×C×… input
    // (PyTorch's per-channel PRelu) is aligned to the channel axis.
    let slope_shape = if slope.shape.len() == 1
        && xs.len() > 2
        && slope.shape[0] == xs[1]
        && xs[1] != *xs.last().unwrap_or(&0)
    {
        let mut s = vec![slope.shape[0]];
        s.extend(std::iter::repeat_n(1, xs.len() - 2));
        s
    } else {
        slope.shape.clone()
    };
    let (shape, [_, is]) = broadcast(&xs, &slope_shape).ok_or("slope does not broadcast")?;
    if shape != xs {
        return Err("the slope may not enlarge the input".into());
    }
    let alpha = is.iter().map(|&i| slope.data[i as usize]).collect();
    Ok(leaky(l, x, xs, alpha))
}

/// A constant integer operand (an axis, a diagonal offset), or `default` when absent.
fn const_int(ops: &[Operand], input: usize, what: &str, default: i64) -> Result<i64, String> {
    match ops.get(input) {
        Some(Operand::Const(c)) => Ok(c.data.first().copied().unwrap_or(0.0) as i64),
        Some(Operand::Act(_)) => Err(format!("the {what} must be a constant")),
        None => Ok(default),
    }
}

/// CumSum along a constant axis, `exclusive` and `reverse` as ONNX defines them: one dot
/// product per value over the values before (or after) it.
pub fn cum_sum(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let (x, xs) = single(l, ops)?;
    let ax = axis(const_int(ops, 1, "axis", 0)?, xs.len())?;
    let exclusive = usize::from(attr_i(node, "exclusive", 0) != 0);
    let reverse = attr_i(node, "reverse", 0) != 0;
    let st = strides(&xs);
    let terms: Terms = all_coords(&xs)
        .map(|c| {
            let i = c[ax];
            let range = if reverse {
                i + exclusive..xs[ax]
            } else {
                0..i + 1 - exclusive
            };
            range
                .map(|j| {
                    let mut at = c.clone();
                    at[ax] = j;
                    (0, ravel(&at, &st) as u32, 1.0)
                })
                .collect()
        })
        .collect();
    let n = terms.len();
    Ok(dot(vec![x], xs, terms, vec![0.0; n]))
}

/// Trilu: the upper (or lower) triangle of the last two axes from diagonal `k`, the rest 0
/// (a dot-product row with no terms, proven 0).
pub fn trilu(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let (x, xs) = single(l, ops)?;
    if xs.len() < 2 {
        return Err(format!("expects rank ≥ 2, got {xs:?}"));
    }
    let k = const_int(ops, 1, "diagonal offset k", 0)?;
    let upper = attr_i(node, "upper", 1) != 0;
    let r = xs.len();
    let terms: Terms = all_coords(&xs)
        .enumerate()
        .map(|(f, c)| {
            let off = c[r - 1] as i64 - c[r - 2] as i64;
            let keep = if upper { off >= k } else { off <= k };
            if keep {
                vec![(0, f as u32, 1.0)]
            } else {
                vec![]
            }
        })
        .collect();
    let n = terms.len();
    Ok(dot(vec![x], xs, terms, vec![0.0; n]))
}
