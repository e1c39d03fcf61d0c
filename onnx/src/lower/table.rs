//! Nonlinear elementwise ONNX ops lowered to table functions (see the circuits crate's
//! `table_fn` op): Sigmoid, Tanh, Exp, Softplus, Elu, Selu, Erf, Gelu, Softsign, Sqrt,
//! HardSigmoid.

use super::{attr_f, attr_s, Lowered, Lowering, Operand};
use crate::graph::FloatOp;
use tract_onnx::pb::NodeProto;
use zkonnx_circuits::ops::FnKind;

fn milli(v: f32) -> i64 {
    (v as f64 * 1000.0).round() as i64
}

/// The table function for an op type.
fn kind(node: &NodeProto) -> Result<FnKind, String> {
    Ok(match node.op_type.as_str() {
        "Sigmoid" => FnKind::Sigmoid,
        "Tanh" => FnKind::Tanh,
        "Exp" => FnKind::Exp,
        "Softplus" => FnKind::Softplus,
        "Elu" => FnKind::Elu(milli(attr_f(node, "alpha", 1.0))),
        "Selu" => FnKind::Selu(
            milli(attr_f(node, "alpha", 1.673_263_2)),
            milli(attr_f(node, "gamma", 1.050_701)),
        ),
        "Erf" => FnKind::Erf,
        "Gelu"
            if attr_s(node, "approximate").is_empty() || attr_s(node, "approximate") == "none" =>
        {
            FnKind::Gelu
        }
        "Softsign" => FnKind::Softsign,
        "Sqrt" => FnKind::Sqrt,
        "HardSigmoid" => FnKind::HardSigmoid(
            milli(attr_f(node, "alpha", 0.2)),
            milli(attr_f(node, "beta", 0.5)),
        ),
        other => return Err(format!("no table for {other}")),
    })
}

/// Any table function.
pub fn table_fn(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let [Operand::Act(x)] = ops else {
        return Err("expects one activation".into());
    };
    Ok(Lowered::Op(
        FloatOp::Fn { kind: kind(node)? },
        vec![*x],
        l.shape(*x).to_vec(),
    ))
}
