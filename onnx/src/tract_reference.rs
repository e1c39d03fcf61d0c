//! The float reference: the original ONNX model run by tract.

use crate::error::OnnxError;
use crate::graph::FloatGraph;
use crate::lower::{elem_type, graph_inputs};
use crate::tensor_proto::{as_f64, datum_type};
use tract_onnx::pb::ModelProto;
use tract_onnx::prelude::*;
use zkonnx_circuits::ir::FixedInput;

/// A tract plan for the model, ready to run on its inputs (each of its declared type).
pub struct FloatReference {
    plan: std::sync::Arc<TypedSimplePlan>,
    /// Per graph input: shape, and its element type.
    inputs: Vec<(Vec<usize>, DatumType)>,
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
            let dt = elem_type(v).and_then(datum_type).unwrap_or(DatumType::F32);
            let fact: InferenceFact = if let Some(f) = fixed.iter().find(|f| f.position == i) {
                let shape = if f.shape.iter().product::<usize>() == f.values.len() {
                    f.shape.clone()
                } else {
                    vec![f.values.len()]
                };
                inputs.push((shape.clone(), dt));
                let values = tract_ndarray::ArrayD::from_shape_vec(shape, f.values.clone())
                    .map_err(|e| OnnxError::Tract(e.to_string()))?
                    .into_tensor();
                values.cast_to_dt(dt).map_err(t)?.into_owned().into()
            } else {
                let shape = shapes.next().unwrap_or_default();
                inputs.push((shape.clone(), dt));
                InferenceFact::dt_shape(dt, &shape)
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
        for ((shape, dt), data) in self.inputs.iter().zip(inputs) {
            let tensor = tract_ndarray::ArrayD::from_shape_vec(shape.as_slice(), data.clone())
                .map_err(shape_err)?
                .into_tensor();
            values.push(
                tensor
                    .cast_to_dt(*dt)
                    .map_err(t)?
                    .into_owned()
                    .into_tvalue(),
            );
        }
        // tract panics on some inputs ONNX defines (a OneHot index out of range): a panic
        // in the reference is an error, not a crash.
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.plan.run(values)));
        let outputs = run
            .map_err(|_| OnnxError::Tract("tract panicked while running the model".into()))?
            .map_err(t)?;
        outputs
            .iter()
            .map(|o| as_f64(o).map_err(OnnxError::Tract))
            .collect()
    }
}

/// Reads a serialized ONNX `TensorProto` (`input_0.pb`, `output_0.pb`): shape and values.
pub fn read_pb_tensor(path: &std::path::Path) -> Result<(Vec<usize>, Vec<f64>), OnnxError> {
    let what = path.display().to_string();
    let bad = |reason: String| OnnxError::Tensor {
        path: what.clone(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|e| OnnxError::Io {
        path: what.clone(),
        reason: e.to_string(),
    })?;
    let proto = tract_onnx::tensor::proto_from_reader(file).map_err(|e| bad(format!("{e:#}")))?;
    crate::tensor_proto::values(&proto, &what)
}
