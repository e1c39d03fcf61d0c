//! Calibration: run the float graph on sample inputs, choose a power-of-two scale and a
//! domain for every input, have every node quantize itself at those scales (each float op's
//! module does its own, see [`crate::float_op`] and [`crate::quantize`]), and measure the
//! quantized model against tract's float outputs.

use crate::error::OnnxError;
use crate::graph::FloatGraph;
use crate::input_range::{self, InputRange};
use crate::load::LoadedModel;
use crate::quantize::{scale_for, QuantCtx};
use crate::tract_reference::FloatReference;
use serde::{Deserialize, Serialize};
use zkonnx_circuits::execute::{execute, quantize_inputs};
use zkonnx_circuits::fixed_point::{bits_for, quantize};
use zkonnx_circuits::ir::{Domain, InputSpec, Model, Node, MODEL_VERSION};
use zkonnx_circuits::EvalError;

/// Settings of calibration: what is public, the input domains, and how many bits each
/// tensor, weight and table keeps. (How the circuit is laid out is the planner's:
/// `zkonnx_circuits::planner::PlanOptions`.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalibrateOptions {
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
}

impl Default for CalibrateOptions {
    fn default() -> Self {
        Self {
            public_input: false,
            input_ranges: Vec::new(),
            precision_bits: 12,
            weight_bits: 12,
            margin_bits: 1,
            table_bits: 10,
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
                return Err(OnnxError::Range {
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
    opts: &CalibrateOptions,
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
/// sets the scale), `{0, 1}` at scale 0 for a boolean, else from the samples' largest
/// magnitude with the margin.
fn input_spec(
    (name, shape): &(String, Vec<usize>),
    max_abs: f64,
    range: Option<&InputRange>,
    boolean: bool,
    opts: &CalibrateOptions,
) -> Result<InputSpec, OnnxError> {
    let (scale, domain) = match range {
        None if boolean => (0, Domain { lo: 0, hi: 1 }),
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
    opts: &CalibrateOptions,
) -> Result<Model, OnnxError> {
    let inputs = graph
        .inputs
        .iter()
        .zip(user_ranges)
        .enumerate()
        .map(|(i, (input, range))| {
            let boolean = graph.boolean_inputs.get(i).copied().unwrap_or(false);
            input_spec(input, ranges.tensor[i], range.as_ref(), boolean, opts)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut scales: Vec<u32> = inputs.iter().map(|i| i.scale).collect();
    let mut nodes = Vec::new();
    for (n, fnode) in graph.nodes.iter().enumerate() {
        let in_scales: Vec<u32> = fnode.inputs.iter().map(|&i| scales[i]).collect();
        let in_maxes: Vec<f64> = fnode.inputs.iter().map(|&i| ranges.tensor[i]).collect();
        let ctx = QuantCtx {
            node: fnode,
            in_scales: &in_scales,
            want: scale_for(ranges.tensor[graph.inputs.len() + n], opts.precision_bits),
            max_pre: ranges.pre[n],
            in_maxes: &in_maxes,
            opts,
        };
        let (op, scale) = fnode.op.operator().quantize(&ctx)?;
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
    let (reference, mut tract_error) =
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
        // A model tract builds but cannot run (ReduceMax of booleans) is measured against
        // the float graph, like one it cannot build.
        let float = match reference.as_ref().map(|r| r.run(s)) {
            Some(Ok(f)) => f,
            Some(Err(e)) => {
                tract_error.get_or_insert(e.to_string());
                graph.outputs.iter().map(|&o| ours[o].clone()).collect()
            }
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
        bits: node.op.operator().requant().map(|r| r.bits),
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
