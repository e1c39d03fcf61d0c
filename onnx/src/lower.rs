//! Lowering ONNX nodes to zkonnx float ops: the op table.
//!
//! [`OP_TABLE`] is the only map from ONNX op types to lowering functions; an op type that is
//! not in it is an [`OnnxError::Unsupported`] naming the op and the node. Constants
//! (initializers and `Constant` nodes) are folded into the ops that use them.

mod affine;
mod attention;
mod compare;
mod composite;
mod expand;
mod index;

pub use index::iota;
mod linear;
mod logic;
mod matmul;
mod neg_inf;
mod norm;
mod recurrent;
mod resize;
mod scatter;
mod select;
mod shape;
mod softmax;
mod table;
mod types;
mod values;
mod window;

use crate::error::OnnxError;
use crate::float_op::{Add, AddConst, Relu, Reshape};
use crate::graph::{broadcast, FloatGraph, FloatNode, FloatOp};
use std::collections::HashMap;
use tract_onnx::pb::tensor_shape_proto::dimension::Value as DimValue;
use tract_onnx::pb::type_proto::Value as TypeValue;
use tract_onnx::pb::{AttributeProto, ModelProto, NodeProto, TensorProto, ValueInfoProto};

/// A constant tensor.
#[derive(Clone, Debug)]
struct Const {
    shape: Vec<usize>,
    data: Vec<f64>,
}

/// What a node's inputs are: activations (by tensor id) or constants.
#[derive(Clone, Copy)]
enum Operand<'a> {
    Act(usize),
    Const(&'a Const),
}

/// A lowering function: the node's operands and attributes to an op, its activation
/// inputs and its output shape; `Ok(None)` for a node that yields a constant.
type LowerFn = fn(&Lowering, &NodeProto, &[Operand]) -> Result<Lowered, String>;

/// The result of lowering one node.
enum Lowered {
    /// One float op: the op, its activation inputs, its output shape.
    Op(FloatOp, Vec<usize>, Vec<usize>),
    /// A constant (folded into the ops that read it).
    Const(Const),
    /// Several float ops (later ones may read earlier ones by their future tensor ids, see
    /// [`Lowering::next_id`]); `outputs[i]` is the op that yields the node's output `i`.
    Nodes {
        nodes: Vec<(FloatOp, Vec<usize>, Vec<usize>)>,
        outputs: Vec<usize>,
    },
    /// A function body of other nodes, lowered one by one (see [`expand`]).
    Body(expand::Body),
}

