//! The float reference: the original ONNX model run by tract.

use crate::error::OnnxError;
use crate::graph::FloatGraph;
use tract_onnx::pb::ModelProto;
use tract_onnx::prelude::*;

/// A tract plan for the model, ready to run on float inputs.
pub struct FloatReference {
    plan: std::sync::Arc<TypedSimplePlan>,
    shapes: Vec<Vec<usize>>,
}

impl FloatReference {
    /// Builds the tract plan with the input shapes the lowering fixed.
    pub fn new(proto: &ModelProto, graph: &FloatGraph) -> Result<Self, OnnxError> {
        let t = |e: TractError| OnnxError::Tract(format!("{e:#}"));
        let mut model = tract_onnx::onnx().model_for_proto_model(proto).map_err(t)?;
        let shapes: Vec<Vec<usize>> = graph.inputs.iter().map(|(_, s)| s.clone()).collect();
        for (i, shape) in shapes.iter().enumerate() {
            model = model
                .with_input_fact(i, f32::fact(shape).into())
                .map_err(t)?;
        }
        let plan = model
            .into_optimized()
            .map_err(t)?
            .into_runnable()
            .map_err(t)?;
        Ok(Self { plan, shapes })
    }

    /// Runs the model; returns each output flattened.
    pub fn run(&self, inputs: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, OnnxError> {
        let t = |e: TractError| OnnxError::Tract(format!("{e:#}"));
        let mut values = TVec::new();
        for (shape, data) in self.shapes.iter().zip(inputs) {
            let data: Vec<f32> = data.iter().map(|&v| v as f32).collect();
            let tensor = tract_ndarray::ArrayD::from_shape_vec(shape.as_slice(), data)
                .map_err(|e| OnnxError::Tract(e.to_string()))?;
            values.push(tensor.into_tensor().into_tvalue());
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
