//! Element types through the graph. zkonnx lowers every op to float ops quantized exactly,
//! so an integer tensor stays an integer wherever the float op agrees with the integer one
//! (sums, products, copies, comparisons). Where the two differ (`Div` truncates, `Mod`, a
//! mean), the lowering must not give the float answer for an integer tensor: those ops are
//! refused on integer types by [`integer_refusal`].

use crate::tensor_proto::{is_integer_type, type_name};
use std::collections::HashMap;
use tract_onnx::pb::{GraphProto, NodeProto};

const FLOAT: i32 = 1;
const INT64: i32 = 7;
pub(super) const BOOL: i32 = 9;

/// Ops whose result on integer tensors is not the float result (truncation, rounding).
const FLOAT_ONLY: &[&str] = &[
    "Div",
    "Mean",
    "ReduceMean",
    "AveragePool",
    "GlobalAveragePool",
];

/// Ops that yield booleans whatever their inputs.
const BOOLEAN: &[&str] = &[
    "Equal",
    "Greater",
    "Less",
    "GreaterOrEqual",
    "LessOrEqual",
    "Not",
    "And",
    "Or",
    "Xor",
    "IsNaN",
    "IsInf",
];

/// Ops that yield int64 indices or sizes.
const INDEX: &[&str] = &["Shape", "Size", "ArgMax", "ArgMin", "NonZero"];

/// The element type of every tensor name known so far.
#[derive(Default)]
pub(super) struct ElemTypes(HashMap<String, i32>);

impl ElemTypes {
    /// The types the graph declares: inputs, initializers, `value_info` and outputs.
    pub(super) fn declared(g: &GraphProto) -> Self {
        let mut types = HashMap::new();
        let values = g.input.iter().chain(&g.value_info).chain(&g.output);
        for v in values {
            if let Some(t) = super::elem_type(v).filter(|&t| t != 0) {
                types.insert(v.name.clone(), t);
            }
        }
        for t in &g.initializer {
            types.insert(t.name.clone(), t.data_type);
        }
        Self(types)
    }

    /// The element type of a tensor (float if nothing says otherwise).
    pub(super) fn of(&self, name: &str) -> i32 {
        self.0.get(name).copied().unwrap_or(FLOAT)
    }

    /// Records the type of a node's outputs that the graph does not declare, and returns the
    /// first output's type.
    pub(super) fn infer(&mut self, node: &NodeProto) -> i32 {
        let t = self.output_type(node);
        for o in node.output.iter().filter(|o| !o.is_empty()) {
            self.0.entry(o.clone()).or_insert(t);
        }
        node.output.first().map_or(t, |o| self.of(o))
    }

    fn output_type(&self, node: &NodeProto) -> i32 {
        let op = node.op_type.as_str();
        let attr = |name: &str| node.attribute.iter().find(|a| a.name == name);
        if BOOLEAN.contains(&op) {
            return BOOL;
        }
        if INDEX.contains(&op) {
            return INT64;
        }
        match op {
            "Cast" => attr("to").map_or(FLOAT, |a| a.i as i32),
            "CastLike" => node.input.get(1).map_or(FLOAT, |n| self.of(n)),
            "Constant" | "ConstantOfShape" => match attr("value").or(node.attribute.first()) {
                Some(a) if a.t.is_some() => a.t.as_ref().map_or(FLOAT, |t| t.data_type),
                Some(a) if a.name.starts_with("value_int") => INT64,
                _ => FLOAT,
            },
            // Where's first input is its condition; its values come from the other two.
            "Where" => node.input.get(1).map_or(FLOAT, |n| self.of(n)),
            _ => node
                .input
                .iter()
                .find(|n| !n.is_empty())
                .map_or(FLOAT, |n| self.of(n)),
        }
    }
}

/// Why a node cannot be lowered for its output type, if it cannot: an op whose integer
/// semantics the float lowering does not give.
pub(super) fn integer_refusal(node: &NodeProto, out_type: i32) -> Option<String> {
    (is_integer_type(out_type) && FLOAT_ONLY.contains(&node.op_type.as_str())).then(|| {
        format!(
            "{} on {} tensors is not supported (its integer result truncates; zkonnx lowers \
             it to the float result)",
            node.op_type,
            type_name(out_type)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(op: &str, inputs: &[&str]) -> NodeProto {
        NodeProto {
            op_type: op.into(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec!["y".into()],
            ..NodeProto::default()
        }
    }

    #[test]
    fn integer_division_is_refused_and_float_division_is_not() {
        let mut types = ElemTypes::default();
        types.0.insert("a".into(), 6);
        let div = node("Div", &["a", "a"]);
        let t = types.infer(&div);
        assert_eq!(t, 6);
        let reason = integer_refusal(&div, t).unwrap();
        assert!(reason.contains("int32"), "{reason}");
        let mut floats = ElemTypes::default();
        let t = floats.infer(&node("Div", &["x", "x"]));
        assert!(integer_refusal(&div, t).is_none());
    }

    #[test]
    fn comparisons_yield_booleans_and_shapes_int64() {
        let mut types = ElemTypes::default();
        assert_eq!(types.infer(&node("Greater", &["x", "x"])), BOOL);
        let mut shape = node("Shape", &["x"]);
        shape.output = vec!["s".into()];
        assert_eq!(types.infer(&shape), INT64);
    }
}
