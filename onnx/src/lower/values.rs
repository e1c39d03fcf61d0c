//! Ops evaluated at compile time: shapes (`Shape`, `Size`), tensors made from shapes
//! (`ConstantOfShape`, `Range`), and the comparisons, logic, rounding and remainders of shape
//! arithmetic (`Equal`, `Where`, `Not`, `Mod`, `Floor`, …) when every input is a constant.
//!
//! PyTorch exports compute reshape targets, masks and slice bounds this way; with the
//! model's input shapes fixed they are constants, so the circuit never sees them. On an
//! activation these ops (other than `Shape` and `Size`, which read only the shape) are
//! refused: proving a comparison of activations is not done here.

use super::{attr, attr_i, Const, Lowering, Operand};
use crate::graph::broadcast;
use tract_onnx::pb::NodeProto;

/// A compile-time evaluation: the node and its operands to a constant.
type ValueFn = fn(&Lowering, &NodeProto, &[Operand]) -> Result<Const, String>;

/// ONNX op type → compile-time evaluation.
pub(super) const VALUE_OPS: &[(&str, ValueFn)] = &[
    ("Shape", shape),
    ("Size", size),
    ("ConstantOfShape", constant_of_shape),
    ("Range", range),
    ("Equal", |l, n, o| compare(l, n, o, |a, b| a == b)),
    ("Greater", |l, n, o| compare(l, n, o, |a, b| a > b)),
    ("Less", |l, n, o| compare(l, n, o, |a, b| a < b)),
    ("GreaterOrEqual", |l, n, o| compare(l, n, o, |a, b| a >= b)),
    ("LessOrEqual", |l, n, o| compare(l, n, o, |a, b| a <= b)),
    ("And", |l, n, o| {
        compare(l, n, o, |a, b| a != 0.0 && b != 0.0)
    }),
    ("Or", |l, n, o| {
        compare(l, n, o, |a, b| a != 0.0 || b != 0.0)
    }),
    ("Xor", |l, n, o| {
        compare(l, n, o, |a, b| (a != 0.0) != (b != 0.0))
    }),
    ("Not", |l, n, o| {
        unary(l, n, o, |x| f64::from(u8::from(x == 0.0)))
    }),
    ("Floor", |l, n, o| unary(l, n, o, f64::floor)),
    ("Ceil", |l, n, o| unary(l, n, o, f64::ceil)),
    ("Round", |l, n, o| unary(l, n, o, f64::round_ties_even)),
    ("Mod", modulo),
    ("Where", select),
    ("Cast", cast),
    ("CastLike", cast),
    ("ReduceMax", |l, n, o| reduce_extreme(l, n, o, f64::max)),
    ("ReduceMin", |l, n, o| reduce_extreme(l, n, o, f64::min)),
];

/// The compile-time evaluation for an op type, if it has one.
pub(super) fn value_op(op_type: &str) -> Option<ValueFn> {
    crate::scope::by_op_type(VALUE_OPS, op_type)
}

/// Every operand's values; an activation is refused.
fn constants<'a>(op: &str, ops: &[Operand<'a>]) -> Result<Vec<&'a Const>, String> {
    ops.iter()
        .map(|o| match o {
            Operand::Const(c) => Ok(*c),
            Operand::Act(_) => Err(format!(
                "{op} on activations is not supported (zkonnx evaluates it at compile time, \
                 on constants and shapes)"
            )),
        })
        .collect()
}

fn vector(data: Vec<f64>) -> Const {
    Const {
        shape: vec![data.len()],
        data,
    }
}

/// The shape of the first operand, activation or constant.
fn shape_of(l: &Lowering, ops: &[Operand]) -> Result<Vec<usize>, String> {
    match ops.first() {
        Some(Operand::Act(a)) => Ok(l.shape(*a).to_vec()),
        Some(Operand::Const(c)) => Ok(c.shape.clone()),
        None => Err("expects one input".into()),
    }
}

