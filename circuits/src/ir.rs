//! The quantized intermediate representation: a straight-line list of nodes over tensors.
//!
//! Tensor ids number the graph inputs first (`0..inputs.len()`), then one tensor per node in
//! node order. Every tensor is stored flat, row-major; shapes are kept for checks and for
//! people. Each node that computes something ends with a [`Requant`], which is where the
//! circuit proves the value's range.

use crate::ops::Op;
use crate::requant::Requant;
use serde::{Deserialize, Serialize};

/// Version of the compiled-model format; bump on any change to these structs
/// (3: input domains `[lo, hi]` proven by the circuit; the source file's hash).
pub const MODEL_VERSION: u32 = 3;

/// Index of a tensor: graph inputs first, then node outputs in node order.
pub type TensorId = usize;

/// The quantized values a graph input may take: every integer in `[lo, hi]`. It is part of
/// the statement a proof makes: the circuit proves every input value lies in it
/// ([`crate::input_domain`]), and `vk.bin` records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Domain {
    /// Smallest value.
    pub lo: i64,
    /// Largest value.
    pub hi: i64,
}

impl Domain {
    /// `[-2^bits, 2^bits)`, the domain calibration gives an input whose samples need `bits`
    /// bits (margin included).
    pub fn symmetric(bits: u32) -> Self {
        let half = 1i64 << bits.min(62);
        Self {
            lo: -half,
            hi: half - 1,
        }
    }

    /// Whether `v` lies in the domain.
    pub fn contains(&self, v: i128) -> bool {
        (self.lo as i128..=self.hi as i128).contains(&v)
    }

    /// Bits of `hi - lo`: the circuit's limb width must cover half of it.
    pub fn width_bits(&self) -> u32 {
        crate::fixed_point::bits_for(self.hi as i128 - self.lo as i128)
    }

    /// The domain as real numbers at `scale`.
    pub fn dequantized(&self, scale: u32) -> (f64, f64) {
        use crate::fixed_point::dequantize;
        (
            dequantize(self.lo as i128, scale),
            dequantize(self.hi as i128, scale),
        )
    }
}

/// A graph input: its shape, the scale it is quantized at and its domain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    /// Name in the ONNX graph.
    pub name: String,
    /// Shape (batch included).
    pub shape: Vec<usize>,
    /// log2 of the fixed-point scale.
    pub scale: u32,
    /// The quantized values the input may take (proven by the circuit).
    pub domain: Domain,
}

impl InputSpec {
    /// Number of values in the tensor.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// True for a tensor with no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A graph input fixed at compile time from the calibration sample (a parameter given as a
/// graph input: an integer shape, a `Resize`'s scales, a `Conv`'s weights): the circuit was
/// built for these values, so a later input must repeat them or leave the tensor out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixedInput {
    /// Position among the ONNX graph's inputs (initializers excluded).
    pub position: usize,
    /// Name in the ONNX graph.
    pub name: String,
    /// The tensor's shape.
    #[serde(default)]
    pub shape: Vec<usize>,
    /// The values the model was compiled for.
    pub values: Vec<f64>,
}

/// The graph inputs left when the `fixed` ones (by position) are dropped.
pub fn without_fixed<'a>(fixed: &[FixedInput], inputs: &'a [Vec<f64>]) -> Vec<&'a Vec<f64>> {
    inputs
        .iter()
        .enumerate()
        .filter(|(i, _)| !fixed.iter().any(|f| f.position == *i))
        .map(|(_, v)| v)
        .collect()
}

/// One node: an operator applied to earlier tensors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    /// Node name in the ONNX graph (used in every error about it).
    pub name: String,
    /// The ONNX op type it was lowered from.
    pub op_type: String,
    /// The lowered operator.
    pub op: Op,
    /// Input tensor ids.
    pub inputs: Vec<TensorId>,
    /// Output shape.
    pub shape: Vec<usize>,
    /// log2 of the output scale.
    pub scale: u32,
}

/// One function table: its key, its id in the circuit (from 1), its `(x, f(x))` rows.
pub type FnTable = (crate::ops::TableKey, u32, Vec<(i128, i128)>);

