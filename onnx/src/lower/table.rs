//! Nonlinear elementwise ONNX ops lowered to table functions (see the circuits crate's
//! `table_fn` op): Sigmoid, Tanh, Exp, Softplus, Elu, Selu, Erf, Gelu, Softsign, Sqrt,
//! HardSigmoid, Sign, Shrink.

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
        "Sign" => FnKind::Sign,
        "Shrink" => FnKind::Shrink(
            milli(attr_f(node, "lambd", 0.5)),
            milli(attr_f(node, "bias", 0.0)),
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

/// `Pow(x, p)`: a product for `p = 2`, a table for any other constant `p`, and
/// `exp(p·ln x)` when the exponent is an activation (defined for `x > 0` only; a sample that
/// leaves that domain is refused at calibration, where the float result is NaN).
pub fn pow(l: &Lowering, _: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let (x, p) = match ops {
        [Operand::Act(x), p] => (*x, p),
        _ => return Err("the base must be an activation".into()),
    };
    let xs = l.shape(x).to_vec();
    match p {
        Operand::Const(c) => {
            let p0 = *c.data.first().ok_or("empty exponent")?;
            if c.data.iter().any(|&v| v != p0) {
                return Err("the exponent must be one value".into());
            }
            if c.data.len() > 1 && c.shape.iter().product::<usize>() > xs.iter().product() {
                return Err("the exponent may not enlarge the base".into());
            }
            if p0 == 2.0 {
                let n: usize = xs.iter().product();
                let id: Vec<u32> = (0..n as u32).collect();
                let op = FloatOp::Mul {
                    index: [id.clone(), id],
                    bias: vec![],
                };
                return Ok(Lowered::Op(op, vec![x, x], xs));
            }
            let thousandths = p0 * 1000.0;
            if (thousandths.round() - thousandths).abs() > 1e-6 {
                return Err(format!("exponent {p0} is not a multiple of 0.001"));
            }
            let kind = FnKind::Pow(thousandths.round() as i64);
            Ok(Lowered::Op(FloatOp::Fn { kind }, vec![x], xs))
        }
        Operand::Act(p) => {
            let (shape, index) =
                crate::graph::broadcast(&xs, l.shape(*p)).ok_or("shapes do not broadcast")?;
            if shape != xs {
                return Err("the exponent may not enlarge the base".into());
            }
            let base = l.next_id();
            let n: usize = xs.iter().product();
            let ln = (FloatOp::Fn { kind: FnKind::Ln }, vec![x], xs.clone());
            let prod = (
                FloatOp::Mul {
                    index: [(0..n as u32).collect(), index[1].clone()],
                    bias: vec![],
                },
                vec![base, *p],
                xs.clone(),
            );
            let exp = (FloatOp::Fn { kind: FnKind::Exp }, vec![base + 1], xs);
            Ok(Lowered::Nodes {
                nodes: vec![ln, prod, exp],
                outputs: vec![2],
            })
        }
    }
}
