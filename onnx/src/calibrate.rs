//! Calibration: run the float graph on sample inputs, choose a power-of-two scale and a
//! domain for every tensor, quantize the weights, and measure the quantized model against
//! tract's float outputs.
//!
//! Scales: a tensor whose largest magnitude is `m` gets scale `precision_bits - ⌈log2 m⌉`
//! (clamped to `[0, 24]`), so every tensor keeps about `precision_bits` significant bits.
//! Weights get `weight_bits` the same way. Domains: the quantized pre-activation's bit
//! length plus `margin_bits` (each margin bit doubles the headroom over the samples).

use crate::error::OnnxError;
use crate::graph::{FloatGraph, FloatOp};
use crate::input_range::{self, InputRange};
use crate::load::LoadedModel;
use crate::reference::FloatReference;
use serde::{Deserialize, Serialize};
use zkonnx_circuits::execute::{execute, quantize_inputs};
use zkonnx_circuits::fixed_point::{bits_for, dequantize, quantize};
use zkonnx_circuits::ir::{Domain, InputSpec, Model, Node, MODEL_VERSION};
use zkonnx_circuits::ops::{
    Elementwise, Embedding, Gather, Linear, MatMul, Op, Reshape, SparseDot, TableFn,
};
use zkonnx_circuits::requant::{Requant, MAX_BITS};
use zkonnx_circuits::EvalError;

/// Largest scale (log2) a tensor may get.
const MAX_SCALE: i32 = 24;

/// Settings of `compile`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompileOptions {
    /// Make the inputs public instances.
    pub public_input: bool,
    /// The domain of inputs (part of what a proof states); an input without one gets its
    /// calibrated domain `[-2^bits, 2^bits)` (see [`crate::input_range::resolve`]).
    pub input_ranges: Vec<InputRange>,
    /// Significant bits kept per activation tensor.
    pub precision_bits: u32,
    /// Significant bits kept per weight matrix.
    pub weight_bits: u32,
    /// Headroom bits added to every calibrated domain.
    pub margin_bits: u32,
    /// Input bits of function tables: each table spans `[-2^bits, 2^bits)`.
    pub table_bits: u32,
    /// Force the dot-product lane width (one of `LANE_CHOICES`); `None` lets the cost
    /// model choose.
    pub lanes: Option<usize>,
    /// What the planner optimizes for when it chooses the lane width.
    pub target: zkonnx_circuits::layout::Target,
}

impl Default for CompileOptions {
    fn default() -> Self {
        Self {
            public_input: false,
            input_ranges: Vec::new(),
            precision_bits: 12,
            weight_bits: 12,
            margin_bits: 1,
            table_bits: 10,
            lanes: None,
            target: Default::default(),
        }
    }
}

/// Float-vs-quantized error of one output over the samples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputError {
    /// Output name.
    pub name: String,
    /// Largest |quantized − float| over all values and samples.
    pub max_abs_error: f64,
    /// Largest |float| over all values and samples.
    pub max_abs_float: f64,
    /// `max_abs_error / max_abs_float`.
    pub relative_error: f64,
    /// Samples whose quantized argmax equals the float argmax.
    pub argmax_agree: usize,
}

/// Per-tensor calibration result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TensorRange {
    /// Node or input name.
    pub name: String,
    /// log2 scale.
    pub scale: u32,
    /// Domain bits of a node's output (values in `[-2^bits, 2^bits)`), if it is
    /// range-checked.
    pub bits: Option<u32>,
    /// An input's domain `[lo, hi]` (the statement's `D`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<[f64; 2]>,
    /// Largest float magnitude seen (before a fused ReLU).
    pub max_abs: f64,
}

/// What calibration measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalibrationReport {
    /// Number of samples.
    pub samples: usize,
    /// Per output error against tract.
    pub outputs: Vec<OutputError>,
    /// Per tensor scale and domain.
    pub tensors: Vec<TensorRange>,
    /// Largest difference between zkonnx's float lowering and tract (a lowering check).
    pub lowering_max_abs_diff: f64,
    /// Set when tract could not run the model: the errors above are then measured against
    /// zkonnx's own float lowering instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tract_error: Option<String>,
}

