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