/// A compiled, quantized model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    /// [`MODEL_VERSION`] at the time of writing.
    pub version: u32,
    /// SHA-256 of the ONNX file the model was compiled from, hex (so that the compiled
    /// model's own hash also names its source).
    pub source_sha256: String,
    /// Graph inputs.
    pub inputs: Vec<InputSpec>,
    /// Nodes in execution order.
    pub nodes: Vec<Node>,
    /// Graph outputs, as tensor ids.
    pub outputs: Vec<TensorId>,
    /// Whether the inputs are public (placed in the instance column before the outputs).
    pub public_input: bool,
    /// Graph inputs fixed at compile time (not part of the circuit), by position.
    pub fixed_inputs: Vec<FixedInput>,
}

impl Model {
    /// Shape of a tensor.
    pub fn shape(&self, id: TensorId) -> &[usize] {
        match id.checked_sub(self.inputs.len()) {
            None => &self.inputs[id].shape,
            Some(n) => &self.nodes[n].shape,
        }
    }

    /// log2 scale of a tensor.
    pub fn scale(&self, id: TensorId) -> u32 {
        match id.checked_sub(self.inputs.len()) {
            None => self.inputs[id].scale,
            Some(n) => self.nodes[n].scale,
        }
    }

    /// Number of values in a tensor.
    pub fn len(&self, id: TensorId) -> usize {
        self.shape(id).iter().product()
    }

    /// Number of tensors (inputs plus nodes).
    pub fn num_tensors(&self) -> usize {
        self.inputs.len() + self.nodes.len()
    }

    /// Checks that every id refers to an earlier tensor and every op is consistent with its
    /// input shapes, so that executing or laying out the model cannot index out of bounds.
    pub fn validate(&self) -> Result<(), String> {
        if self.version != MODEL_VERSION {
            return Err(format!(
                "compiled model version {} (this build reads {MODEL_VERSION})",
                self.version
            ));
        }
        for (n, node) in self.nodes.iter().enumerate() {
            let own = self.inputs.len() + n;
            if node.inputs.iter().any(|&i| i >= own) {
                return Err(format!("node '{}' reads a later tensor", node.name));
            }
            let shapes: Vec<&[usize]> = node.inputs.iter().map(|&i| self.shape(i)).collect();
            node.op
                .operator()
                .check(&shapes, &node.shape)
                .map_err(|e| format!("node '{}': {e}", node.name))?;
        }
        if self.outputs.is_empty() || self.outputs.iter().any(|&o| o >= self.num_tensors()) {
            return Err("bad output list".into());
        }
        if let Some(i) = self.inputs.iter().find(|i| i.domain.lo > i.domain.hi) {
            return Err(format!("input '{}' has an empty domain", i.name));
        }
        Ok(())
    }

    /// The function tables the model uses, each with its id (from 1) and rows.
    pub fn fn_tables(&self) -> Vec<FnTable> {
        let mut seen = std::collections::BTreeMap::new();
        for (key, rows) in self.nodes.iter().filter_map(|n| n.op.operator().table()) {
            seen.entry(key).or_insert(rows);
        }
        seen.into_iter()
            .enumerate()
            .map(|(i, (k, rows))| (k, i as u32 + 1, rows))
            .collect()
    }

    /// The circuit's inputs from the ONNX graph's: a list with the fixed inputs (which must
    /// hold the compiled values) loses them; a list without them is taken as it is.
    pub fn circuit_inputs<'a>(
        &self,
        inputs: &'a [Vec<f64>],
    ) -> Result<Vec<&'a Vec<f64>>, crate::EvalError> {
        if self.fixed_inputs.is_empty() || inputs.len() == self.inputs.len() {
            return Ok(inputs.iter().collect());
        }
        if inputs.len() != self.inputs.len() + self.fixed_inputs.len() {
            return Err(crate::EvalError::InputCount {
                expected: self.inputs.len(),
                got: inputs.len(),
            });
        }
        for f in &self.fixed_inputs {
            let given = &inputs[f.position];
            let same =
                given.len() == f.values.len() && given.iter().zip(&f.values).all(|(&g, &v)| g == v);
            if !same {
                return Err(crate::EvalError::FixedInput {
                    name: f.name.clone(),
                    expected: f.values.clone(),
                });
            }
        }
        Ok(without_fixed(&self.fixed_inputs, inputs))
    }

    /// Every node's requantization, with the node's name.
    pub fn requants(&self) -> Vec<(String, Requant)> {
        self.nodes
            .iter()
            .filter_map(|n| n.op.operator().requant().map(|r| (n.name.clone(), r)))
            .collect()
    }
}