/// Magnitudes seen over the samples: per tensor (after ReLU) and per node before ReLU.
struct Ranges {
    tensor: Vec<f64>,
    pre: Vec<f64>,
}

fn measure(graph: &FloatGraph, samples: &[Vec<Vec<f64>>]) -> Result<Ranges, OnnxError> {
    let n_t = graph.inputs.len() + graph.nodes.len();
    let mut r = Ranges {
        tensor: vec![0.0; n_t],
        pre: vec![0.0; graph.nodes.len()],
    };
    let max_abs = |v: &[f64]| v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    for s in samples {
        let (tensors, pre) = graph.run(s);
        for (i, t) in tensors.iter().enumerate() {
            if let Some(n) = i
                .checked_sub(graph.inputs.len())
                .filter(|_| t.iter().any(|v| !v.is_finite()))
            {
                let node = &graph.nodes[n];
                return Err(OnnxError::Node {
                    op_type: node.op_type.clone(),
                    node: node.name.clone(),
                    reason: "the sample input drives it outside its domain (the float result is NaN or infinite)".into(),
                });
            }
            r.tensor[i] = r.tensor[i].max(max_abs(t));
        }
        for (i, p) in pre.iter().enumerate() {
            r.pre[i] = r.pre[i].max(max_abs(p));
        }
    }
    Ok(r)
}

/// Scale (log2) keeping `bits` significant bits of values up to `max_abs`.
fn scale_for(max_abs: f64, bits: u32) -> u32 {
    if max_abs <= 0.0 || !max_abs.is_finite() {
        return bits.min(MAX_SCALE as u32);
    }
    (bits as i32 - max_abs.log2().ceil() as i32).clamp(0, MAX_SCALE) as u32
}

fn check_samples(graph: &FloatGraph, samples: &[Vec<Vec<f64>>]) -> Result<(), OnnxError> {
    if samples.is_empty() {
        return Err(OnnxError::Invalid(
            "calibration needs at least one sample input".into(),
        ));
    }
    for s in samples {
        if s.len() != graph.inputs.len() {
            return Err(EvalError::InputCount {
                expected: graph.inputs.len(),
                got: s.len(),
            }
            .into());
        }
        for ((name, shape), v) in graph.inputs.iter().zip(s) {
            let expected: usize = shape.iter().product();
            if v.len() != expected {
                return Err(EvalError::InputLength {
                    name: name.clone(),
                    shape: shape.clone(),
                    expected,
                    got: v.len(),
                }
                .into());
            }
            if let Some(index) = v.iter().position(|x| !x.is_finite()) {
                return Err(EvalError::NotFinite {
                    name: name.clone(),
                    index,
                }
                .into());
            }
        }
    }
    Ok(())
}

/// Calibrates and quantizes a loaded model on `samples` (each: one value list per input).
pub fn calibrate(
    loaded: &LoadedModel,
    samples: &[Vec<Vec<f64>>],
    opts: &CompileOptions,
) -> Result<(Model, CalibrationReport), OnnxError> {
    let fixed_model;
    let loaded = if loaded.shape_inputs.is_empty() {
        loaded
    } else {
        let mut l = loaded.clone();
        l.fix_shape_inputs(samples.first().map_or(&[][..], Vec::as_slice))?;
        fixed_model = l;
        &fixed_model
    };
    let circuit_samples: Vec<Vec<Vec<f64>>> =
        samples.iter().map(|s| loaded.circuit_sample(s)).collect();
    check_samples(&loaded.graph, &circuit_samples)?;
    let names: Vec<String> = loaded.graph.inputs.iter().map(|(n, _)| n.clone()).collect();
    let user_ranges = input_range::resolve(&names, &opts.input_ranges)?;
    input_range::check_samples(&names, &user_ranges, &circuit_samples)?;
    let mut graph = loaded.graph.clone();
    graph.fuse();
    let ranges = measure(&graph, &circuit_samples)?;
    let mut model = quantize_graph(&graph, &ranges, &user_ranges, opts)?;
    model.fixed_inputs = loaded.fixed.clone();
    model.source_sha256 = loaded.hash.clone();
    model.validate().map_err(OnnxError::Invalid)?;
    let report = evaluate(loaded, &graph, &model, samples, &circuit_samples, &ranges)?;
    Ok((model, report))
}

