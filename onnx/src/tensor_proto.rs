//! ONNX element types and `TensorProto` values: which types zkonnx reads (every integer
//! width, booleans, float16/32/64), their names for messages, and a tensor's values as
//! `f64` (booleans as 0 and 1, integers exactly up to 2^53).

use crate::OnnxError;
use tract_onnx::pb::TensorProto;
use tract_onnx::prelude::{DatumType, Tensor};

/// ONNX `TensorProto.DataType` codes zkonnx reads.
const READABLE: &[i32] = &[1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13];

/// The ONNX name of an element type code.
pub fn type_name(code: i32) -> &'static str {
    match code {
        1 => "float",
        2 => "uint8",
        3 => "int8",
        4 => "uint16",
        5 => "int16",
        6 => "int32",
        7 => "int64",
        8 => "string",
        9 => "bool",
        10 => "float16",
        11 => "double",
        12 => "uint32",
        13 => "uint64",
        14 => "complex64",
        15 => "complex128",
        16 => "bfloat16",
        17..=20 => "float8",
        21 => "uint4",
        22 => "int4",
        23 => "float4e2m1",
        _ => "an unknown type",
    }
}

/// Whether zkonnx reads tensors of this element type.
pub fn is_readable(code: i32) -> bool {
    READABLE.contains(&code)
}

/// Whether the element type holds integers (booleans included): values a circuit holds
/// exactly, and ops whose integer semantics differ from the float ones (Div truncates).
pub fn is_integer_type(code: i32) -> bool {
    matches!(code, 2..=7 | 9 | 12 | 13)
}

/// tract's datum type for a readable element type code.
pub fn datum_type(code: i32) -> Option<DatumType> {
    Some(match code {
        1 => DatumType::F32,
        2 => DatumType::U8,
        3 => DatumType::I8,
        4 => DatumType::U16,
        5 => DatumType::I16,
        6 => DatumType::I32,
        7 => DatumType::I64,
        9 => DatumType::Bool,
        10 => DatumType::F16,
        11 => DatumType::F64,
        12 => DatumType::U32,
        13 => DatumType::U64,
        _ => return None,
    })
}

/// A tensor's shape and values; `what` names the tensor in errors (a file, a constant).
///
/// # Errors
/// [`OnnxError::ElementType`] for a type zkonnx does not read, [`OnnxError::Tensor`] for
/// bytes that do not decode.
pub fn values(t: &TensorProto, what: &str) -> Result<(Vec<usize>, Vec<f64>), OnnxError> {
    if !is_readable(t.data_type) {
        return Err(OnnxError::ElementType {
            what: what.to_string(),
            type_name: type_name(t.data_type),
        });
    }
    let bad = |reason: String| OnnxError::Tensor {
        path: what.to_string(),
        reason,
    };
    let tensor =
        tract_onnx::tensor::load_tensor(&tract_onnx::data_resolver::MmapDataResolver, t, None)
            .map_err(|e| bad(e.to_string()))?;
    Ok((tensor.shape().to_vec(), as_f64(&tensor).map_err(bad)?))
}

/// A tract tensor's values as `f64` (booleans as 0 and 1).
pub fn as_f64(tensor: &Tensor) -> Result<Vec<f64>, String> {
    let err = |e: tract_onnx::prelude::TractError| e.to_string();
    if tensor.datum_type() == DatumType::Bool {
        let b = tensor.to_plain_array_view::<bool>().map_err(err)?;
        return Ok(b.iter().map(|&x| f64::from(u8::from(x))).collect());
    }
    let cast = tensor.cast_to::<f64>().map_err(err)?;
    let view = cast.to_plain_array_view::<f64>().map_err(err)?;
    Ok(view.iter().copied().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proto(data_type: i32, dims: Vec<i64>, int32_data: Vec<i32>) -> TensorProto {
        TensorProto {
            data_type,
            dims,
            int32_data,
            ..TensorProto::default()
        }
    }

    #[test]
    fn reads_booleans_and_narrow_integers() {
        assert_eq!(
            values(&proto(9, vec![3], vec![1, 0, 1]), "t").unwrap(),
            (vec![3], vec![1.0, 0.0, 1.0])
        );
        assert_eq!(
            values(&proto(3, vec![2], vec![-5, 7]), "t").unwrap().1,
            vec![-5.0, 7.0]
        );
        assert_eq!(
            values(&proto(2, vec![1], vec![200]), "t").unwrap().1,
            vec![200.0]
        );
        // float16 1.5 is 0x3e00.
        assert_eq!(
            values(&proto(10, vec![1], vec![0x3e00]), "t").unwrap().1,
            vec![1.5]
        );
    }

    #[test]
    fn refuses_other_types_by_name() {
        for (code, name) in [
            (8, "string"),
            (14, "complex64"),
            (16, "bfloat16"),
            (17, "float8"),
        ] {
            let err = values(&proto(code, vec![1], vec![0]), "t").unwrap_err();
            assert!(
                matches!(err, OnnxError::ElementType { type_name, .. } if type_name == name),
                "{code}: {err}"
            );
        }
    }
}