/// ONNX op type → lowering function.
const OP_TABLE: &[(&str, LowerFn)] = &[
    ("Gemm", linear::gemm),
    ("MatMul", linear::matmul),
    ("Add", add),
    ("Sub", sub),
    ("Relu", relu),
    ("Flatten", flatten),
    ("Reshape", reshape),
    ("Identity", identity),
    ("Constant", constant),
    ("Conv", window::conv),
    ("AveragePool", window::average_pool),
    ("GlobalAveragePool", window::global_average_pool),
    ("BatchNormalization", affine::batch_norm),
    ("Mul", affine::mul),
    ("Div", affine::div),
    ("Neg", affine::neg),
    ("Sum", affine::sum),
    ("ReduceSum", affine::reduce_sum),
    ("ReduceMean", affine::reduce_mean),
    ("LeakyRelu", affine::leaky_relu),
    ("PRelu", affine::prelu),
    ("Transpose", shape::transpose),
    ("Concat", shape::concat),
    ("Squeeze", shape::squeeze),
    ("Unsqueeze", shape::unsqueeze),
    ("Slice", shape::slice),
    ("Split", shape::split),
    ("Expand", shape::expand),
    ("Tile", shape::tile),
    ("Gather", shape::gather),
    ("Pad", shape::pad),
    ("ConvTranspose", window::conv_transpose),
    ("Abs", compare::abs),
    ("Max", compare::max),
    ("Min", compare::min),
    ("MaxPool", compare::max_pool),
    ("ReduceMax", compare::reduce_max),
    ("ReduceMin", compare::reduce_min),
    ("Clip", compare::clip),
    ("Sigmoid", table::table_fn),
    ("Tanh", table::table_fn),
    ("Exp", table::table_fn),
    ("Softplus", table::table_fn),
    ("Elu", table::table_fn),
    ("Selu", table::table_fn),
    ("Erf", table::table_fn),
    ("Gelu", table::table_fn),
    ("Softsign", table::table_fn),
    ("Sqrt", table::table_fn),
    ("HardSigmoid", table::table_fn),
    ("Sign", table::table_fn),
    ("Shrink", table::table_fn),
    ("HardSwish", table::table_fn),
    ("Reciprocal", table::table_fn),
    ("Pow", table::pow),
    ("InstanceNormalization", norm::instance_norm),
    ("LayerNormalization", norm::layer_norm),
    ("RMSNormalization", norm::rms_norm),
    ("Greater", logic::greater),
    ("Less", logic::less),
    ("GreaterOrEqual", logic::greater_or_equal),
    ("LessOrEqual", logic::less_or_equal),
    ("Equal", logic::equal),
    ("And", logic::and),
    ("Or", logic::or),
    ("Xor", logic::xor),
    ("Not", logic::not),
    ("Where", logic::select),
    ("Softmax", softmax::softmax),
    ("LogSoftmax", softmax::log_softmax),
    ("Cast", values::cast_activation),
    ("CastLike", values::cast_activation),
    ("Attention", attention::attention),
    ("ReduceSumSquare", composite::reduce_sum_square),
    ("ReduceL1", composite::reduce_l1),
    ("ReduceL2", composite::reduce_l2),
    ("ReduceLogSum", composite::reduce_log_sum),
    ("ReduceLogSumExp", composite::reduce_log_sum_exp),
    ("GlobalMaxPool", composite::global_max_pool),
    ("LpNormalization", composite::lp_normalization),
    ("LpPool", composite::lp_pool),
    ("DepthToSpace", composite::depth_to_space),
    ("SpaceToDepth", composite::space_to_depth),
    ("CumSum", affine::cum_sum),
    ("Trilu", affine::trilu),
    ("ArgMax", select::arg_max),
    ("ArgMin", select::arg_min),
    ("Hardmax", select::hardmax),
    ("Resize", resize::resize),
    ("Upsample", resize::upsample),
    ("GatherElements", scatter::gather_elements),
    ("GatherND", scatter::gather_nd),
    ("ScatterElements", scatter::scatter_elements),
    ("Scatter", scatter::scatter_elements),
    ("ScatterND", scatter::scatter_nd),
    ("Dropout", scatter::dropout),
    ("OneHot", select::one_hot),
    ("RNN", recurrent::rnn),
    ("GRU", recurrent::gru),
    ("LSTM", recurrent::lstm),
];

/// zkonnx's internal op types (domain [`expand::INTERNAL_DOMAIN`]), which only function
/// bodies use.
const INTERNAL_TABLE: &[(&str, LowerFn)] = &[
    ("MaskedSoftmax", softmax::masked_softmax),
    ("Ln", table::ln),
    ("Materialize", expand::materialize),
];

/// The lowering function of an op type, if it has one.
fn lower_fn(op_type: &str) -> Option<LowerFn> {
    crate::scope::by_op_type(OP_TABLE, op_type)
}

/// Op types in the model that zkonnx cannot lower, sorted and without repeats.
pub fn missing_ops(proto: &ModelProto) -> Vec<String> {
    let mut missing: Vec<String> = proto
        .graph
        .iter()
        .flat_map(|g| &g.node)
        .map(|n| n.op_type.clone())
        .filter(|t| lower_fn(t).is_none() && values::value_op(t).is_none())
        .collect();
    missing.sort();
    missing.dedup();
    missing
}

/// The supported op types, for messages.
pub fn supported() -> String {
    let mut names: Vec<&str> = OP_TABLE
        .iter()
        .map(|(n, _)| *n)
        .chain(values::VALUE_OPS.iter().map(|(n, _)| *n))
        .collect();
    names.sort_unstable();
    names.dedup();
    names.join(", ")
}

struct Lowering {
    /// The default-domain opset the model imports.
    opset: i64,
    graph: FloatGraph,
    acts: HashMap<String, usize>,
    consts: HashMap<String, Const>,
    /// Element types of the tensors lowered so far.
    types: types::ElemTypes,
    /// Activations that hold `−∞` at some positions, and the positions they admit (see
    /// [`neg_inf`]).
    masked: HashMap<usize, Vec<bool>>,
}

