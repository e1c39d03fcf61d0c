//! What one float op needs to quantize itself: the scales its inputs came out at, the scale
//! calibration wants for its output, the magnitudes the samples reached, and the settings.
//!
//! Scales: a tensor whose largest magnitude is `m` gets scale `precision_bits - ⌈log2 m⌉`
//! (clamped to `[0, 24]`), so every tensor keeps about `precision_bits` significant bits.
//! Weights get `weight_bits` the same way. Domains: the quantized pre-activation's bit length
//! plus `margin_bits` (each margin bit doubles the headroom over the samples).

use crate::calibrate::CalibrateOptions;
use crate::error::OnnxError;
use crate::graph::FloatNode;
use zkonnx_circuits::fixed_point::{bits_for, quantize};
use zkonnx_circuits::ops::Op;
use zkonnx_circuits::requant::{Requant, MAX_BITS};

/// Largest scale (log2) a tensor may get.
pub const MAX_SCALE: u32 = 24;

/// Scale (log2) keeping `bits` significant bits of values up to `max_abs`.
pub fn scale_for(max_abs: f64, bits: u32) -> u32 {
    if max_abs <= 0.0 || !max_abs.is_finite() {
        return bits.min(MAX_SCALE);
    }
    (bits as i32 - max_abs.log2().ceil() as i32).clamp(0, MAX_SCALE as i32) as u32
}

/// A quantized op and the scale (log2) of its output.
pub type Quantized = (Op, u32);

/// The calibration facts one node is quantized with.
pub struct QuantCtx<'a> {
    /// The node (its name and op type go into errors; its `relu` flag into the requant).
    pub node: &'a FloatNode,
    /// Scale of each input.
    pub in_scales: &'a [u32],
    /// The output scale the node's calibrated magnitude asks for.
    pub want: u32,
    /// Largest magnitude of the node's value before a fused ReLU.
    pub max_pre: f64,
    /// Largest magnitude of each input.
    pub in_maxes: &'a [f64],
    /// The compile settings.
    pub opts: &'a CalibrateOptions,
}

impl QuantCtx<'_> {
    /// Scale of the first input.
    pub fn s_in(&self) -> u32 {
        self.in_scales[0]
    }

    /// Largest magnitude of the first input.
    pub fn in_max(&self) -> f64 {
        self.in_maxes.first().copied().unwrap_or(0.0)
    }

    /// An error about this node.
    pub fn err(&self, reason: String) -> OnnxError {
        OnnxError::Range {
            op_type: self.node.op_type.clone(),
            node: self.node.name.clone(),
            reason,
        }
    }

    /// `x` at scale `s`, or an error when it does not fit.
    pub fn q(&self, x: f64, s: u32) -> Result<i64, OnnxError> {
        quantize(x, s)
            .map(|v| v as i64)
            .ok_or_else(|| self.err(format!("value {x} is out of range")))
    }

    /// Every value of `xs` at scale `s`.
    pub fn q_all(&self, xs: &[f64], s: u32) -> Result<Vec<i64>, OnnxError> {
        xs.iter().map(|&x| self.q(x, s)).collect()
    }

    /// Domain bits of the node's output at scale `s_out`: the calibrated magnitude's bit
    /// length plus the margin.
    pub fn domain_bits(&self, s_out: u32) -> u32 {
        let q = (self.max_pre * 2f64.powi(s_out as i32)).round() as i128;
        (bits_for(q) + self.opts.margin_bits).max(1)
    }

    /// The node's final requantization: shift by `shift` to land at `s_out`, range-checked to
    /// the calibrated domain, with the node's fused ReLU.
    pub fn requant(&self, shift: u32, s_out: u32) -> Result<Requant, OnnxError> {
        let bits = self.domain_bits(s_out);
        self.fits(shift, bits)?;
        Ok(Requant {
            shift,
            bits,
            relu: self.node.relu,
        })
    }

    /// Refuses a shift or a domain wider than the circuit's range checks.
    pub fn fits(&self, shift: u32, bits: u32) -> Result<(), OnnxError> {
        if shift > MAX_BITS || bits > MAX_BITS {
            return Err(self.err(format!(
                "needs a {}-bit range, more than {MAX_BITS}",
                shift.max(bits)
            )));
        }
        Ok(())
    }

    /// The scales of a product of the two inputs: it lands at `s_a + s_b` (the first), and
    /// is shifted down to the wanted scale when that is coarser (the second).
    pub fn product_scales(&self) -> (u32, u32) {
        let s_pre = self.in_scales[0] + self.in_scales[1];
        (s_pre, self.want.min(s_pre))
    }

    /// The weight scale for weights up to `max_w` multiplying inputs at scale `s_in`, and
    /// the output scale: the product lands at `s_in + s_w`, which is shifted down to the
    /// wanted scale, by at most `MAX_BITS` (the weight scale gives way if needed).
    pub fn weight_scale(&self, s_in: u32, mut s_w: u32) -> (u32, u32) {
        let s_out = self.want.min(s_in + s_w);
        if s_in + s_w - s_out > MAX_BITS {
            s_w = MAX_BITS + s_out - s_in;
        }
        (s_w, s_out)
    }
}
