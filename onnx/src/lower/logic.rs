//! Comparisons and boolean logic on activations: Greater, Less, GreaterOrEqual,
//! LessOrEqual, Equal, Not, And, Or, Xor and Where, each built on the exact comparison
//! ([`Compare`]: a difference of quantized values against zero, nothing rounded) and
//! exact dot products of its 0/1 results.
//!
//! `Equal(a, b) = [a ≥ b] + [b ≥ a] − 1`; `Not(x) = 1 − x`; `And(x, y) = [x + y − 1 > 0]`,
//! `Or(x, y) = [x + y > 0]`, `Xor(x, y) = [x > y] + [y > x]` on 0/1 values; `Where(c, x, y)`
//! is a copy when `c` is a constant and `y + c·(x − y)` when it is an activation.
//! Comparisons are exact on the quantized values; two floats closer than the inputs' step
//! can compare equal once quantized (the README's "What a valid proof proves").
//! When every operand is a constant the node is evaluated at compile time instead
//! ([`super::values`]).

use super::compare::DotBuilder;
use super::{Lowered, Lowering, Operand};
use crate::float_op::{Compare, Mul, SparseDot};
use crate::graph::{broadcast, FloatOp};
use tract_onnx::pb::NodeProto;

type Node = (FloatOp, Vec<usize>, Vec<usize>);

fn shape_of(l: &Lowering, o: &Operand) -> Vec<usize> {
    match o {
        Operand::Act(id) => l.shape(*id).to_vec(),
        Operand::Const(c) => c.shape.clone(),
    }
}

fn pair<'a, 'b>(ops: &'b [Operand<'a>]) -> Result<(&'b Operand<'a>, &'b Operand<'a>), String> {
    match ops {
        [a, b] => Ok((a, b)),
        _ => Err("expects two inputs".into()),
    }
}

/// `[s_a·a + s_b·b + offset > 0]` (or `≥ 0`) of two broadcast operands, at least one an
/// activation; constants go into the comparison's bias.
fn compare(
    l: &Lowering,
    (a, b): (&Operand, &Operand),
    (s_a, s_b): (i64, i64),
    offset: f64,
    or_equal: bool,
) -> Result<Node, String> {
    let (shape, [ia, ib]) =
        broadcast(&shape_of(l, a), &shape_of(l, b)).ok_or("shapes do not broadcast")?;
    let mut op = Compare {
        sign: vec![],
        index: vec![],
        bias: vec![offset; ia.len()],
        or_equal,
    };
    let mut inputs = vec![];
    for (o, idx, s) in [(a, ia, s_a), (b, ib, s_b)] {
        match o {
            Operand::Act(id) => {
                op.sign.push(s);
                op.index.push(idx);
                inputs.push(*id);
            }
            Operand::Const(c) => {
                for (bias, &i) in op.bias.iter_mut().zip(&idx) {
                    *bias += s as f64 * c.data[i as usize];
                }
            }
        }
    }
    if inputs.is_empty() {
        return Err("a comparison needs an activation operand".into());
    }
    Ok((FloatOp::Compare(op), inputs, shape))
}

/// `Σ` of the two 0/1 tensors just before it (ids `first`, `first + 1`), plus `bias`.
fn sum_of_two(first: usize, shape: Vec<usize>, bias: f64) -> Node {
    let n: usize = shape.iter().product();
    let terms = (0..n as u32)
        .map(|j| vec![(0, j, 1.0), (1, j, 1.0)])
        .collect();
    let dot = SparseDot {
        terms,
        b: vec![bias; n],
    };
    (FloatOp::SparseDot(dot), vec![first, first + 1], shape)
}

/// Two comparisons and their sum plus `bias`.
fn two_and_sum(l: &Lowering, first: Node, second: Node, bias: f64) -> Lowered {
    let shape = first.2.clone();
    let base = l.next_id();
    Lowered::Nodes {
        nodes: vec![first, second, sum_of_two(base, shape, bias)],
        outputs: vec![2],
    }
}

