//! The domain a user sets for graph inputs (`compile --input-range [NAME=]LO:HI`), and how
//! each input's domain is chosen: the user's range when given, else the calibrated one.
//!
//! The domain becomes part of what a proof states (the circuit proves every input value lies
//! in it), so it is worth setting to what the inputs can really be: `0:1` for pixels scaled
//! to the unit interval, `0:255` for raw bytes.

use crate::error::OnnxError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A range of real values for one input (by name), or for inputs by position.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputRange {
    /// The input it applies to; `None`: by position (see [`resolve`]).
    pub name: Option<String>,
    /// Smallest value.
    pub lo: f64,
    /// Largest value.
    pub hi: f64,
}

impl FromStr for InputRange {
    type Err = String;

    /// Parses `LO:HI` or `NAME=LO:HI` (`-1:1`, `pixels=0:255`).
    fn from_str(s: &str) -> Result<Self, String> {
        let (name, range) = match s.rsplit_once('=') {
            Some((n, r)) if !n.is_empty() => (Some(n.to_string()), r),
            Some(_) => return Err(format!("'{s}': the name before '=' is empty")),
            None => (None, s),
        };
        let (lo, hi) = range
            .split_once(':')
            .ok_or_else(|| format!("'{s}' is not LO:HI or NAME=LO:HI"))?;
        let num = |t: &str| {
            t.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| format!("'{t}' in '{s}' is not a finite number"))
        };
        let (lo, hi) = (num(lo)?, num(hi)?);
        if lo > hi {
            return Err(format!("'{s}': LO is larger than HI"));
        }
        Ok(Self { name, lo, hi })
    }
}

impl fmt::Display for InputRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(n) = &self.name {
            write!(f, "{n}=")?;
        }
        write!(f, "{}:{}", self.lo, self.hi)
    }
}

/// The range of each input (by the graph's input `names`, in order), or `None` where the
/// calibrated domain applies. Named ranges go to their input; unnamed ones apply to every
/// other input when there is one, or by position when there is one per input.
pub fn resolve(
    names: &[String],
    given: &[InputRange],
) -> Result<Vec<Option<InputRange>>, OnnxError> {
    let mut out: Vec<Option<InputRange>> = vec![None; names.len()];
    for r in given {
        let Some(name) = &r.name else { continue };
        let i = names.iter().position(|n| n == name).ok_or_else(|| {
            OnnxError::Invalid(format!(
                "--input-range names '{name}', which is not an input of the model (inputs: {})",
                names.join(", ")
            ))
        })?;
        out[i] = Some(r.clone());
    }
    let unnamed: Vec<&InputRange> = given.iter().filter(|r| r.name.is_none()).collect();
    match unnamed.len() {
        0 => {}
        1 => out
            .iter_mut()
            .filter(|o| o.is_none())
            .for_each(|o| *o = Some(unnamed[0].clone())),
        n if n == names.len() => {
            for (o, r) in out.iter_mut().zip(unnamed) {
                o.get_or_insert_with(|| r.clone());
            }
        }
        n => {
            return Err(OnnxError::Invalid(format!(
                "{n} unnamed --input-range values for {} inputs: give one for all, one per input, or NAME=LO:HI",
                names.len()
            )))
        }
    }
    Ok(out)
}

/// Refuses a calibration sample outside the user's ranges: the model could not prove it.
pub fn check_samples(
    names: &[String],
    ranges: &[Option<InputRange>],
    samples: &[Vec<Vec<f64>>],
) -> Result<(), OnnxError> {
    for (s, sample) in samples.iter().enumerate() {
        for ((name, range), values) in names.iter().zip(ranges).zip(sample) {
            let Some(r) = range else { continue };
            if let Some(v) = values.iter().find(|v| **v < r.lo || **v > r.hi) {
                return Err(OnnxError::Invalid(format!(
                    "calibration sample {s}: input '{name}' has the value {v}, outside --input-range {}:{}",
                    r.lo, r.hi
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        vec!["a".into(), "b".into()]
    }

    #[test]
    fn parses_plain_and_named_ranges() {
        let r: InputRange = "-1:2.5".parse().unwrap();
        assert_eq!((r.name, r.lo, r.hi), (None, -1.0, 2.5));
        let r: InputRange = "pixels=0:255".parse().unwrap();
        assert_eq!(r.name.as_deref(), Some("pixels"));
        assert_eq!(r.to_string(), "pixels=0:255");
        for bad in ["1", "2:1", "a:b", "=0:1", "0:inf", "nan:1", ""] {
            assert!(bad.parse::<InputRange>().is_err(), "{bad}");
        }
    }

    #[test]
    fn one_unnamed_range_applies_to_all_inputs_a_named_one_wins() {
        let given: Vec<InputRange> = vec!["0:1".parse().unwrap(), "b=-3:3".parse().unwrap()];
        let r = resolve(&names(), &given).unwrap();
        assert_eq!(r[0].as_ref().map(|r| r.hi), Some(1.0));
        assert_eq!(r[1].as_ref().map(|r| r.lo), Some(-3.0));
        let positional: Vec<InputRange> = vec!["0:1".parse().unwrap(), "0:2".parse().unwrap()];
        let r = resolve(&names(), &positional).unwrap();
        assert_eq!(r[1].as_ref().map(|r| r.hi), Some(2.0));
        assert_eq!(resolve(&names(), &[]).unwrap(), vec![None, None]);
    }

    #[test]
    fn unknown_names_and_odd_counts_are_refused() {
        let err = resolve(&names(), &["c=0:1".parse().unwrap()]).unwrap_err();
        assert!(err.to_string().contains("'c'"), "{err}");
        let three: Vec<InputRange> = (0..3).map(|_| "0:1".parse().unwrap()).collect();
        assert!(resolve(&names(), &three).is_err());
    }

    #[test]
    fn a_sample_outside_the_range_is_named() {
        let ranges = resolve(&names(), &["0:1".parse().unwrap()]).unwrap();
        let samples = vec![vec![vec![0.5], vec![1.5]]];
        let err = check_samples(&names(), &ranges, &samples).unwrap_err();
        assert!(err.to_string().contains("'b'"), "{err}");
    }
}