impl Lowering {
    fn shape(&self, id: usize) -> &[usize] {
        self.graph.shape(id)
    }

    /// The tensor id the next float node will get.
    fn next_id(&self) -> usize {
        self.graph.inputs.len() + self.graph.nodes.len()
    }

    fn push(
        &mut self,
        name: String,
        op_type: &str,
        (op, inputs, shape): (FloatOp, Vec<usize>, Vec<usize>),
    ) -> usize {
        let id = self.next_id();
        self.graph.nodes.push(FloatNode {
            name,
            op_type: op_type.to_string(),
            op,
            inputs,
            shape,
            relu: false,
        });
        id
    }
}

/// A graph input whose values are fixed at compile time: name, shape, values.
pub type FixedValues = (String, Vec<usize>, Vec<f64>);

/// Where an op reads a parameter that its lowering needs as a constant (sizes, repeats,
/// axes, pads, a `Resize`'s scales, a `Conv`'s weights, `Clip`'s bounds) from an input: op
/// type and the input positions.
const PARAMETER_SLOTS: &[(&str, &[usize])] = &[
    ("Expand", &[1]),
    ("Reshape", &[1]),
    ("Tile", &[1]),
    ("Slice", &[1, 2, 3, 4]),
    ("Split", &[1]),
    ("Squeeze", &[1]),
    ("Unsqueeze", &[1]),
    ("Pad", &[1, 3]),
    ("ReduceSum", &[1]),
    ("ReduceMean", &[1]),
    ("Attention", &[6]),
    ("ReduceMax", &[1]),
    ("ReduceMin", &[1]),
    ("ReduceSumSquare", &[1]),
    ("ReduceL1", &[1]),
    ("ReduceL2", &[1]),
    ("ReduceLogSum", &[1]),
    ("ReduceLogSumExp", &[1]),
    ("CumSum", &[1]),
    ("Trilu", &[1]),
    ("Resize", &[1, 2, 3]),
    ("Upsample", &[1]),
    ("Conv", &[1, 2]),
    ("ConvTranspose", &[1, 2]),
    ("Clip", &[1, 2]),
    ("BatchNormalization", &[1, 2, 3, 4]),
    ("InstanceNormalization", &[1, 2]),
    ("PRelu", &[1]),
    ("GatherElements", &[1]),
    ("GatherND", &[1]),
    ("ScatterElements", &[1]),
    ("Scatter", &[1]),
    ("ScatterND", &[1]),
    ("Dropout", &[1, 2]),
    ("OneHot", &[1, 2]),
    ("RNN", &[1, 2, 3, 4]),
    ("GRU", &[1, 2, 3, 4]),
    ("LSTM", &[1, 2, 3, 4, 7]),
];

/// Graph inputs that the graph reads only as parameters (an `Expand`'s shape, a `Tile`'s
/// repeats, a `Resize`'s scales, a `Conv`'s weights, …: see [`PARAMETER_SLOTS`]), with their
/// positions among the graph's inputs. A circuit has fixed shapes and its lowering needs
/// these as constants, so they are fixed at compile time from the calibration sample; the
/// compiled model records them, and a proof is a proof for those values.
pub fn shape_inputs(proto: &ModelProto) -> Vec<(usize, String)> {
    let Some(g) = proto.graph.as_ref() else {
        return vec![];
    };
    let is_param = |name: &str| {
        let mut uses = g.node.iter().flat_map(|n| {
            n.input
                .iter()
                .enumerate()
                .filter(|(_, i)| *i == name)
                .map(|(k, _)| {
                    PARAMETER_SLOTS
                        .iter()
                        .any(|(t, slots)| *t == n.op_type && slots.contains(&k))
                })
        });
        let first = uses.next();
        first == Some(true) && uses.all(|u| u)
    };
    graph_inputs(proto)
        .into_iter()
        .enumerate()
        .filter(|(_, v)| is_param(&v.name))
        .map(|(i, v)| (i, v.name.clone()))
        .collect()
}

/// The graph's inputs that are not initializers, in order.
pub fn graph_inputs(proto: &ModelProto) -> Vec<&ValueInfoProto> {
    let Some(g) = proto.graph.as_ref() else {
        return vec![];
    };
    g.input
        .iter()
        .filter(|i| !g.initializer.iter().any(|t| t.name == i.name))
        .collect()
}