/// A comparison of an activation with a constant that is ±∞ everywhere has the same
/// answer whatever finite value the activation holds (an exported attention compares its
/// mask's row maxima with −∞): it is folded at compile time.
fn against_infinity(l: &Lowering, ops: &[Operand], f: fn(f64, f64) -> bool) -> Option<Lowered> {
    let [a, b] = ops else {
        return None;
    };
    let (c, const_first) = match (a, b) {
        (Operand::Act(_), Operand::Const(c)) => (c, false),
        (Operand::Const(c), Operand::Act(_)) => (c, true),
        _ => return None,
    };
    if !c.data.iter().all(|v| v.is_infinite()) {
        return None;
    }
    let (shape, [ia, ib]) = broadcast(&shape_of(l, a), &shape_of(l, b))?;
    let at = if const_first { ia } else { ib };
    let data = (at.iter().map(|&i| c.data[i as usize]))
        .map(|v| if const_first { f(v, 0.0) } else { f(0.0, v) })
        .map(|r| f64::from(u8::from(r)))
        .collect();
    Some(Lowered::Const(super::Const { shape, data }))
}

/// `[a > b]`, `[a ≥ b]` and the like: `signs` on `(a, b)`, and the float answer `f`.
fn ordered(
    l: &Lowering,
    ops: &[Operand],
    signs: (i64, i64),
    or_equal: bool,
    f: fn(f64, f64) -> bool,
) -> Result<Lowered, String> {
    if let Some(folded) = against_infinity(l, ops, f) {
        return Ok(folded);
    }
    let (op, ins, shape) = compare(l, pair(ops)?, signs, 0.0, or_equal)?;
    Ok(Lowered::Op(op, ins, shape))
}

pub fn greater(l: &Lowering, _: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    ordered(l, ops, (1, -1), false, |a, b| a > b)
}

pub fn less(l: &Lowering, _: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    ordered(l, ops, (-1, 1), false, |a, b| a < b)
}

pub fn greater_or_equal(l: &Lowering, _: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    ordered(l, ops, (1, -1), true, |a, b| a >= b)
}

pub fn less_or_equal(l: &Lowering, _: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    ordered(l, ops, (-1, 1), true, |a, b| a <= b)
}

pub fn equal(l: &Lowering, _: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    if let Some(folded) = against_infinity(l, ops, |a, b| a == b) {
        return Ok(folded);
    }
    let ab = pair(ops)?;
    let ge = compare(l, ab, (1, -1), 0.0, true)?;
    let le = compare(l, ab, (-1, 1), 0.0, true)?;
    Ok(two_and_sum(l, ge, le, -1.0))
}

pub fn and(l: &Lowering, _: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let (op, ins, shape) = compare(l, pair(ops)?, (1, 1), -1.0, false)?;
    Ok(Lowered::Op(op, ins, shape))
}

pub fn or(l: &Lowering, _: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let (op, ins, shape) = compare(l, pair(ops)?, (1, 1), 0.0, false)?;
    Ok(Lowered::Op(op, ins, shape))
}

pub fn xor(l: &Lowering, _: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let ab = pair(ops)?;
    let gt = compare(l, ab, (1, -1), 0.0, false)?;
    let lt = compare(l, ab, (-1, 1), 0.0, false)?;
    Ok(two_and_sum(l, gt, lt, 0.0))
}

pub fn not(l: &Lowering, _: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let [Operand::Act(x)] = ops else {
        return Err("expects one input".into());
    };
    let shape = l.shape(*x).to_vec();
    let n: usize = shape.iter().product();
    let dot = SparseDot {
        terms: (0..n as u32).map(|j| vec![(0, j, -1.0)]).collect(),
        b: vec![1.0; n],
    };
    Ok(Lowered::Op(FloatOp::SparseDot(dot), vec![*x], shape))
}

