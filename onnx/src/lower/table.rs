//! Nonlinear elementwise ONNX ops lowered to table functions. Which ONNX op types are table
//! functions, and with which parameters, is the circuits crate's `table_fn` module's to say
//! ([`FnKind::from_onnx`]); this module only reads the node's attributes for it.

use super::{attr_f, attr_s, Lowered, Lowering, Operand};
use crate::float_op::{Mul, TableFn};
use crate::graph::FloatOp;
use tract_onnx::pb::NodeProto;
use zkonnx_circuits::ops::table_fn::Attributes;
use zkonnx_circuits::ops::FnKind;

/// A node's attributes as the table functions read them.
struct NodeAttributes<'a>(&'a NodeProto);

impl Attributes for NodeAttributes<'_> {
    fn float(&self, name: &str, default: f32) -> f32 {
        attr_f(self.0, name, default)
    }

    fn string(&self, name: &str) -> String {
        attr_s(self.0, name)
    }
}

/// Any table function.
pub fn table_fn(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let [Operand::Act(x)] = ops else {
        return Err("expects one activation".into());
    };
    let kind = FnKind::from_onnx(&node.op_type, &NodeAttributes(node))
        .ok_or_else(|| format!("no table for {}", node.op_type))?;
    Ok(Lowered::Op(
        FloatOp::TableFn(TableFn { kind }),
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
                let op = FloatOp::Mul(Mul {
                    index: [id.clone(), id],
                    bias: vec![],
                });
                return Ok(Lowered::Op(op, vec![x, x], xs));
            }
            let thousandths = p0 * 1000.0;
            if (thousandths.round() - thousandths).abs() > 1e-6 {
                return Err(format!("exponent {p0} is not a multiple of 0.001"));
            }
            let kind = FnKind::Pow(thousandths.round() as i64);
            Ok(Lowered::Op(FloatOp::TableFn(TableFn { kind }), vec![x], xs))
        }
        Operand::Act(p) => {
            let (shape, index) =
                crate::graph::broadcast(&xs, l.shape(*p)).ok_or("shapes do not broadcast")?;
            if shape != xs {
                return Err("the exponent may not enlarge the base".into());
            }
            let base = l.next_id();
            let n: usize = xs.iter().product();
            let ln = (
                FloatOp::TableFn(TableFn { kind: FnKind::Ln }),
                vec![x],
                xs.clone(),
            );
            let prod = (
                FloatOp::Mul(Mul {
                    index: [(0..n as u32).collect(), index[1].clone()],
                    bias: vec![],
                }),
                vec![base, *p],
                xs.clone(),
            );
            let exp = (
                FloatOp::TableFn(TableFn { kind: FnKind::Exp }),
                vec![base + 1],
                xs,
            );
            Ok(Lowered::Nodes {
                nodes: vec![ln, prod, exp],
                outputs: vec![2],
            })
        }
    }
}

/// zkonnx's internal `Ln` (the natural-logarithm table LogSoftmax uses), for function bodies
/// whose argument is a sum (`ReduceLogSum`, `ReduceLogSumExp`).
pub fn ln(l: &Lowering, _: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let [Operand::Act(x)] = ops else {
        return Err("expects one activation".into());
    };
    let op = FloatOp::TableFn(TableFn { kind: FnKind::Ln });
    Ok(Lowered::Op(op, vec![*x], l.shape(*x).to_vec()))
}
