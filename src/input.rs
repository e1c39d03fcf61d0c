//! Input files: `{"input_data": [[…values of input 0…], …]}`, one flat list per graph input.

use crate::Error;
use serde_json::Value;
use std::path::Path;

/// Reads an input file.
pub fn read_input(path: &Path) -> Result<Vec<Vec<f64>>, Error> {
    let err = |reason: String| Error::Input {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    parse_input(&text).map_err(err)
}

/// Parses the JSON text of an input file.
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
                .map(|(j, x)| {
                    x.as_f64()
                        .ok_or_else(|| format!("input_data[{i}][{j}] = {x} is not a number"))
                })
                .collect()
        })
        .collect()
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
        assert!(parse_input(r#"{"input_data": [[1, "x"]]}"#)
            .unwrap_err()
            .contains("not a number"));
        assert!(parse_input("{").unwrap_err().contains("JSON"));
        assert!(parse_input(r#"{"data": []}"#).is_err());
    }
}
