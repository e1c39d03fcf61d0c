//! Resize (opset 11 on) and Upsample: with the input's shape and the scales or sizes fixed
//! at compile time, every output value is a fixed combination of input values (one for
//! `nearest`, two per axis for `linear`, four or more for `cubic` and antialiasing), so the
//! op is one dot product with constant weights, or a copy when every weight is 1.
//!
//! The weights follow the ONNX reference implementation axis by axis: the source
//! coordinate of each output index (`coordinate_transformation_mode`), the interpolation
//! coefficients of its fractional part, the neighbours (edge-padded), `exclude_outside`,
//! and `tf_crop_and_resize`'s extrapolation value for sources outside the input.

use super::index::{all_coords, ravel, strides};
use super::{attr, attr_f, attr_i, attr_ints, attr_s, operand, single, Lowered, Lowering, Operand};
use crate::float_op::{Gather, SparseDot};
use crate::graph::FloatOp;
use tract_onnx::pb::NodeProto;

/// An output value as an affine combination of input values: `(flat input index, weight)`
/// terms and a constant.
#[derive(Clone)]
struct Combo {
    terms: Vec<(u32, f64)>,
    bias: f64,
}

/// The input indices and coefficients one output index reads along an axis.
type Taps = Vec<(usize, f64)>;

/// How one axis is resized: the settings that shape its coefficients.
struct Settings {
    mode: String,
    coordinates: String,
    nearest: String,
    cubic_a: f64,
    exclude_outside: bool,
    extrapolation: f64,
    antialias: bool,
}

impl Settings {
    fn of(node: &NodeProto) -> Result<Self, String> {
        let or = |s: String, d: &str| if s.is_empty() { d.to_string() } else { s };
        let s = Self {
            mode: or(attr_s(node, "mode"), "nearest"),
            coordinates: or(attr_s(node, "coordinate_transformation_mode"), "half_pixel"),
            nearest: or(attr_s(node, "nearest_mode"), "round_prefer_floor"),
            cubic_a: f64::from(attr_f(node, "cubic_coeff_a", -0.75)),
            exclude_outside: attr_i(node, "exclude_outside", 0) != 0,
            extrapolation: f64::from(attr_f(node, "extrapolation_value", 0.0)),
            antialias: attr_i(node, "antialias", 0) != 0,
        };
        if !["nearest", "linear", "cubic"].contains(&s.mode.as_str()) {
            return Err(format!("mode '{}' is not defined", s.mode));
        }
        if s.antialias && s.mode == "nearest" {
            return Err("antialias is not defined for nearest".into());
        }
        Ok(s)
    }

    /// The interpolation coefficients of a source coordinate's fractional part `ratio`.
    fn coefficients(&self, ratio: f64, scale: f64) -> Result<Vec<f64>, String> {
        let a = self.cubic_a;
        Ok(match (self.mode.as_str(), self.antialias) {
            ("nearest", _) => {
                if ratio.fract() == 0.0 {
                    return Ok(vec![0.0, 1.0]);
                }
                let up = match self.nearest.as_str() {
                    "round_prefer_floor" => ratio > 0.5,
                    "round_prefer_ceil" => ratio >= 0.5,
                    "floor" => false,
                    "ceil" => true,
                    m => return Err(format!("nearest_mode '{m}' is not defined")),
                };
                vec![f64::from(u8::from(!up)), f64::from(u8::from(up))]
            }
            ("linear", false) => vec![1.0 - ratio, ratio],
            ("linear", true) => {
                let scale = scale.min(1.0);
                let start = (-1.0 / scale).floor() as i64 + 1;
                let footprint = 2 - 2 * start;
                let c: Vec<f64> = (start..start + footprint)
                    .map(|i| (1.0 - ((i as f64 - ratio) * scale).abs()).clamp(0.0, 1.0))
                    .collect();
                normalized(c)
            }
            ("cubic", false) => {
                let (r, q) = (ratio, 1.0 - ratio);
                vec![
                    ((a * (r + 1.0) - 5.0 * a) * (r + 1.0) + 8.0 * a) * (r + 1.0) - 4.0 * a,
                    ((a + 2.0) * r - (a + 3.0)) * r * r + 1.0,
                    ((a + 2.0) * q - (a + 3.0)) * q * q + 1.0,
                    ((a * (q + 1.0) - 5.0 * a) * (q + 1.0) + 8.0 * a) * (q + 1.0) - 4.0 * a,
                ]
            }
            (_, _) => {
                let scale = scale.min(1.0);
                let cubic = |x: f64| {
                    let x = x.abs();
                    if x <= 1.0 {
                        (a + 2.0) * x.powi(3) - (a + 3.0) * x * x + 1.0
                    } else if x < 2.0 {
                        a * x.powi(3) - 5.0 * a * x * x + 8.0 * a * x - 4.0 * a
                    } else {
                        0.0
                    }
                };
                let start = (-2.0 / scale).floor() as i64 + 1;
                let end = 2 - start;
                normalized(
                    (start..end)
                        .map(|i| cubic(scale * (i as f64 - ratio)))
                        .collect(),
                )
            }
        })
    }