/// The element type code a value declares, if it is a tensor.
pub fn elem_type(v: &ValueInfoProto) -> Option<i32> {
    match v.r#type.as_ref().and_then(|t| t.value.as_ref()) {
        Some(TypeValue::TensorType(t)) => Some(t.elem_type),
        _ => None,
    }
}

/// True for an integer (or boolean) tensor input.
pub fn is_integer(v: &ValueInfoProto) -> bool {
    elem_type(v).is_some_and(crate::tensor_proto::is_integer_type)
}

/// Lowers a decoded ONNX model to the float graph.
pub fn lower(proto: &ModelProto) -> Result<FloatGraph, OnnxError> {
    lower_with(proto, &[])
}

/// Lowers a decoded ONNX model, with some graph inputs fixed to constants.
pub fn lower_with(proto: &ModelProto, fixed: &[FixedValues]) -> Result<FloatGraph, OnnxError> {
    let g = proto
        .graph
        .as_ref()
        .ok_or_else(|| OnnxError::Invalid("no graph".into()))?;
    let opset = proto
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map_or(13, |o| o.version);
    let mut l = Lowering {
        opset,
        graph: FloatGraph::default(),
        acts: HashMap::new(),
        consts: HashMap::new(),
        types: types::ElemTypes::declared(g),
        masked: HashMap::new(),
    };
    for t in &g.initializer {
        l.consts.insert(t.name.clone(), load_const(t)?);
    }
    for (name, shape, data) in fixed {
        let c = Const {
            shape: shape.clone(),
            data: data.clone(),
        };
        l.consts.insert(name.clone(), c);
    }
    for input in g.input.iter().filter(|i| !l.consts.contains_key(&i.name)) {
        let shape = input_shape(input)?;
        l.acts.insert(input.name.clone(), l.graph.inputs.len());
        l.graph.inputs.push((input.name.clone(), shape));
        let boolean = elem_type(input) == Some(types::BOOL);
        l.graph.boolean_inputs.push(boolean);
    }
    if l.graph.inputs.is_empty() {
        return Err(OnnxError::Invalid("the graph has no inputs".into()));
    }
    for (i, node) in g.node.iter().enumerate() {
        lower_node(&mut l, node, i)?;
    }
    for out in &g.output {
        let id = *l.acts.get(&out.name).ok_or_else(|| {
            OnnxError::Invalid(format!(
                "output '{}' is not computed from the inputs",
                out.name
            ))
        })?;
        if l.masked.contains_key(&id) {
            return Err(OnnxError::Invalid(format!(
                "output '{}' holds -inf (a mask), which a circuit cannot represent",
                out.name
            )));
        }
        l.graph.outputs.push(id);
        l.graph.output_names.push(out.name.clone());
    }
    Ok(l.graph)
}

