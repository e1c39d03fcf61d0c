//! The float reference: the original ONNX model run by tract.

use crate::error::OnnxError;
use crate::graph::FloatGraph;
use crate::lower::{graph_inputs, is_integer};
use tract_onnx::pb::ModelProto;
use tract_onnx::prelude::*;
use zkonnx_circuits::ir::FixedInput;

/// A tract plan for the model, ready to run on its inputs (integer inputs as i64).
pub struct FloatReference {
    plan: std::sync::Arc<TypedSimplePlan>,
    /// Per graph input: shape, and whether it is an integer tensor.
    inputs: Vec<(Vec<usize>, bool)>,
}

impl FloatReference {
    /// Builds the tract plan with the input shapes the lowering fixed; fixed inputs are
    /// given to tract as constants.
    pub fn new(
        proto: &ModelProto,
        graph: &FloatGraph,
        fixed: &[FixedInput],
    ) -> Result<Self, OnnxError> {
        let t = |e: TractError| OnnxError::Tract(format!("{e:#}"));
        let mut model = tract_onnx::onnx().model_for_proto_model(proto).map_err(t)?;
        let mut shapes = graph.inputs.iter().map(|(_, s)| s.clone());
        let mut inputs = Vec::new();
        for (i, v) in graph_inputs(proto).into_iter().enumerate() {
            let int = is_integer(v);
            let fact: InferenceFact = if let Some(f) = fixed.iter().find(|f| f.position == i) {
                inputs.push((vec![f.values.len()], true));
                tract_ndarray::Array1::from(f.values.clone())
                    .into_tensor()
                    .into()
            } else {
                let shape = shapes.next().unwrap_or_default();
                inputs.push((shape.clone(), int));
                if int {
                    i64::fact(&shape).into()
                } else {
                    f32::fact(&shape).into()
                }
            };
            model = model.with_input_fact(i, fact).map_err(t)?;
        }
        let plan = model
            .into_optimized()
            .map_err(t)?
            .into_runnable()
            .map_err(t)?;
        Ok(Self { plan, inputs })
    }

    /// Runs the model; returns each output flattened.
    pub fn run(&self, inputs: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, OnnxError> {
        let t = |e: TractError| OnnxError::Tract(format!("{e:#}"));
        let mut values = TVec::new();
        let shape_err = |e: tract_ndarray::ShapeError| OnnxError::Tract(e.to_string());
        for ((shape, int), data) in self.inputs.iter().zip(inputs) {
            let tensor = if *int {
                let data: Vec<i64> = data.iter().map(|&v| v as i64).collect();
                tract_ndarray::ArrayD::from_shape_vec(shape.as_slice(), data)
                    .map_err(shape_err)?
                    .into_tensor()
            } else {
                let data: Vec<f32> = data.iter().map(|&v| v as f32).collect();
                tract_ndarray::ArrayD::from_shape_vec(shape.as_slice(), data)
                    .map_err(shape_err)?
                    .into_tensor()
            };
            values.push(tensor.into_tvalue());
        }
        let outputs = self.plan.run(values).map_err(t)?;
        outputs
            .iter()
            .map(|o| {
                let v = o.cast_to::<f32>().map_err(t)?;
                Ok(v.to_plain_array_view::<f32>()
                    .map_err(t)?
                    .iter()
                    .map(|&x| x as f64)
                    .collect())
            })
            .collect()
    }
}

/// Reads a serialized ONNX `TensorProto` (`input_0.pb`, `output_0.pb`): shape and values.
pub fn read_pb_tensor(path: &std::path::Path) -> Result<(Vec<usize>, Vec<f64>), OnnxError> {
    let bad = |reason: String| OnnxError::Parse {
        path: path.display().to_string(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|e| OnnxError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    let proto = tract_onnx::tensor::proto_from_reader(file).map_err(|e| bad(e.to_string()))?;
    if ![1, 6, 7, 11].contains(&proto.data_type) {
        return Err(bad(format!(
            "tensor type {} is not numeric",
            proto.data_type
        )));
    }
    let t =
        tract_onnx::tensor::load_tensor(&tract_onnx::data_resolver::MmapDataResolver, &proto, None)
            .map_err(|e| bad(e.to_string()))?;
    let cast = t.cast_to::<f64>().map_err(|e| bad(e.to_string()))?;
    let values = cast
        .to_plain_array_view::<f64>()
        .map_err(|e| bad(e.to_string()))?
        .iter()
        .copied()
        .collect();
    Ok((t.shape().to_vec(), values))
}