/// `Shape(x)`, with the `start`/`end` slice of opset 15.
fn shape(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Const, String> {
    let dims = shape_of(l, ops)?;
    let rank = dims.len() as i64;
    let clamp = |i: i64| (if i < 0 { i + rank } else { i }).clamp(0, rank) as usize;
    let start = clamp(attr_i(node, "start", 0));
    let end = clamp(attr_i(node, "end", rank));
    let dims = dims.get(start..end.max(start)).unwrap_or_default();
    Ok(vector(dims.iter().map(|&d| d as f64).collect()))
}

/// `Size(x)`: the number of values, a scalar.
fn size(l: &Lowering, _: &NodeProto, ops: &[Operand]) -> Result<Const, String> {
    let n: usize = shape_of(l, ops)?.iter().product();
    Ok(Const {
        shape: vec![],
        data: vec![n as f64],
    })
}

/// `ConstantOfShape(shape)`: the `value` attribute (one value, 0 by default) repeated.
fn constant_of_shape(_: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Const, String> {
    let [dims] = constants("ConstantOfShape", ops)?[..] else {
        return Err("expects one input".into());
    };
    let shape = dims
        .data
        .iter()
        .map(|&d| usize::try_from(d as i64).map_err(|_| format!("negative dimension {d}")))
        .collect::<Result<Vec<_>, _>>()?;
    let value = match attr(node, "value").and_then(|a| a.t.as_ref()) {
        Some(t) => *crate::tensor_proto::values(t, "ConstantOfShape value")
            .map_err(|e| e.to_string())?
            .1
            .first()
            .ok_or("the value attribute is empty")?,
        None => 0.0,
    };
    let n = shape.iter().product();
    Ok(Const {
        shape,
        data: vec![value; n],
    })
}

/// `Range(start, limit, delta)`.
fn range(_: &Lowering, _: &NodeProto, ops: &[Operand]) -> Result<Const, String> {
    let scalars = constants("Range", ops)?
        .iter()
        .map(|c| c.data.first().copied().ok_or("an empty range bound"))
        .collect::<Result<Vec<_>, _>>()?;
    let [start, limit, delta] = scalars[..] else {
        return Err("expects start, limit and delta".into());
    };
    if delta == 0.0 {
        return Err("a range with delta 0".into());
    }
    let n = ((limit - start) / delta).ceil().max(0.0) as usize;
    if n > 1 << 24 {
        return Err(format!("a range of {n} values"));
    }
    Ok(vector((0..n).map(|i| start + i as f64 * delta).collect()))
}

/// An elementwise function of one constant.
fn unary(
    _: &Lowering,
    node: &NodeProto,
    ops: &[Operand],
    f: fn(f64) -> f64,
) -> Result<Const, String> {
    let [x] = constants(&node.op_type, ops)?[..] else {
        return Err("expects one input".into());
    };
    Ok(Const {
        shape: x.shape.clone(),
        data: x.data.iter().map(|&v| f(v)).collect(),
    })
}

/// An elementwise function of two constants, with numpy broadcasting.
fn binary(node: &NodeProto, ops: &[Operand], f: impl Fn(f64, f64) -> f64) -> Result<Const, String> {
    let [a, b] = constants(&node.op_type, ops)?[..] else {
        return Err("expects two inputs".into());
    };
    let (shape, [ia, ib]) = broadcast(&a.shape, &b.shape).ok_or("shapes do not broadcast")?;
    let data = ia
        .iter()
        .zip(&ib)
        .map(|(&i, &j)| f(a.data[i as usize], b.data[j as usize]))
        .collect();
    Ok(Const { shape, data })
}

/// A comparison or a logical op of two constants: 1 or 0.
fn compare(
    _: &Lowering,
    node: &NodeProto,
    ops: &[Operand],
    f: fn(f64, f64) -> bool,
) -> Result<Const, String> {
    binary(node, ops, |a, b| f64::from(u8::from(f(a, b))))
}

/// `Mod(a, b)`: the remainder with the divisor's sign, or with the dividend's (`fmod = 1`).
fn modulo(_: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Const, String> {
    let fmod = attr_i(node, "fmod", 0) == 1;
    let c = binary(node, ops, |a, b| {
        if b == 0.0 {
            f64::NAN
        } else if fmod {
            a % b
        } else {
            a - b * (a / b).floor()
        }
    })?;
    if c.data.iter().any(|x| x.is_nan()) {
        return Err("a remainder by zero".into());
    }
    Ok(c)
}

/// `Cast(x)` / `CastLike(x, like)` of a constant: its values, which [`coerce`] then fits to
/// the target type.
fn cast(_: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Const, String> {
    match ops.first() {
        Some(Operand::Const(c)) => Ok((*c).clone()),
        _ => Err(format!("{} expects a constant here", node.op_type)),
    }
}

/// Fits compile-time values to their element type: booleans are 0 or 1, integers truncate
/// toward zero (an integer `Div`, a `Cast` from float).
pub(super) fn coerce(data: &mut [f64], elem_type: i32) {
    if elem_type == 9 {
        data.iter_mut()
            .for_each(|x| *x = f64::from(u8::from(*x != 0.0)));
    } else if crate::tensor_proto::is_integer_type(elem_type) {
        data.iter_mut().for_each(|x| *x = x.trunc());
    }
}

/// `Cast` or `CastLike` of an activation: a copy when the values need no conversion (to a
/// float type, or between integer types), else refused (a float-to-integer cast rounds and
/// a cast to bool compares, neither of which is proven here).
pub(super) fn cast_activation(
    l: &Lowering,
    node: &NodeProto,
    ops: &[Operand],
) -> Result<super::Lowered, String> {
    use crate::tensor_proto::{is_integer_type, type_name};
    let from = node.input.first().map_or(1, |n| l.types.of(n));
    let to = node.output.first().map_or(1, |n| l.types.of(n));
    match ops.first() {
        Some(Operand::Const(c)) => {
            let mut c = (*c).clone();
            coerce(&mut c.data, to);
            Ok(super::Lowered::Const(c))
        }
        Some(Operand::Act(a)) => {
            let exact = !is_integer_type(to) || (is_integer_type(from) && (to != 9 || from == 9));
            if !exact {
                return Err(format!(
                    "a cast of an activation from {} to {} is not supported",
                    type_name(from),
                    type_name(to)
                ));
            }
            Ok(super::Lowered::Op(
                crate::graph::FloatOp::Reshape(crate::float_op::Reshape),
                vec![*a],
                l.shape(*a).to_vec(),
            ))
        }
        None => Err("expects an input".into()),
    }
}

/// `Where(condition, x, y)`, with numpy broadcasting of all three.
fn select(_: &Lowering, _: &NodeProto, ops: &[Operand]) -> Result<Const, String> {
    let [c, x, y] = constants("Where", ops)?[..] else {
        return Err("expects a condition and two values".into());
    };
    let (cx, [ic, ix]) = broadcast(&c.shape, &x.shape).ok_or("shapes do not broadcast")?;
    let (shape, [icx, iy]) = broadcast(&cx, &y.shape).ok_or("shapes do not broadcast")?;
    let data = icx
        .iter()
        .zip(&iy)
        .map(|(&k, &j)| {
            let k = k as usize;
            if c.data[ic[k] as usize] != 0.0 {
                x.data[ix[k] as usize]
            } else {
                y.data[j as usize]
            }
        })
        .collect();
    Ok(Const { shape, data })
}

/// ReduceMax or ReduceMin of a constant, in floats: an exported attention reduces its mask,
/// which holds `-inf` (the proven form, `b + relu(a − b)`, is NaN there).
fn reduce_extreme(
    _: &Lowering,
    node: &NodeProto,
    ops: &[Operand],
    pick: fn(f64, f64) -> f64,
) -> Result<Const, String> {
    let Some(Operand::Const(x)) = ops.first() else {
        return Err("expects a constant".into());
    };
    let (groups, shape) = super::affine::reduction_layout(&x.shape, node, ops)?;
    let data = groups
        .iter()
        .map(|g| {
            (g.iter().map(|&i| x.data[i as usize]))
                .reduce(pick)
                .ok_or("a reduction over an empty set")
        })
        .collect::<Result<_, _>>()?;
    Ok(Const { shape, data })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_onnx::pb::AttributeProto;

    fn lowering() -> Lowering {
        Lowering {
            opset: 18,
            graph: crate::graph::FloatGraph::default(),
            acts: Default::default(),
            consts: Default::default(),
            types: Default::default(),
            masked: Default::default(),
        }
    }

    fn node(op: &str, ints: &[(&str, i64)]) -> NodeProto {
        NodeProto {
            op_type: op.into(),
            attribute: ints
                .iter()
                .map(|(n, i)| AttributeProto {
                    name: n.to_string(),
                    i: *i,
                    ..AttributeProto::default()
                })
                .collect(),
            ..NodeProto::default()
        }
    }

    fn c(shape: &[usize], data: &[f64]) -> Const {
        Const {
            shape: shape.to_vec(),
            data: data.to_vec(),
        }
    }

    #[test]
    fn shape_slices_and_size_counts() {
        let l = lowering();
        let x = c(&[2, 3, 4], &[0.0; 24]);
        let ops = [Operand::Const(&x)];
        let s = shape(&l, &node("Shape", &[("start", 1), ("end", -1)]), &ops).unwrap();
        assert_eq!(s.data, vec![3.0]);
        assert_eq!(size(&l, &node("Size", &[]), &ops).unwrap().data, vec![24.0]);
    }

    #[test]
    fn range_where_and_mod_follow_onnx() {
        let l = lowering();
        let (a, b, d) = (c(&[], &[1.0]), c(&[], &[7.0]), c(&[], &[2.5]));
        let ops = [Operand::Const(&a), Operand::Const(&b), Operand::Const(&d)];
        assert_eq!(
            range(&l, &node("Range", &[]), &ops).unwrap().data,
            vec![1.0, 3.5, 6.0]
        );
        let (cond, x, y) = (c(&[2], &[1.0, 0.0]), c(&[2], &[5.0, 6.0]), c(&[], &[-1.0]));
        let ops = [
            Operand::Const(&cond),
            Operand::Const(&x),
            Operand::Const(&y),
        ];
        assert_eq!(
            select(&l, &node("Where", &[]), &ops).unwrap().data,
            vec![5.0, -1.0]
        );
        let (p, q) = (c(&[2], &[-7.0, 7.0]), c(&[], &[3.0]));
        let ops = [Operand::Const(&p), Operand::Const(&q)];
        assert_eq!(
            modulo(&l, &node("Mod", &[]), &ops).unwrap().data,
            vec![2.0, 1.0]
        );
        let fmod = node("Mod", &[("fmod", 1)]);
        assert_eq!(modulo(&l, &fmod, &ops).unwrap().data, vec![-1.0, 1.0]);
    }

    #[test]
    fn activations_are_refused_and_values_fit_their_type() {
        let l = lowering();
        let err = compare(
            &l,
            &node("Less", &[]),
            &[Operand::Act(0), Operand::Act(0)],
            |a, b| a < b,
        )
        .unwrap_err();
        assert!(err.contains("Less on activations"), "{err}");
        let mut v = vec![-2.7, 0.0, 3.9];
        coerce(&mut v, 6);
        assert_eq!(v, vec![-2.0, 0.0, 3.0]);
        coerce(&mut v, 9);
        assert_eq!(v, vec![1.0, 0.0, 1.0]);
    }
}