fn lower_node(l: &mut Lowering, node: &NodeProto, index: usize) -> Result<(), OnnxError> {
    let name = if node.name.is_empty() {
        format!("{}_{index}", node.op_type)
    } else {
        node.name.clone()
    };
    let err = |reason: String| OnnxError::Node {
        op_type: node.op_type.clone(),
        node: name.clone(),
        reason,
    };
    if let Some(nature) = crate::scope::out_of_scope(&node.op_type) {
        return Err(OnnxError::OutOfScope {
            op_type: node.op_type.clone(),
            node: name,
            nature,
        });
    }
    let out_type = l.types.infer(node);
    if !crate::tensor_proto::is_readable(out_type) {
        return Err(OnnxError::ElementType {
            what: format!("node '{name}' ({})", node.op_type),
            type_name: crate::tensor_proto::type_name(out_type),
        });
    }
    let operands = node
        .input
        .iter()
        .filter(|i| !i.is_empty())
        .map(|i| match (l.acts.get(i), l.consts.get(i)) {
            (Some(id), _) => Ok(Operand::Act(*id)),
            (None, Some(c)) => Ok(Operand::Const(c)),
            _ => Err(err(format!("input '{i}' is not defined before the node"))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let out = node
        .output
        .first()
        .cloned()
        .ok_or_else(|| err("no output".into()))?;
    let all_const = !operands.is_empty() && operands.iter().all(|o| matches!(o, Operand::Const(_)));
    let table = if node.domain == expand::INTERNAL_DOMAIN {
        crate::scope::by_op_type(INTERNAL_TABLE, &node.op_type)
    } else {
        lower_fn(&node.op_type)
    };
    if let Some(value) = values::value_op(&node.op_type).filter(|_| all_const || table.is_none()) {
        let mut c = value(l, node, &operands).map_err(err)?;
        values::coerce(&mut c.data, out_type);
        l.consts.insert(out, c);
        return Ok(());
    }
    let Some(f) = table else {
        return Err(OnnxError::Unsupported {
            op_type: node.op_type.clone(),
            node: name,
            supported: supported(),
        });
    };
    if all_const && node.op_type != "Constant" {
        let consts: Vec<Const> = operands
            .iter()
            .filter_map(|o| match o {
                Operand::Const(c) => Some((*c).clone()),
                Operand::Act(_) => None,
            })
            .collect();
        let mut folded = fold_constant(f, node, &consts, l.opset).map_err(err)?;
        // Integer semantics at compile time: a quotient truncates toward zero.
        values::coerce(&mut folded.data, out_type);
        l.consts.insert(out, folded);
        return Ok(());
    }
    if let Some(reason) = types::integer_refusal(node, out_type) {
        return Err(err(reason));
    }
    let reads_mask = operands
        .iter()
        .any(|o| matches!(o, Operand::Act(a) if l.masked.contains_key(a)));
    let some_const = operands.iter().any(|o| matches!(o, Operand::Const(_)));
    let lowered = if some_const && ALL_ACTIVATIONS.contains(&node.op_type.as_str()) {
        expand::materialized(l, node)
    } else {
        f(l, node, &operands)
    }
    .map_err(err)?;
    if let Some(shape) = empty_output(&lowered) {
        return Err(err(format!(
            "yields an empty tensor (shape {shape:?}); a circuit proves tensors of at least \
             one value"
        )));
    }
    // A masked input holds -inf where it is masked: only Softmax reads it knowingly, single
    // ops carry the mask (see `neg_inf::carry`), and a lowering that folds it to a constant
    // (a comparison against -inf) took it for finite.
    let knowingly = node.op_type == "Softmax";
    if reads_mask && !knowingly && matches!(lowered, Lowered::Nodes { .. } | Lowered::Const(_)) {
        return Err(err(neg_inf::REFUSAL.into()));
    }
    match lowered {
        Lowered::Const(c) => {
            l.consts.insert(out, c);
        }
        Lowered::Op(mut op, inputs, shape) => {
            let masks: Vec<_> = inputs.iter().map(|i| l.masked.get(i)).collect();
            let carried = neg_inf::carry(&mut op, &masks).map_err(err)?;
            let id = l.push(name, &node.op_type, (op, inputs, shape));
            if let Some(allowed) = carried {
                l.masked.insert(id, allowed);
            }
            l.acts.insert(out, id);
        }
        Lowered::Nodes { nodes, outputs } => {
            let first = l.next_id();
            let count = nodes.len();
            for (i, n) in nodes.into_iter().enumerate() {
                let label = if i + 1 == count {
                    name.clone()
                } else {
                    format!("{name}/{i}")
                };
                l.push(label, &node.op_type, n);
            }
            for (o, &n) in node.output.iter().zip(&outputs) {
                l.acts.insert(o.clone(), first + n);
            }
        }
        Lowered::Body(body) => lower_body(l, node, &name, body)?,
    }
    Ok(())
}

/// Lowers a function body's nodes, then names the parent's outputs after the body's
/// tensors. An error in a step names the parent node and the step.
fn lower_body(
    l: &mut Lowering,
    node: &NodeProto,
    name: &str,
    body: expand::Body,
) -> Result<(), OnnxError> {
    l.consts.extend(body.consts);
    for (k, mut sub) in body.nodes.into_iter().enumerate() {
        sub.name = format!("{name}/{}", sub.name);
        lower_node(l, &sub, k).map_err(|e| match e {
            OnnxError::Node {
                op_type, reason, ..
            } => OnnxError::Node {
                op_type: node.op_type.clone(),
                node: name.to_string(),
                reason: format!("its {op_type} step: {reason}"),
            },
            other => other,
        })?;
    }
    for (o, inner) in node.output.iter().zip(&body.outputs) {
        let Some(inner) = inner.as_ref().filter(|_| !o.is_empty()) else {
            continue;
        };
        if let Some(&id) = l.acts.get(inner) {
            l.acts.insert(o.clone(), id);
        } else if let Some(c) = l.consts.get(inner).cloned() {
            l.consts.insert(o.clone(), c);
        }
    }
    Ok(())
}

/// The shape of an activation the lowering yields with no values, if any.
fn empty_output(lowered: &Lowered) -> Option<&[usize]> {
    let shapes: Vec<&[usize]> = match lowered {
        Lowered::Const(_) | Lowered::Body(_) => vec![],
        Lowered::Op(_, _, shape) => vec![shape],
        Lowered::Nodes { nodes, .. } => nodes.iter().map(|n| n.2.as_slice()).collect(),
    };
    shapes.into_iter().find(|s| s.contains(&0))
}

/// Ops whose lowering takes every input as an activation.
const ALL_ACTIVATIONS: &[&str] = &["Concat", "Max", "Min", "Sum"];

/// Sums whose second operand may be the larger one: folded at compile time, like the ops of
/// [`ALL_ACTIVATIONS`], with every constant input as a scratch activation.
const BROADCAST_SUMS: &[&str] = &["Add", "Sub"];

/// Evaluates a node whose inputs are all constants, at compile time: the data constants
/// become the inputs of a scratch graph (the first input, or all of them for
/// [`ALL_ACTIVATIONS`]), the others stay constants (a Slice's starts, a Gather's indices), and
/// the node is lowered into it and run.
fn fold_constant(
    f: LowerFn,
    node: &NodeProto,
    consts: &[Const],
    opset: i64,
) -> Result<Const, String> {
    let mut scratch = Lowering {
        opset,
        graph: FloatGraph::default(),
        acts: HashMap::new(),
        consts: HashMap::new(),
        types: types::ElemTypes::default(),
        masked: HashMap::new(),
    };
    let op = node.op_type.as_str();
    let as_act = |k: usize| k == 0 || ALL_ACTIVATIONS.contains(&op) || BROADCAST_SUMS.contains(&op);
    let mut data: Vec<Vec<f64>> = Vec::new();
    let mut operands: Vec<Operand> = Vec::new();
    for (k, c) in consts.iter().enumerate() {
        if as_act(k) {
            operands.push(Operand::Act(scratch.graph.inputs.len()));
            scratch
                .graph
                .inputs
                .push((format!("c{k}"), c.shape.clone()));
            data.push(c.data.clone());
        } else {
            operands.push(Operand::Const(c));
        }
    }
    let out_id = match f(&scratch, node, &operands)? {
        Lowered::Const(c) => return Ok(c),
        Lowered::Op(op, inputs, shape) => {
            scratch.push(String::new(), &node.op_type, (op, inputs, shape))
        }
        Lowered::Nodes { nodes, outputs } => {
            let first = scratch.next_id();
            for n in nodes {
                scratch.push(String::new(), &node.op_type, n);
            }
            first + outputs.first().copied().unwrap_or(0)
        }
        Lowered::Body(_) => return Err("constant inputs are not supported".into()),
    };
    let (tensors, _) = scratch.graph.run(&data);
    Ok(Const {
        shape: scratch.graph.shape(out_id).to_vec(),
        data: tensors[out_id].clone(),
    })
}

fn input_shape(v: &ValueInfoProto) -> Result<Vec<usize>, OnnxError> {
    // Float and integer inputs are quantized alike (integers are exact at every scale).
    match elem_type(v) {
        None => Err(OnnxError::Invalid(format!(
            "input '{}' is not a tensor",
            v.name
        ))),
        Some(t) if crate::tensor_proto::is_readable(t) => Ok(declared_shape(v)),
        Some(t) => Err(OnnxError::ElementType {
            what: format!("input '{}'", v.name),
            type_name: crate::tensor_proto::type_name(t),
        }),
    }
}

/// The dims an input declares (unknown dims as 1).
pub fn declared_shape(v: &ValueInfoProto) -> Vec<usize> {
    let Some(TypeValue::TensorType(t)) = v.r#type.as_ref().and_then(|t| t.value.as_ref()) else {
        return vec![];
    };
    t.shape
        .as_ref()
        .map(|s| s.dim.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|d| match d.value {
            Some(DimValue::DimValue(n)) if n > 0 => n as usize,
            _ => 1,
        })
        .collect()
}

fn load_const(t: &TensorProto) -> Result<Const, OnnxError> {
    let (shape, data) = crate::tensor_proto::values(t, &format!("constant '{}'", t.name))?;
    Ok(Const { shape, data })
}

fn attr<'a>(node: &'a NodeProto, name: &str) -> Option<&'a AttributeProto> {
    node.attribute.iter().find(|a| a.name == name)
}