/// An input's scale and domain: from the user's range when there is one (its larger end
/// sets the scale), else from the samples' largest magnitude with the margin.
fn input_spec(
    (name, shape): &(String, Vec<usize>),
    max_abs: f64,
    range: Option<&InputRange>,
    opts: &CompileOptions,
) -> Result<InputSpec, OnnxError> {
    let (scale, domain) = match range {
        Some(r) => {
            let scale = scale_for(r.lo.abs().max(r.hi.abs()).max(max_abs), opts.precision_bits);
            let q = |v: f64| {
                quantize(v, scale)
                    .map(|q| q as i64)
                    .ok_or_else(|| OnnxError::Invalid(format!("--input-range {r} is out of range")))
            };
            (
                scale,
                Domain {
                    lo: q(r.lo)?,
                    hi: q(r.hi)?,
                },
            )
        }
        None => {
            let scale = scale_for(max_abs, opts.precision_bits);
            let q = (max_abs * 2f64.powi(scale as i32)).round() as i128;
            (
                scale,
                Domain::symmetric((bits_for(q) + opts.margin_bits).max(1)),
            )
        }
    };
    Ok(InputSpec {
        name: name.clone(),
        shape: shape.clone(),
        scale,
        domain,
    })
}

fn quantize_graph(
    graph: &FloatGraph,
    ranges: &Ranges,
    user_ranges: &[Option<InputRange>],
    opts: &CompileOptions,
) -> Result<Model, OnnxError> {
    let inputs = graph
        .inputs
        .iter()
        .zip(user_ranges)
        .enumerate()
        .map(|(i, (input, range))| input_spec(input, ranges.tensor[i], range.as_ref(), opts))
        .collect::<Result<Vec<_>, _>>()?;
    let mut scales: Vec<u32> = inputs.iter().map(|i| i.scale).collect();
    let mut nodes = Vec::new();
    for (n, fnode) in graph.nodes.iter().enumerate() {
        let in_scales: Vec<u32> = fnode.inputs.iter().map(|&i| scales[i]).collect();
        let want = scale_for(ranges.tensor[graph.inputs.len() + n], opts.precision_bits);
        let in_max = fnode.inputs.first().map_or(0.0, |&i| ranges.tensor[i]);
        let (op, scale) = if let FloatOp::Fn { kind } = &fnode.op {
            quantize_table(fnode, *kind, in_scales[0], in_max, want, opts)?
        } else {
            quantize_op(fnode, &in_scales, want, ranges.pre[n], opts)?
        };
        scales.push(scale);
        nodes.push(Node {
            name: fnode.name.clone(),
            op_type: fnode.op_type.clone(),
            op,
            inputs: fnode.inputs.clone(),
            shape: fnode.shape.clone(),
            scale,
        });
    }
    Ok(Model {
        version: MODEL_VERSION,
        source_sha256: String::new(),
        inputs,
        nodes,
        outputs: graph.outputs.clone(),
        public_input: opts.public_input,
        fixed_inputs: vec![],
    })
}