    /// The source coordinate of output index `y` along an axis of `width` inputs resized
    /// by `scale` to `out` outputs, and whether it falls outside (tf_crop_and_resize).
    fn source(
        &self,
        y: f64,
        width: usize,
        scale: f64,
        out: usize,
        roi: (f64, f64),
    ) -> Result<(f64, bool), String> {
        let (w, ow) = (width as f64, scale * width as f64);
        let x = match self.coordinates.as_str() {
            "align_corners" if ow == 1.0 => 0.0,
            "align_corners" => y * (w - 1.0) / (ow - 1.0),
            "asymmetric" => y / scale,
            "tf_crop_and_resize" => {
                let x = if ow == 1.0 {
                    (roi.1 - roi.0) * (w - 1.0) / 2.0
                } else {
                    y * (roi.1 - roi.0) * (w - 1.0) / (ow - 1.0)
                } + roi.0 * (w - 1.0);
                return Ok((x, x < 0.0 || x > w - 1.0));
            }
            "pytorch_half_pixel" if ow == 1.0 => -0.5,
            "pytorch_half_pixel" | "half_pixel" => (y + 0.5) / scale - 0.5,
            "half_pixel_symmetric" => {
                let offset = w / 2.0 * (1.0 - out as f64 / ow);
                offset + (y + 0.5) / scale - 0.5
            }
            m => {
                return Err(format!(
                    "coordinate_transformation_mode '{m}' is not defined"
                ))
            }
        };
        Ok((x, false))
    }

    /// Per output index of one axis: the (input index, coefficient) pairs, or `None` for an
    /// extrapolated one.
    fn axis(
        &self,
        width: usize,
        scale: f64,
        out: usize,
        roi: (f64, f64),
    ) -> Result<Vec<Option<Taps>>, String> {
        (0..out)
            .map(|y| {
                let (x, outside) = self.source(y as f64, width, scale, out, roi)?;
                if outside {
                    return Ok(None);
                }
                let ratio = if x == x.floor() { 1.0 } else { x - x.floor() };
                let mut c = self.coefficients(ratio, scale)?;
                let n = c.len() as i64;
                let pad = (n + 1) / 2;
                let padded = x + pad as f64;
                let (p, frac) = (padded.floor() as i64, padded - padded.floor());
                let offset = if n % 2 == 0 {
                    if frac == 0.0 {
                        -(n / 2)
                    } else {
                        -(n / 2) + 1
                    }
                } else {
                    let base = -((n - 1) / 2);
                    if frac <= 0.5 {
                        base
                    } else {
                        base + 1
                    }
                };
                let idx: Vec<i64> = (0..n).map(|k| p + offset + k - pad).collect();
                if self.exclude_outside {
                    for (k, &i) in idx.iter().enumerate() {
                        if i < 0 || i >= width as i64 {
                            c[k] = 0.0;
                        }
                    }
                    c = normalized(c);
                }
                let last = width as i64 - 1;
                Ok(Some(
                    idx.iter()
                        .map(|&i| i.clamp(0, last) as usize)
                        .zip(c)
                        .collect(),
                ))
            })
            .collect()
    }
}

/// `c / Σ c` (unchanged when the sum is 0).
fn normalized(c: Vec<f64>) -> Vec<f64> {
    let s: f64 = c.iter().sum();
    if s == 0.0 {
        return c;
    }
    c.into_iter().map(|v| v / s).collect()
}