fn attr_ints(node: &NodeProto, name: &str) -> Option<Vec<i64>> {
    attr(node, name).map(|a| a.ints.clone())
}

fn attr_s(node: &NodeProto, name: &str) -> String {
    attr(node, name)
        .map(|a| String::from_utf8_lossy(&a.s).to_string())
        .unwrap_or_default()
}

fn attr_i(node: &NodeProto, name: &str, default: i64) -> i64 {
    attr(node, name).map_or(default, |a| a.i)
}

fn attr_f(node: &NodeProto, name: &str, default: f32) -> f32 {
    attr(node, name).map_or(default, |a| a.f)
}

/// The operand at ONNX input position `i`, if the node gives one: `ops` leaves out empty
/// optional inputs, so a later position is not its index there.
fn operand<'a, 'b>(node: &NodeProto, ops: &'b [Operand<'a>], i: usize) -> Option<&'b Operand<'a>> {
    if node.input.get(i).is_none_or(|n| n.is_empty()) {
        return None;
    }
    ops.get(node.input[..i].iter().filter(|n| !n.is_empty()).count())
}

/// The single activation input and the constants, in order.
fn split<'a>(ops: &'a [Operand<'a>]) -> (Vec<usize>, Vec<&'a Const>) {
    let mut acts = Vec::new();
    let mut consts = Vec::new();
    for o in ops {
        match o {
            Operand::Act(i) => acts.push(*i),
            Operand::Const(c) => consts.push(*c),
        }
    }
    (acts, consts)
}

