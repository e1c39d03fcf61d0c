//! Input files: `{"input_data": [[…values of input 0…], …]}`, one flat list per graph input;
//! values are numbers, or `true`/`false` for a boolean input (read as 1 and 0).

use crate::Error;
use serde_json::Value;
use std::path::Path;

/// Reads an input file.
///
/// # Errors
/// [`Error::Input`] naming the file if it cannot be read or is not an input file.
pub fn read_input(path: &Path) -> Result<Vec<Vec<f64>>, Error> {
    let err = |reason: String| Error::Input {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    parse_input(&text).map_err(err)
}

/// Parses the JSON text of an input file.
///
/// # Errors
/// A one-line reason if the text is not JSON or not `{"input_data": [[numbers…], …]}`.
pub fn parse_input(text: &str) -> Result<Vec<Vec<f64>>, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let data = v
        .get("input_data")
        .and_then(Value::as_array)
        .ok_or("expected an object with an \"input_data\" array")?;
    data.iter()
        .enumerate()
        .map(|(i, tensor)| {
            let values = tensor
                .as_array()
                .ok_or_else(|| format!("input_data[{i}] is not an array"))?;
            values
                .iter()
                .enumerate()
                .map(|(j, x)| match x {
                    Value::Bool(b) => Ok(f64::from(u8::from(*b))),
                    _ => x.as_f64().ok_or_else(|| {
                        format!("input_data[{i}][{j}] = {x} is not a number or a boolean")
                    }),
                })
                .collect()
        })
        .collect()
}

/// Reads one tensor from an ONNX `TensorProto` file (the `.pb` files of ONNX test data):
/// its shape and its values.
///
/// # Errors
/// [`Error::Onnx`] if the file cannot be read, is not a tensor, or holds a type zkonnx does
/// not read.
pub fn read_tensor_pb(path: &Path) -> Result<(Vec<usize>, Vec<f64>), Error> {
    Ok(zkonnx_onnx::tract_reference::read_pb_tensor(path)?)
}

/// The op types of an ONNX model that zkonnx cannot lower, sorted (empty if every op is
/// supported, or if the file is not an ONNX model: `compile` says why).
pub fn unsupported_ops(model: &Path) -> Vec<String> {
    std::fs::read(model)
        .ok()
        .and_then(|b| zkonnx_onnx::load::decode(&b).ok())
        .map(|p| zkonnx_onnx::lower::missing_ops(&p))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        assert_eq!(
            parse_input(r#"{"input_data": [[1, 2.5]]}"#).unwrap(),
            vec![vec![1.0, 2.5]]
        );
        assert_eq!(
            parse_input(r#"{"input_data": [[true, false, 3]]}"#).unwrap(),
            vec![vec![1.0, 0.0, 3.0]]
        );
        assert!(parse_input(r#"{"input_data": [[1, "x"]]}"#)
            .unwrap_err()
            .contains("not a number"));
        assert!(parse_input("{").unwrap_err().contains("JSON"));
        assert!(parse_input(r#"{"data": []}"#).is_err());
    }
}