/// Quantizes a table function: requantize the input to a table scale whose domain
/// `[-2^table_bits, 2^table_bits)` holds the calibrated inputs with the margin.
fn quantize_table(
    node: &crate::graph::FloatNode,
    kind: zkonnx_circuits::ops::FnKind,
    s_in: u32,
    in_max: f64,
    want: u32,
    opts: &CompileOptions,
) -> Result<(Op, u32), OnnxError> {
    let bits = opts.table_bits;
    let s_t = scale_for(in_max, bits.saturating_sub(opts.margin_bits)).min(MAX_SCALE as u32);
    let (mul, shift) = if s_t >= s_in {
        (1i64 << (s_t - s_in), 0)
    } else {
        (1, s_in - s_t)
    };
    if shift > MAX_BITS {
        return Err(OnnxError::Node {
            op_type: node.op_type.clone(),
            node: node.name.clone(),
            reason: format!("needs a {shift}-bit shift, more than {MAX_BITS}"),
        });
    }
    let requant = Requant {
        shift,
        bits,
        relu: false,
    };
    let op = TableFn {
        kind,
        mul,
        requant,
        in_scale: s_t,
        out_scale: want,
    };
    Ok((Op::TableFn(op), want))
}

/// Quantizes one node; returns the op and its output scale.
fn quantize_op(
    node: &crate::graph::FloatNode,
    in_scales: &[u32],
    want: u32,
    max_pre: f64,
    opts: &CompileOptions,
) -> Result<(Op, u32), OnnxError> {
    let err = |reason: String| OnnxError::Node {
        op_type: node.op_type.clone(),
        node: node.name.clone(),
        reason,
    };
    let q =
        |x: f64, s: u32| quantize(x, s).ok_or_else(|| err(format!("value {x} is out of range")));
    let domain = |s_out: u32| -> u32 {
        let q = (max_pre * 2f64.powi(s_out as i32)).round() as i128;
        (bits_for(q) + opts.margin_bits).max(1)
    };
    let requant = |shift: u32, s_out: u32| -> Result<Requant, OnnxError> {
        let bits = domain(s_out);
        if shift > MAX_BITS || bits > MAX_BITS {
            return Err(err(format!(
                "needs a {}-bit range, more than {MAX_BITS}",
                shift.max(bits)
            )));
        }
        Ok(Requant {
            shift,
            bits,
            relu: node.relu,
        })
    };
    let s_in = in_scales[0];
    match &node.op {
        FloatOp::Linear {
            in_dim,
            out_dim,
            w,
            b,
        } => {
            let max_w = w.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            let mut s_w = scale_for(max_w, opts.weight_bits);
            let s_out = want.min(s_in + s_w);
            if s_in + s_w - s_out > MAX_BITS {
                s_w = MAX_BITS + s_out - s_in;
            }
            let weights = w
                .iter()
                .map(|&x| q(x, s_w).map(|v| v as i64))
                .collect::<Result<_, _>>()?;
            let bias = b
                .iter()
                .map(|&x| q(x, s_in + s_w).map(|v| v as i64))
                .collect::<Result<_, _>>()?;
            let rq = requant(s_in + s_w - s_out, s_out)?;
            let op = Linear {
                in_dim: *in_dim,
                out_dim: *out_dim,
                weights,
                bias,
                requant: rq,
            };
            Ok((Op::Linear(op), s_out))
        }
        FloatOp::AddConst { c } => {
            let s_out = want.min(s_in);
            let constant = c
                .iter()
                .map(|&x| q(x, s_in).map(|v| v as i64))
                .collect::<Result<_, _>>()?;
            let rq = requant(s_in - s_out, s_out)?;
            Ok((
                Op::Elementwise(Elementwise {
                    mul: vec![1],
                    constant,
                    index: vec![vec![]],
                    requant: rq,
                    product: 0,
                }),
                s_out,
            ))
        }
        FloatOp::Add { sign, index } => {
            let smax = s_in.max(in_scales[1]);
            let s_out = want.min(smax);
            let mul = vec![1i64 << (smax - s_in), sign << (smax - in_scales[1])];
            let rq = requant(smax - s_out, s_out)?;
            let op = Elementwise {
                mul,
                constant: vec![],
                index: index.to_vec(),
                requant: rq,
                product: 0,
            };
            Ok((Op::Elementwise(op), s_out))
        }
        FloatOp::Relu => {
            let rq = Requant {
                relu: true,
                ..requant(0, s_in)?
            };
            Ok((
                Op::Elementwise(Elementwise {
                    mul: vec![1],
                    constant: vec![],
                    index: vec![vec![]],
                    requant: rq,
                    product: 0,
                }),
                s_in,
            ))
        }
        FloatOp::Reshape => Ok((Op::Reshape(Reshape {}), s_in)),
        FloatOp::Mul { index, bias } => {
            let s_pre = s_in + in_scales[1];
            let s_out = want.min(s_pre);
            let rq = requant(s_pre - s_out, s_out)?;
            let constant = bias
                .iter()
                .map(|&x| q(x, s_pre).map(|v| v as i64))
                .collect::<Result<_, _>>()?;
            let op = Elementwise {
                mul: vec![0, 0],
                constant,
                index: index.to_vec(),
                requant: rq,
                product: 1,
            };
            Ok((Op::Elementwise(op), s_out))
        }
        FloatOp::Fn { .. } => Err(err("table functions are quantized by quantize_table".into())),
        FloatOp::MatMul {
            dims: [m, k, n],
            a_index,
            b_index,
        } => {
            let s_pre = s_in + in_scales[1];
            let s_out = want.min(s_pre);
            let op = MatMul {
                m: *m,
                k: *k,
                n: *n,
                a_index: a_index.clone(),
                b_index: b_index.clone(),
                requant: requant(s_pre - s_out, s_out)?,
            };
            Ok((Op::MatMul(op), s_out))
        }
        FloatOp::Embed { table, dim } => {
            let table = table
                .iter()
                .map(|&x| q(x, want).map(|v| v as i64))
                .collect::<Result<Vec<_>, _>>()?;
            let bits = bits_for(table.len() as i128).max(1);
            if s_in > MAX_BITS || bits > MAX_BITS {
                return Err(err(format!(
                    "needs a {}-bit range, more than {MAX_BITS}",
                    s_in.max(bits)
                )));
            }
            let requant = Requant {
                shift: s_in,
                bits,
                relu: false,
            };
            let op = Embedding {
                dim: *dim,
                table,
                requant,
            };
            Ok((Op::Embedding(op), want))
        }
        FloatOp::Gather { sources } if in_scales.iter().all(|&s| s == s_in) => Ok((
            Op::Gather(Gather {
                sources: sources.clone(),
            }),
            s_in,
        )),
        FloatOp::Gather { sources } => {
            // Inputs at different scales (a Concat): align them with a one-term dot each.
            let terms = sources.iter().map(|&(k, i)| vec![(k, i, 1.0)]).collect();
            let b = vec![0.0; sources.len()];
            let node = crate::graph::FloatNode {
                op: FloatOp::SparseDot { terms, b },
                ..node.clone()
            };
            quantize_op(&node, in_scales, want, max_pre, opts)
        }
        FloatOp::SparseDot { terms, b } => {
            let max_w = terms.iter().flatten().fold(0.0f64, |m, t| m.max(t.2.abs()));
            let smax = in_scales.iter().copied().max().unwrap_or(0);
            // Integer weights (sums, differences, copies) are exact at scale 0: the result is
            // exact at the inputs' scale and needs no shift.
            let integral = terms.iter().flatten().all(|t| t.2.fract() == 0.0)
                && b.iter()
                    .all(|&x| quantize(x, smax).is_some_and(|q| dequantize(q, smax) == x));
            let mut s_w = if integral && max_w < (1u64 << opts.weight_bits) as f64 {
                0
            } else {
                scale_for(max_w, opts.weight_bits)
            };
            let s_out = want.min(smax + s_w);
            if smax + s_w - s_out > MAX_BITS {
                s_w = MAX_BITS + s_out - smax;
            }
            // A term on input k carries the weight at scale s_w + (smax - s_k), so every
            // product lands at scale smax + s_w.
            let qterms = terms
                .iter()
                .map(|t| {
                    t.iter()
                        .map(|&(k, i, w)| {
                            q(w, s_w + smax - in_scales[k as usize]).map(|v| (k, i, v as i64))
                        })
                        .collect::<Result<Vec<_>, _>>()
                })
                .collect::<Result<Vec<_>, _>>()?;
            let bias = b
                .iter()
                .map(|&x| q(x, smax + s_w).map(|v| v as i64))
                .collect::<Result<_, _>>()?;
            let rq = requant(smax + s_w - s_out, s_out)?;
            Ok((
                Op::SparseDot(SparseDot {
                    terms: qterms,
                    bias,
                    requant: rq,
                }),
                s_out,
            ))
        }
    }
}

