//! Reference execution: runs a [`Model`] on integers and records every tensor.
//!
//! This is the oracle: the circuit's witness is taken from the [`Trace`], and tests compare
//! the trace's outputs with tract's float outputs.

use crate::error::EvalError;
use crate::fixed_point::{dequantize, quantize, to_field};
use crate::ir::Model;
use crate::Fr;

/// Every tensor's integer values for one execution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// Indexed by tensor id.
    pub tensors: Vec<Vec<i128>>,
}

/// Quantizes float inputs at the model's input scales and checks count, lengths,
/// finiteness and that each value lies in its input's domain (which the circuit proves).
pub fn quantize_inputs(model: &Model, inputs: &[Vec<f64>]) -> Result<Vec<Vec<i128>>, EvalError> {
    let inputs = model.circuit_inputs(inputs)?;
    if inputs.len() != model.inputs.len() {
        return Err(EvalError::InputCount {
            expected: model.inputs.len(),
            got: inputs.len(),
        });
    }
    model
        .inputs
        .iter()
        .zip(inputs)
        .map(|(spec, values)| {
            if values.len() != spec.len() {
                return Err(EvalError::InputLength {
                    name: spec.name.clone(),
                    shape: spec.shape.clone(),
                    expected: spec.len(),
                    got: values.len(),
                });
            }
            values
                .iter()
                .enumerate()
                .map(|(index, &v)| {
                    let q = quantize(v, spec.scale).ok_or_else(|| EvalError::NotFinite {
                        name: spec.name.clone(),
                        index,
                    })?;
                    if !spec.domain.contains(q) {
                        let (lo, hi) = spec.domain.dequantized(spec.scale);
                        return Err(EvalError::InputOutOfDomain {
                            name: spec.name.clone(),
                            index,
                            value: v,
                            lo,
                            hi,
                        });
                    }
                    Ok(q)
                })
                .collect()
        })
        .collect()
}

/// Runs the model on quantized inputs.
pub fn execute(model: &Model, inputs: Vec<Vec<i128>>) -> Result<Trace, EvalError> {
    let mut tensors = inputs;
    for node in &model.nodes {
        let ins: Vec<&[i128]> = node.inputs.iter().map(|&i| tensors[i].as_slice()).collect();
        let out = node.op.operator().reference(&node.name, &ins)?;
        tensors.push(out);
    }
    Ok(Trace { tensors })
}

impl Trace {
    /// The quantized graph outputs.
    pub fn outputs(&self, model: &Model) -> Vec<Vec<i128>> {
        model
            .outputs
            .iter()
            .map(|&o| self.tensors[o].clone())
            .collect()
    }

    /// The graph outputs as floats.
    pub fn dequantized_outputs(&self, model: &Model) -> Vec<Vec<f64>> {
        model
            .outputs
            .iter()
            .map(|&o| {
                self.tensors[o]
                    .iter()
                    .map(|&q| dequantize(q, model.scale(o)))
                    .collect()
            })
            .collect()
    }

    /// The instance column: public inputs (if public), then the outputs, flattened.
    pub fn instances(&self, model: &Model) -> Vec<Fr> {
        self.instance_values(model)
            .into_iter()
            .map(to_field)
            .collect()
    }

    /// The public values as integers, in instance order.
    pub fn instance_values(&self, model: &Model) -> Vec<i128> {
        let inputs = if model.public_input {
            &self.tensors[..model.inputs.len()]
        } else {
            &[]
        };
        inputs
            .iter()
            .flatten()
            .chain(model.outputs.iter().flat_map(|&o| &self.tensors[o]))
            .copied()
            .collect()
    }
}