/// The broadcast shape of Where's three operands and each one's source index.
fn where_shape(l: &Lowering, ops: &[Operand]) -> Result<(Vec<usize>, [Vec<u32>; 3]), String> {
    let [c, x, y] = ops else {
        return Err("expects a condition and two values".into());
    };
    let (cx, [ic, ix]) =
        broadcast(&shape_of(l, c), &shape_of(l, x)).ok_or("shapes do not broadcast")?;
    let (shape, [icx, iy]) = broadcast(&cx, &shape_of(l, y)).ok_or("shapes do not broadcast")?;
    let pick = |i: &[u32]| icx.iter().map(|&k| i[k as usize]).collect();
    Ok((shape, [pick(&ic), pick(&ix), iy]))
}

/// Builds a dot product over the activation operands among `ops`, constants folded into
/// its bias: output `j` is `Σ w·ops[k][idx_k[j]]` over the `(k, w)` given for it.
fn dot_over(ops: &[&Operand], index: &[&[u32]], picks: &[Vec<(usize, f64)>]) -> Node {
    let mut dot = DotBuilder::new();
    for (j, pick) in picks.iter().enumerate() {
        let (mut refs, mut bias) = (vec![], 0.0);
        for &(k, w) in pick {
            let i = index[k][j];
            match ops[k] {
                Operand::Act(id) => refs.push(((*id, i), w)),
                Operand::Const(c) => bias += w * c.data[i as usize],
            }
        }
        dot.push(&refs, bias);
    }
    dot.node()
}

pub fn select(l: &Lowering, _: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let (shape, [ic, ix, iy]) = where_shape(l, ops)?;
    let n = ic.len();
    let (x, y) = (&ops[1], &ops[2]);
    if let Operand::Const(c) = &ops[0] {
        // A fixed mask: each output copies x or y (a constant operand becomes a bias).
        let picks: Vec<_> = (0..n)
            .map(|j| vec![(usize::from(c.data[ic[j] as usize] == 0.0), 1.0)])
            .collect();
        let (op, inputs, _) = dot_over(&[x, y], &[&ix, &iy], &picks);
        if inputs.is_empty() {
            return Err("Where needs an activation operand".into());
        }
        return Ok(Lowered::Op(op, inputs, shape));
    }
    let Operand::Act(cond) = ops[0] else {
        unreachable!("the constant case returned above")
    };
    if let (Operand::Const(xc), Operand::Const(yc)) = (x, y) {
        // Both values constant: `c·(x − y) + y` is a dot product over the condition.
        let (xv, yv) = (
            |j: usize| xc.data[ix[j] as usize],
            |j: usize| yc.data[iy[j] as usize],
        );
        let terms = (0..n).map(|j| vec![(0, ic[j], xv(j) - yv(j))]).collect();
        let b = (0..n).map(yv).collect();
        let op = SparseDot { terms, b };
        return Ok(Lowered::Op(FloatOp::SparseDot(op), vec![cond], shape));
    }
    // y + c·(x − y): the difference, its product with the 0/1 condition, then y added.
    let base = l.next_id();
    let diff_picks = vec![vec![(0, 1.0), (1, -1.0)]; n];
    let (diff, diff_in, _) = dot_over(&[x, y], &[&ix, &iy], &diff_picks);
    let mut nodes = vec![(diff, diff_in, shape.clone())];
    let diff_id = base;
    let identity: Vec<u32> = (0..n as u32).collect();
    let mul = Mul {
        index: [ic.clone(), identity.clone()],
        bias: vec![],
    };
    nodes.push((FloatOp::Mul(mul), vec![cond, diff_id], shape.clone()));
    let product = Operand::Act(base + 1);
    let sum_picks = vec![vec![(0, 1.0), (1, 1.0)]; n];
    let (sum, sum_in, _) = dot_over(&[&product, y], &[&identity, &iy], &sum_picks);
    nodes.push((sum, sum_in, shape));
    Ok(Lowered::Nodes {
        nodes,
        outputs: vec![2],
    })
}
