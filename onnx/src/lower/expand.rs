//! Ops lowered as a function body: a short graph of other ONNX nodes (and zkonnx's internal
//! ops), built here and then lowered node by node like the model's own, so a composite op
//! such as `Attention` reuses the blocks (and the proofs) of its parts.

use super::{Const, Lowered, Lowering, Operand};
use crate::float_op::SparseDot;
use crate::graph::FloatOp;
use tract_onnx::pb::attribute_proto::AttributeType;
use tract_onnx::pb::{AttributeProto, NodeProto};

/// The domain of zkonnx's internal ops: only function bodies built here name it.
pub(super) const INTERNAL_DOMAIN: &str = "ai.zkonnx.internal";

/// A function body: its nodes in order, the constants they read, and which tensor yields
/// each of the parent node's outputs (`None` for an output the body does not compute).
pub(super) struct Body {
    prefix: String,
    pub(super) nodes: Vec<NodeProto>,
    pub(super) consts: Vec<(String, Const)>,
    pub(super) outputs: Vec<Option<String>>,
}

/// An attribute of a body node.
pub(super) enum Attr {
    Int(i64),
    Ints(Vec<i64>),
}

impl Body {
    /// A body whose tensor names start with `prefix` (which must not name a model tensor).
    pub(super) fn new(prefix: String) -> Self {
        Self {
            prefix,
            nodes: vec![],
            consts: vec![],
            outputs: vec![],
        }
    }

    fn fresh(&self) -> String {
        format!("{}#{}", self.prefix, self.nodes.len() + self.consts.len())
    }

    /// Adds a constant; returns its name.
    pub(super) fn constant(&mut self, shape: Vec<usize>, data: Vec<f64>) -> String {
        let name = self.fresh();
        self.consts.push((name.clone(), Const { shape, data }));
        name
    }

    /// A 1-D int64-like constant (shapes, pads, indices).
    pub(super) fn ints(&mut self, values: &[i64]) -> String {
        self.constant(
            vec![values.len()],
            values.iter().map(|&v| v as f64).collect(),
        )
    }

    /// A scalar constant.
    pub(super) fn scalar(&mut self, value: f64) -> String {
        self.constant(vec![], vec![value])
    }

    /// Adds a node of the default domain; returns the name of its (first) output.
    pub(super) fn op(&mut self, op_type: &str, inputs: &[&str], attrs: &[(&str, Attr)]) -> String {
        let attrs = attrs.iter().map(|(n, a)| attribute(n, a)).collect();
        self.node("", op_type, inputs, attrs)
    }

    /// Adds a node of the default domain with the given attributes (a parent's, passed on).
    pub(super) fn op_with(
        &mut self,
        op_type: &str,
        inputs: &[&str],
        attrs: Vec<AttributeProto>,
    ) -> String {
        self.node("", op_type, inputs, attrs)
    }

    /// Adds one of zkonnx's internal ops.
    pub(super) fn internal(&mut self, op_type: &str, inputs: &[&str]) -> String {
        self.node(INTERNAL_DOMAIN, op_type, inputs, vec![])
    }

    fn node(
        &mut self,
        domain: &str,
        op_type: &str,
        inputs: &[&str],
        attrs: Vec<AttributeProto>,
    ) -> String {
        let out = self.fresh();
        self.nodes.push(NodeProto {
            name: format!("{op_type}{}", self.nodes.len()),
            op_type: op_type.into(),
            domain: domain.into(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![out.clone()],
            attribute: attrs,
            ..NodeProto::default()
        });
        out
    }
}

/// An attribute as ONNX writes it.
pub(super) fn attribute(name: &str, a: &Attr) -> AttributeProto {
    let mut p = AttributeProto {
        name: name.into(),
        ..AttributeProto::default()
    };
    match a {
        Attr::Int(i) => {
            p.i = *i;
            p.r#type = AttributeType::Int as i32;
        }
        Attr::Ints(v) => {
            p.ints.clone_from(v);
            p.r#type = AttributeType::Ints as i32;
        }
    }
    p
}

/// The node again, each input renamed by `rewrite` (which may add nodes to the body first).
fn reissued(
    node: &NodeProto,
    mut rewrite: impl FnMut(&mut Body, &str) -> String,
) -> Result<Lowered, String> {
    let mut b = Body::new(node.output.first().cloned().unwrap_or_default());
    let inputs: Vec<String> = (node.input.iter())
        .filter(|n| !n.is_empty())
        .map(|name| rewrite(&mut b, name))
        .collect();
    let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let y = b.op_with(&node.op_type, &refs, node.attribute.clone());
    b.outputs = vec![Some(y)];
    Ok(Lowered::Body(b))
}

/// The node again with each constant input replaced by an activation holding its values
/// (zkonnx's internal `Materialize`), for lowerings that take activations only (`Concat`,
/// `Max`, `Min`, `Sum` with a constant operand).
pub(super) fn materialized(l: &Lowering, node: &NodeProto) -> Result<Lowered, String> {
    let anchor = (node.input.iter())
        .find(|n| l.acts.contains_key(*n))
        .ok_or("needs an activation input")?;
    reissued(node, |b, name| {
        if l.consts.contains_key(name) {
            b.internal("Materialize", &[anchor, name])
        } else {
            name.to_string()
        }
    })
}

/// zkonnx's internal `Materialize(anchor, c)`: the constant `c` as an activation, a dot
/// product with no terms per value (so each value is proven to be its bias); `anchor` is
/// any activation, read by no term.
pub(super) fn materialize(_: &Lowering, _: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let [Operand::Act(anchor), Operand::Const(c)] = ops else {
        return Err("expects an activation and a constant".into());
    };
    let n = c.data.len();
    let op = FloatOp::SparseDot(SparseDot {
        terms: vec![vec![]; n],
        b: c.data.clone(),
    });
    Ok(Lowered::Op(op, vec![*anchor], c.shape.clone()))
}

/// The node again with its activation input first expanded to `shape` (the broadcast of
/// all its inputs), for an elementwise op whose constant operand is larger than the
/// activation.
pub(super) fn broadcast_first(
    l: &Lowering,
    node: &NodeProto,
    shape: &[usize],
) -> Result<Lowered, String> {
    let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
    let mut target = None;
    reissued(node, |b, name| {
        if l.acts.contains_key(name) {
            let t = target.get_or_insert_with(|| b.ints(&dims)).clone();
            b.op("Expand", &[name, &t], &[])
        } else {
            name.to_string()
        }
    })
}
