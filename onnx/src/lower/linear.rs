//! `Gemm` and `MatMul` against constant weights: one `Linear` op (a dot product per output
//! feature). A product of two activations goes to [`super::matmul`] instead.

use super::{attr_f, attr_i, Lowered, Lowering, Operand};
use crate::float_op::Linear;
use crate::graph::FloatOp;
use tract_onnx::pb::NodeProto;

pub fn gemm(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    if let (Operand::Act(a), Some(Operand::Act(b))) = (&ops[0], ops.get(1)) {
        return super::matmul::gemm_of_activations(l, node, *a, *b, ops);
    }
    let (Operand::Act(a), Some(Operand::Const(b))) = (&ops[0], ops.get(1)) else {
        return Err("Gemm needs an activation A and constant weights B".into());
    };
    if attr_i(node, "transA", 0) != 0 {
        return Err("transA = 1 is not supported".into());
    }
    let a_shape = l.shape(*a);
    let [rows, k] = a_shape else {
        return Err(format!("A must be 2-D, got {a_shape:?}"));
    };
    let [b0, b1] = b.shape[..] else {
        return Err("B must be 2-D".into());
    };
    let trans_b = attr_i(node, "transB", 0) != 0;
    let (kb, n) = if trans_b { (b1, b0) } else { (b0, b1) };
    if kb != *k {
        return Err(format!("A is {a_shape:?} but B is {:?}", b.shape));
    }
    let alpha = attr_f(node, "alpha", 1.0) as f64;
    let beta = attr_f(node, "beta", 1.0) as f64;
    let w = (0..n)
        .flat_map(|o| (0..kb).map(move |i| (o, i)))
        .map(|(o, i)| {
            alpha
                * if trans_b {
                    b.data[o * kb + i]
                } else {
                    b.data[i * n + o]
                }
        })
        .collect();
    let bias = match ops.get(2) {
        None => vec![0.0; n],
        Some(Operand::Const(c)) if c.data.len() == n => c.data.iter().map(|v| beta * v).collect(),
        Some(Operand::Const(c)) if c.data.len() == 1 => vec![beta * c.data[0]; n],
        _ => return Err("C must be a constant of N values or a scalar".into()),
    };
    let op = FloatOp::Linear(Linear {
        in_dim: kb,
        out_dim: n,
        w,
        b: bias,
    });
    Ok(Lowered::Op(op, vec![*a], vec![*rows, n]))
}

pub fn matmul(l: &Lowering, _: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    if let (Operand::Act(a), Some(Operand::Act(b))) = (&ops[0], ops.get(1)) {
        return super::matmul::matmul_of_activations(l, *a, *b);
    }
    let (Operand::Act(a), Some(Operand::Const(b))) = (&ops[0], ops.get(1)) else {
        return Err("MatMul is supported against constant weights (second input) only".into());
    };
    let a_shape = l.shape(*a).to_vec();
    let [k, n] = b.shape[..] else {
        return Err(format!("weights must be 2-D, got {:?}", b.shape));
    };
    if a_shape.last() != Some(&k) {
        return Err(format!("cannot multiply {a_shape:?} by {:?}", b.shape));
    }
    let w = (0..n)
        .flat_map(|o| (0..k).map(move |i| b.data[i * n + o]))
        .collect();
    let mut shape = a_shape;
    if let Some(last) = shape.last_mut() {
        *last = n;
    }
    let op = FloatOp::Linear(Linear {
        in_dim: k,
        out_dim: n,
        w,
        b: vec![0.0; n],
    });
    Ok(Lowered::Op(op, vec![*a], shape))
}