/// The output size and the scale of every axis, as the reference computes them.
fn geometry(
    node: &NodeProto,
    xs: &[usize],
    axes: &[usize],
    scales: Option<Vec<f64>>,
    sizes: Option<Vec<f64>>,
) -> Result<(Vec<usize>, Vec<f64>), String> {
    let r = xs.len();
    if let Some(sizes) = sizes {
        if sizes.len() != axes.len() {
            return Err(format!("{} sizes for {} axes", sizes.len(), axes.len()));
        }
        let mut out = xs.to_vec();
        for (k, &a) in axes.iter().enumerate() {
            out[a] = sizes[k] as usize;
        }
        let mut scale: Vec<f64> = (0..r).map(|i| out[i] as f64 / xs[i] as f64).collect();
        let policy = attr_s(node, "keep_aspect_ratio_policy");
        if !matches!(policy.as_str(), "" | "stretch") {
            let chosen = axes.iter().map(|&a| scale[a]);
            let s = match policy.as_str() {
                "not_larger" => chosen.fold(f64::INFINITY, f64::min),
                "not_smaller" => chosen.fold(f64::NEG_INFINITY, f64::max),
                p => return Err(format!("keep_aspect_ratio_policy '{p}' is not defined")),
            };
            for (i, sc) in scale.iter_mut().enumerate() {
                *sc = if axes.contains(&i) { s } else { 1.0 };
            }
            for &a in axes {
                out[a] = (s * xs[a] as f64 + 0.5) as usize;
            }
        }
        return Ok((out, scale));
    }
    let given = scales.ok_or("Resize needs scales or sizes")?;
    if given.len() != axes.len() {
        return Err(format!("{} scales for {} axes", given.len(), axes.len()));
    }
    let mut scale = vec![1.0; r];
    for (k, &a) in axes.iter().enumerate() {
        scale[a] = given[k];
    }
    let out = (0..r).map(|i| (scale[i] * xs[i] as f64) as usize).collect();
    Ok((out, scale))
}

/// A constant input's values, if given and not empty.
fn values(
    node: &NodeProto,
    ops: &[Operand],
    i: usize,
    what: &str,
) -> Result<Option<Vec<f64>>, String> {
    match operand(node, ops, i) {
        None => Ok(None),
        Some(Operand::Const(c)) if c.data.is_empty() => Ok(None),
        Some(Operand::Const(c)) => Ok(Some(c.data.clone())),
        Some(Operand::Act(_)) => Err(format!("the {what} must be fixed at compile time")),
    }
}

/// Applies one axis's coefficients to every combination.
fn apply_axis(
    combos: &[Combo],
    shape: &[usize],
    ax: usize,
    rows: &[Option<Taps>],
    extrapolation: f64,
) -> (Vec<Combo>, Vec<usize>) {
    let mut out_shape = shape.to_vec();
    out_shape[ax] = rows.len();
    let st = strides(shape);
    let next = all_coords(&out_shape)
        .map(|c| match &rows[c[ax]] {
            None => Combo {
                terms: vec![],
                bias: extrapolation,
            },
            Some(taps) => {
                let mut acc = Combo {
                    terms: vec![],
                    bias: 0.0,
                };
                for &(i, w) in taps.iter().filter(|(_, w)| *w != 0.0) {
                    let mut src = c.clone();
                    src[ax] = i;
                    let from = &combos[ravel(&src, &st)];
                    acc.terms
                        .extend(from.terms.iter().map(|&(k, v)| (k, v * w)));
                    acc.bias += from.bias * w;
                }
                acc
            }
        })
        .collect();
    (next, out_shape)
}

/// Sums the weights of repeated input indices.
fn merged(mut terms: Vec<(u32, f64)>) -> Vec<(u32, f64)> {
    terms.sort_by_key(|t| t.0);
    let mut out: Vec<(u32, f64)> = Vec::with_capacity(terms.len());
    for (k, w) in terms {
        match out.last_mut() {
            Some(last) if last.0 == k => last.1 += w,
            _ => out.push((k, w)),
        }
    }
    out.retain(|t| t.1 != 0.0);
    out
}

/// The op for the resized combinations: a copy when every output is one input value, else
/// a dot product.
fn lowered(x: usize, combos: Vec<Combo>, shape: Vec<usize>) -> Lowered {
    let combos: Vec<Combo> = combos
        .into_iter()
        .map(|c| Combo {
            terms: merged(c.terms),
            bias: c.bias,
        })
        .collect();
    let copy = combos
        .iter()
        .all(|c| c.bias == 0.0 && c.terms.len() == 1 && (c.terms[0].1 - 1.0).abs() < 1e-12);
    if copy {
        let sources = combos.iter().map(|c| (0, c.terms[0].0)).collect();
        return Lowered::Op(FloatOp::Gather(Gather { sources }), vec![x], shape);
    }
    let b = combos.iter().map(|c| c.bias).collect();
    let terms = combos
        .into_iter()
        .map(|c| c.terms.into_iter().map(|(k, w)| (0, k, w)).collect())
        .collect();
    Lowered::Op(FloatOp::SparseDot(SparseDot { terms, b }), vec![x], shape)
}