/// Measures the quantized model against tract; `samples` hold every graph input (tract and
/// the quantized model's own check of fixed inputs read them), `circuit_samples` the same
/// samples without the fixed inputs (the float graph reads those).
fn evaluate(
    loaded: &LoadedModel,
    graph: &FloatGraph,
    model: &Model,
    samples: &[Vec<Vec<f64>>],
    circuit_samples: &[Vec<Vec<f64>>],
    ranges: &Ranges,
) -> Result<CalibrationReport, OnnxError> {
    let (reference, tract_error) =
        match FloatReference::new(&loaded.proto, &loaded.graph, &loaded.fixed) {
            Ok(r) => (Some(r), None),
            Err(e) => (None, Some(e.to_string())),
        };
    let mut outputs: Vec<OutputError> = graph
        .output_names
        .iter()
        .map(|n| OutputError {
            name: n.clone(),
            max_abs_error: 0.0,
            max_abs_float: 0.0,
            relative_error: 0.0,
            argmax_agree: 0,
        })
        .collect();
    let mut lowering = 0.0f64;
    for (s, circuit_s) in samples.iter().zip(circuit_samples) {
        let (ours, _) = graph.run(circuit_s);
        let float = match &reference {
            Some(r) => r.run(s)?,
            None => graph.outputs.iter().map(|&o| ours[o].clone()).collect(),
        };
        let trace = execute(model, quantize_inputs(model, s)?)?;
        for (o, (f, q)) in float
            .iter()
            .zip(trace.dequantized_outputs(model))
            .enumerate()
        {
            let ours_o = &ours[graph.outputs[o]];
            lowering = f
                .iter()
                .zip(ours_o)
                .fold(lowering, |m, (a, b)| m.max((a - b).abs()));
            let e = &mut outputs[o];
            for (a, b) in f.iter().zip(&q) {
                e.max_abs_error = e.max_abs_error.max((a - b).abs());
                e.max_abs_float = e.max_abs_float.max(a.abs());
            }
            e.argmax_agree += (argmax(f) == argmax(&q)) as usize;
        }
    }
    for e in &mut outputs {
        e.relative_error = if e.max_abs_float > 0.0 {
            e.max_abs_error / e.max_abs_float
        } else {
            e.max_abs_error
        };
    }
    Ok(CalibrationReport {
        samples: samples.len(),
        outputs,
        tensors: tensor_ranges(model, ranges),
        lowering_max_abs_diff: lowering,
        tract_error,
    })
}

fn tensor_ranges(model: &Model, ranges: &Ranges) -> Vec<TensorRange> {
    let inputs = model.inputs.iter().enumerate().map(|(i, s)| TensorRange {
        name: s.name.clone(),
        scale: s.scale,
        bits: None,
        domain: Some(s.domain.dequantized(s.scale).into()),
        max_abs: ranges.tensor[i],
    });
    let nodes = model.nodes.iter().enumerate().map(|(n, node)| TensorRange {
        name: node.name.clone(),
        scale: node.scale,
        bits: node.op.requant().map(|r| r.bits),
        domain: None,
        max_abs: ranges.pre[n],
    });
    inputs.chain(nodes).collect()
}

/// Index of the largest value (first on ties).
pub fn argmax(v: &[f64]) -> usize {
    v.iter()
        .enumerate()
        .fold((0, f64::NEG_INFINITY), |(bi, bv), (i, &x)| {
            if x > bv {
                (i, x)
            } else {
                (bi, bv)
            }
        })
        .0
}
