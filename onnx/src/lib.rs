//! zkonnx-onnx: the ONNX front end.
//!
//! [`load`] reads an ONNX file with tract-onnx's protobuf types and lowers it, through the
//! op table in [`lower`], to a float graph ([`graph::FloatGraph`]). [`calibrate`] runs that
//! graph on sample inputs, picks power-of-two scales and domains, and emits the quantized
//! [`zkonnx_circuits::Model`]. [`tract_reference`] runs the original model with tract for the
//! float outputs the quantized model is compared against.

pub mod calibrate;
pub mod error;
pub mod float_op;
pub mod graph;
pub mod input_range;
pub mod load;
pub mod lower;
pub mod quantize;
pub mod scope;
pub mod tensor_proto;
pub mod tract_reference;

pub use calibrate::{calibrate, CalibrateOptions, CalibrationReport};
pub use error::OnnxError;
pub use input_range::InputRange;
pub use load::{load, LoadedModel};