fn resize_with(
    l: &Lowering,
    x: usize,
    settings: &Settings,
    (out, scale): (Vec<usize>, Vec<f64>),
    roi: Option<Vec<f64>>,
) -> Result<Lowered, String> {
    let xs = l.shape(x).to_vec();
    let r = xs.len();
    let mut shape = xs.clone();
    let mut combos: Vec<Combo> = (0..xs.iter().product::<usize>() as u32)
        .map(|i| Combo {
            terms: vec![(i, 1.0)],
            bias: 0.0,
        })
        .collect();
    for ax in 0..r {
        let axis_roi = roi.as_ref().map_or((0.0, 1.0), |v| (v[ax], v[ax + r]));
        let unchanged = (scale[ax] - 1.0).abs() < 1e-9
            && out[ax] == shape[ax]
            && (axis_roi.0.abs() < 1e-9 && (axis_roi.1 - 1.0).abs() < 1e-9);
        if unchanged {
            continue;
        }
        if settings.coordinates == "tf_crop_and_resize" && roi.is_none() {
            return Err("tf_crop_and_resize needs a roi".into());
        }
        let rows = settings.axis(shape[ax], scale[ax], out[ax], axis_roi)?;
        (combos, shape) = apply_axis(&combos, &shape, ax, &rows, settings.extrapolation);
    }
    Ok(lowered(x, combos, shape))
}

/// Resize.
pub fn resize(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    if l.opset < 11 {
        return Err("Resize before opset 11 is not supported".into());
    }
    let (x, xs) = single(l, ops)?;
    let r = xs.len();
    let axes: Vec<usize> = match attr_ints(node, "axes") {
        Some(a) => a
            .iter()
            .map(|&v| super::index::axis(v, r))
            .collect::<Result<_, _>>()?,
        None => (0..r).collect(),
    };
    let settings = Settings::of(node)?;
    let scales = values(node, ops, 2, "scales")?;
    let sizes = values(node, ops, 3, "sizes")?;
    let geometry = geometry(node, &xs, &axes, scales, sizes)?;
    // The roi of every axis: [starts, ends], 0 and 1 for axes not listed.
    let roi = values(node, ops, 1, "roi")?
        .map(|v| {
            if v.len() != 2 * axes.len() {
                return Err(format!(
                    "a roi of {} values for {} axes",
                    v.len(),
                    axes.len()
                ));
            }
            let mut full: Vec<f64> = [vec![0.0; r], vec![1.0; r]].concat();
            for (k, &a) in axes.iter().enumerate() {
                full[a] = v[k];
                full[r + a] = v[axes.len() + k];
            }
            Ok(full)
        })
        .transpose()?;
    resize_with(l, x, &settings, geometry, roi)
}

/// Upsample (opsets 7–9): `nearest` by whole scales repeats values; as a Resize with
/// asymmetric coordinates and floor rounding.
pub fn upsample(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let (x, xs) = single(l, ops)?;
    let scales = match values(node, ops, 1, "scales")? {
        Some(s) => s,
        None => attr(node, "scales")
            .map(|a| a.floats.iter().map(|&f| f64::from(f)).collect())
            .ok_or("Upsample needs scales")?,
    };
    let mode = attr_s(node, "mode");
    if !matches!(mode.as_str(), "" | "nearest") || scales.iter().any(|s| s.fract() != 0.0) {
        return Err("Upsample is supported for nearest by whole scales".into());
    }
    let settings = Settings {
        mode: "nearest".into(),
        coordinates: "asymmetric".into(),
        nearest: "floor".into(),
        cubic_a: -0.75,
        exclude_outside: false,
        extrapolation: 0.0,
        antialias: false,
    };
    let axes: Vec<usize> = (0..xs.len()).collect();
    let geometry = geometry(node, &xs, &axes, Some(scales), None)?;
    resize_with(l, x, &settings, geometry, None)
}