fn add_like(l: &Lowering, node: &NodeProto, ops: &[Operand], sign: i64) -> Result<Lowered, String> {
    let (acts, consts) = split(ops);
    match (acts.as_slice(), consts.as_slice()) {
        ([a, b], []) => {
            let (shape, index) = broadcast(l.shape(*a), l.shape(*b)).ok_or_else(|| {
                format!(
                    "shapes {:?} and {:?} do not broadcast",
                    l.shape(*a),
                    l.shape(*b)
                )
            })?;
            Ok(Lowered::Op(
                FloatOp::Add(Add { sign, index }),
                vec![*a, *b],
                shape,
            ))
        }
        ([a], [c]) => {
            let (shape, [ia, ic]) = broadcast(l.shape(*a), &c.shape).ok_or_else(|| {
                format!(
                    "shapes {:?} and {:?} do not broadcast",
                    l.shape(*a),
                    c.shape
                )
            })?;
            if shape.iter().product::<usize>() != ia.len()
                || ia.iter().enumerate().any(|(j, &i)| i as usize != j)
            {
                return expand::broadcast_first(l, node, &shape);
            }
            let first_is_const = matches!(ops[0], Operand::Const(_));
            if sign < 0 && first_is_const {
                // c − a: a dot product with weight −1 and the constant as its bias.
                let terms = (0..ia.len() as u32).map(|j| vec![(0, j, -1.0)]).collect();
                let b = ic.iter().map(|&i| c.data[i as usize]).collect();
                let op = FloatOp::SparseDot(crate::float_op::SparseDot { terms, b });
                return Ok(Lowered::Op(op, vec![*a], shape));
            }
            let c = ic
                .iter()
                .map(|&i| sign as f64 * c.data[i as usize])
                .collect();
            Ok(Lowered::Op(
                FloatOp::AddConst(AddConst { c }),
                vec![*a],
                shape,
            ))
        }
        _ => Err("needs at least one activation input".into()),
    }
}

fn add(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    add_like(l, node, ops, 1)
}

fn sub(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    add_like(l, node, ops, -1)
}

/// The first input, which must be an activation: its id and shape.
fn single(l: &Lowering, ops: &[Operand]) -> Result<(usize, Vec<usize>), String> {
    match ops.first() {
        Some(Operand::Act(a)) => Ok((*a, l.shape(*a).to_vec())),
        _ => Err("the first input must be an activation".into()),
    }
}

/// Every input, which must all be activations (variadic ops: `op` names them in errors).
fn all_acts(ops: &[Operand], op: &str) -> Result<Vec<usize>, String> {
    ops.iter()
        .map(|o| match o {
            Operand::Act(a) => Ok(*a),
            Operand::Const(_) => Err(format!("constant inputs to {op} are not supported")),
        })
        .collect()
}

/// The numpy broadcast of all the inputs' shapes.
fn broadcast_all(l: &Lowering, ids: &[usize]) -> Result<Vec<usize>, String> {
    let mut shape = l.shape(*ids.first().ok_or("no inputs")?).to_vec();
    for &i in &ids[1..] {
        shape = broadcast(&shape, l.shape(i))
            .ok_or("shapes do not broadcast")?
            .0;
    }
    Ok(shape)
}

fn relu(l: &Lowering, _: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let (a, shape) = single(l, ops)?;
    Ok(Lowered::Op(FloatOp::Relu(Relu), vec![a], shape))
}

fn identity(l: &Lowering, _: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let (a, shape) = single(l, ops)?;
    Ok(Lowered::Op(FloatOp::Reshape(Reshape), vec![a], shape))
}

fn flatten(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let (a, shape) = single(l, ops)?;
    let rank = shape.len() as i64;
    let axis = attr_i(node, "axis", 1);
    let axis = if axis < 0 { axis + rank } else { axis };
    if !(0..=rank).contains(&axis) {
        return Err(format!("axis {axis} out of range for rank {rank}"));
    }
    let outer: usize = shape[..axis as usize].iter().product();
    let inner: usize = shape[axis as usize..].iter().product();
    Ok(Lowered::Op(
        FloatOp::Reshape(Reshape),
        vec![a],
        vec![outer, inner],
    ))
}

fn reshape(l: &Lowering, _: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let (a, shape) = single(l, ops)?;
    let Some(Operand::Const(target)) = ops.get(1) else {
        return Err("the target shape must be a constant".into());
    };
    let total: usize = shape.iter().product();
    let mut out: Vec<i64> = target.data.iter().map(|&d| d as i64).collect();
    for (i, d) in out.iter_mut().enumerate() {
        if *d == 0 {
            *d = *shape.get(i).ok_or("0 in shape past the input rank")? as i64;
        }
    }
    let known: i64 = out.iter().filter(|&&d| d != -1).product();
    if let Some(d) = out.iter_mut().find(|d| **d == -1) {
        *d = if known > 0 { total as i64 / known } else { 0 };
    }
    let out: Vec<usize> = out.iter().map(|&d| d.max(0) as usize).collect();
    if out.iter().product::<usize>() != total {
        return Err(format!("cannot reshape {shape:?} to {out:?}"));
    }
    Ok(Lowered::Op(FloatOp::Reshape(Reshape), vec![a], out))
}

/// Constant: a tensor (`value`), or a scalar or list (`value_float(s)`, `value_int(s)`).
fn constant(_: &Lowering, node: &NodeProto, _: &[Operand]) -> Result<Lowered, String> {
    let a = node
        .attribute
        .first()
        .ok_or("a Constant needs a value attribute")?;
    let scalar = |x: f64| Const {
        shape: vec![],
        data: vec![x],
    };
    let list = |data: Vec<f64>| Const {
        shape: vec![data.len()],
        data,
    };
    Ok(Lowered::Const(match a.name.as_str() {
        "value" => {
            load_const(a.t.as_ref().ok_or("'value' holds no tensor")?).map_err(|e| e.to_string())?
        }
        "value_float" => scalar(f64::from(a.f)),
        "value_int" => scalar(a.i as f64),
        "value_floats" => list(a.floats.iter().map(|&x| f64::from(x)).collect()),
        "value_ints" => list(a.ints.iter().map(|&x| x as f64).collect()),
        other => return Err(format!("a Constant's '{other}' attribute is not supported")),
    }))
}
