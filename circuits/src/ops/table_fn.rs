//! Nonlinear elementwise functions by table lookup: Sigmoid, Tanh, Exp, Softplus, Elu, Selu,
//! Erf, Gelu, Softsign, Sqrt, HardSigmoid, HardSwish, Sign, Shrink, Pow by a constant, 1/√x,
//! Reciprocal.
//!
//! Layout per value: a requant row that brings `x` to the table's input scale and proves it
//! inside the table's domain `[-2^bits, 2^bits)`, then a function-table row whose input is
//! copy-constrained to that requant's output. The table spans exactly that domain, so its
//! size follows the calibration, not a fixed floor.
//!
//! Soundness: the requant chip bounds and fixes the table input; the table fixes the output
//! (see the function-table chip).

use super::{requant_then_lookup, LayoutCtx, NodeIo, Operator, TableKey, TableRead};
use crate::error::EvalError;
use crate::fixed_point::{dequantize, quantize};
use crate::requant::Requant;
use crate::rows::RowCounter;
use halo2_proofs::circuit::Cell;
use halo2_proofs::plonk::Error;
use serde::{Deserialize, Serialize};

/// The function a table holds; parameters are stored in thousandths so tables compare exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum FnKind {
    /// 1/(1+e^-x)
    Sigmoid,
    /// tanh x
    Tanh,
    /// e^x
    Exp,
    /// ln(1+e^x)
    Softplus,
    /// x ≥ 0 ? x : α(e^x − 1), α in thousandths
    Elu(i64),
    /// γ·(x ≥ 0 ? x : α(e^x − 1)), α and γ in thousandths
    Selu(i64, i64),
    /// erf x
    Erf,
    /// x·Φ(x)
    Gelu,
    /// x/(1+|x|)
    Softsign,
    /// √x (inputs must be ≥ 0)
    Sqrt,
    /// max(0, min(1, αx + β)), α and β in thousandths
    HardSigmoid(i64, i64),
    /// 1/x (0 maps to 0: a zero divisor is refused at calibration, where the float is infinite)
    Reciprocal,
    /// ln x (inputs must be > 0)
    Ln,
    /// −1, 0 or 1
    Sign,
    /// x − β above λ, x + β below −λ, 0 between; λ and β in thousandths
    Shrink(i64, i64),
    /// x^p, p in thousandths (negative x needs an integer p)
    Pow(i64),
    /// 1/√x (inputs must be > 0)
    Rsqrt,
    /// x·max(0, min(1, x/6 + 1/2))
    HardSwish,
}

/// erf: its Maclaurin series for |x| < 3, Abramowitz–Stegun 7.1.26 beyond (error < 2e-7).
fn erf(x: f64) -> f64 {
    if x.abs() >= 3.0 {
        let t = 1.0 / (1.0 + 0.3275911 * x.abs());
        let poly = t
            * (0.254829592
                + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
        return (1.0 - poly * (-x * x).exp()).copysign(x);
    }
    let (mut term, mut sum) = (x, x);
    for n in 1..120 {
        term *= -x * x / n as f64;
        sum += term / (2 * n + 1) as f64;
    }
    2.0 / std::f64::consts::PI.sqrt() * sum
}

/// An ONNX node's attributes, as the front end reads them (so that this crate names ONNX
/// op types without depending on an ONNX parser).
pub trait Attributes {
    /// A float attribute, or `default`.
    fn float(&self, name: &str, default: f32) -> f32;
    /// A string attribute, or the empty string.
    fn string(&self, name: &str) -> String;
}

/// A parameter in thousandths, the way [`FnKind`] stores it.
fn milli(v: f32) -> i64 {
    (v as f64 * 1000.0).round() as i64
}

impl FnKind {
    /// The table function an ONNX op type computes, with its attributes; `None` if the op
    /// type (with these attributes) is not a table function.
    pub fn from_onnx(op_type: &str, a: &dyn Attributes) -> Option<FnKind> {
        let f = |name, default| milli(a.float(name, default));
        Some(match op_type {
            "Sigmoid" => FnKind::Sigmoid,
            "Tanh" => FnKind::Tanh,
            "Exp" => FnKind::Exp,
            "Softplus" => FnKind::Softplus,
            "Elu" => FnKind::Elu(f("alpha", 1.0)),
            "Selu" => FnKind::Selu(f("alpha", 1.673_263_2), f("gamma", 1.050_701)),
            "Erf" => FnKind::Erf,
            "Gelu" if matches!(a.string("approximate").as_str(), "" | "none") => FnKind::Gelu,
            "Softsign" => FnKind::Softsign,
            "Sqrt" => FnKind::Sqrt,
            "HardSigmoid" => FnKind::HardSigmoid(f("alpha", 0.2), f("beta", 0.5)),
            "Sign" => FnKind::Sign,
            "Shrink" => FnKind::Shrink(f("lambd", 0.5), f("bias", 0.0)),
            "HardSwish" => FnKind::HardSwish,
            "Reciprocal" => FnKind::Reciprocal,
            _ => return None,
        })
    }

    /// The real function, NaN outside its domain (Sqrt of a negative number).
    pub fn eval_checked(&self, x: f64) -> f64 {
        let outside = match self {
            FnKind::Sqrt => x < 0.0,
            FnKind::Ln => x <= 0.0,
            FnKind::Reciprocal => x == 0.0,
            FnKind::Rsqrt => x <= 0.0,
            FnKind::Pow(p) => (x < 0.0 && p % 1000 != 0) || (x == 0.0 && *p < 0),
            _ => false,
        };
        if outside {
            f64::NAN
        } else {
            self.eval(x)
        }
    }

    /// The real function.
    pub fn eval(&self, x: f64) -> f64 {
        let k = |v: i64| v as f64 / 1000.0;
        match *self {
            FnKind::Sigmoid => 1.0 / (1.0 + (-x).exp()),
            FnKind::Tanh => x.tanh(),
            FnKind::Exp => x.exp(),
            FnKind::Softplus => x.max(0.0) + (-x.abs()).exp().ln_1p(),
            FnKind::Elu(a) => {
                if x >= 0.0 {
                    x
                } else {
                    k(a) * x.exp_m1()
                }
            }
            FnKind::Selu(a, g) => k(g) * if x >= 0.0 { x } else { k(a) * x.exp_m1() },
            FnKind::Erf => erf(x),
            FnKind::Gelu => 0.5 * x * (1.0 + erf(x / std::f64::consts::SQRT_2)),
            FnKind::Softsign => x / (1.0 + x.abs()),
            FnKind::Sqrt => x.max(0.0).sqrt(),
            FnKind::HardSigmoid(a, b) => (k(a) * x + k(b)).clamp(0.0, 1.0),
            FnKind::Reciprocal if x == 0.0 => 0.0,
            FnKind::Reciprocal => 1.0 / x,
            FnKind::Ln if x <= 0.0 => 0.0,
            FnKind::Ln => x.ln(),
            FnKind::Sign if x == 0.0 => 0.0,
            FnKind::Sign => x.signum(),
            FnKind::Shrink(l, b) if x > k(l) => x - k(b),
            FnKind::Shrink(l, b) if x < -k(l) => x + k(b),
            FnKind::Shrink(..) => 0.0,
            FnKind::Pow(p) => {
                let y = x.powf(k(p));
                if y.is_finite() {
                    y
                } else {
                    0.0
                }
            }
            FnKind::Rsqrt if x <= 0.0 => 0.0,
            FnKind::Rsqrt => 1.0 / x.sqrt(),
            FnKind::HardSwish => x * (x / 6.0 + 0.5).clamp(0.0, 1.0),
        }
    }
}

/// A table function: requantize into the table's domain, then look up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableFn {
    /// The function.
    pub kind: FnKind,
    /// Multiplier bringing the input up to the table scale (when the table's is finer).
    pub mul: i64,
    /// Brings the input to the table scale; its `bits` are the table's domain.
    pub requant: Requant,
    /// log2 of the table input scale.
    pub in_scale: u32,
    /// log2 of the output scale.
    pub out_scale: u32,
}

impl TableFn {
    /// The table this op looks up in.
    pub fn key(&self) -> TableKey {
        TableKey::Fn(self.kind, self.requant.bits, self.in_scale, self.out_scale)
    }

    /// The table's `(x, y)` rows.
    pub fn table_rows(&self) -> Vec<(i128, i128)> {
        let b = 1i128 << self.requant.bits;
        (-b..b).map(|x| (x, self.apply(x))).collect()
    }

    fn apply(&self, x: i128) -> i128 {
        let y = self.kind.eval(dequantize(x, self.in_scale));
        quantize(y, self.out_scale).unwrap_or(0)
    }
}

impl Operator for TableFn {
    fn table(&self) -> Option<(TableKey, Vec<(i128, i128)>)> {
        Some((self.key(), self.table_rows()))
    }

    fn requant(&self) -> Option<Requant> {
        Some(self.requant)
    }

    /// The input and output shapes agree.
    fn check(&self, inputs: &[&[usize]], out: &[usize]) -> Result<(), String> {
        match inputs {
            [x] if x.iter().product::<usize>() == out.iter().product::<usize>()
                && !self.requant.relu =>
            {
                Ok(())
            }
            _ => Err("a table function maps one tensor to one of the same size".into()),
        }
    }

    /// Integer reference semantics.
    fn reference(&self, node: &str, inputs: &[&[i128]]) -> Result<Vec<i128>, EvalError> {
        inputs[0]
            .iter()
            .map(|&x| Ok(self.apply(self.requant.apply(x * self.mul as i128, node)?.out)))
            .collect()
    }

    /// Counts rows: a requant row and a table row per value.
    fn count_rows(&self, _lanes: usize, n: usize, rows: &mut RowCounter) {
        for _ in 0..n {
            rows.requant_then_lookup(&self.requant);
        }
    }

    /// Lays out every value; returns the output cells.
    fn layout(&self, ctx: &mut LayoutCtx<'_, '_>, io: &NodeIo<'_>) -> Result<Vec<Cell>, Error> {
        let (node, inputs, values) = io.parts();
        let lookup = |t| self.apply(t);
        let read = TableRead {
            tag: ctx.tag(&self.key())?,
            requant: self.requant,
            lookup: &lookup,
        };
        let coefficients = (self.mul as i128, 0);
        (inputs[0].iter().enumerate())
            .map(|(j, &cell)| {
                let x = values.map(|v| v[0][j]);
                requant_then_lookup(ctx, node, &read, coefficients, (cell, x))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixed_point::to_field;
    use crate::ir::Model;
    use crate::ops::test_support::{model_failures, OneNode};
    use crate::ops::Op;

    /// Every table function, with parameters where it takes them.
    const KINDS: &[FnKind] = &[
        FnKind::Sigmoid,
        FnKind::Tanh,
        FnKind::Exp,
        FnKind::Softplus,
        FnKind::Elu(1000),
        FnKind::Selu(1673, 1051),
        FnKind::Erf,
        FnKind::Gelu,
        FnKind::Softsign,
        FnKind::Sqrt,
        FnKind::HardSigmoid(200, 500),
        FnKind::Reciprocal,
        FnKind::Ln,
        FnKind::Sign,
        FnKind::Shrink(500, 0),
        FnKind::Pow(1500),
        FnKind::Rsqrt,
        FnKind::HardSwish,
    ];

    /// Inputs at scale 4: the table input `round(x/2)` at scale 3 spans both signs.
    const X: [i128; 5] = [-40, -1, 0, 3, 100];

    fn op(kind: FnKind) -> TableFn {
        TableFn {
            kind,
            mul: 1,
            requant: Requant {
                shift: 1,
                bits: 6,
                relu: false,
            },
            in_scale: 3,
            out_scale: 7,
        }
    }

    fn model(kind: FnKind) -> Model {
        OneNode {
            name: "f",
            op: Op::TableFn(op(kind)),
            reads: vec![0],
            shape: vec![X.len()],
            scale: 4,
            bits: 8,
            out: vec![X.len()],
            out_scale: 7,
        }
        .model()
    }

    #[test]
    fn every_function_is_its_rounded_real_function_and_verifies() {
        for &kind in KINDS {
            let out = op(kind).reference("f", &[&X]).unwrap();
            for (&x, &y) in X.iter().zip(&out) {
                let key = (x + 1) >> 1;
                let want = quantize(kind.eval(dequantize(key, 3)), 7).unwrap_or(0);
                assert_eq!(y, want, "{kind:?}({x})");
            }
            model_failures(&model(kind), None, X.to_vec(), |_, _| {})
                .unwrap_or_else(|f| panic!("{kind:?}: {f:?}"));
        }
    }

    /// A changed public output: the row binding it to the instance (a dot row whose gate
    /// says `acc = instance`) fails, and nothing else.
    #[test]
    fn a_changed_output_fails_only_its_instance_binding() {
        for &kind in KINDS {
            let f = model_failures(&model(kind), None, X.to_vec(), |_, inst| {
                inst[3] += to_field(1);
            })
            .unwrap_err();
            assert!(f.iter().all(|f| f.ends_with("('dot')")), "{kind:?}: {f:?}");
        }
    }

    #[test]
    fn an_input_outside_the_table_is_refused_by_the_reference() {
        // round(130/2) = 65 lies outside the table's [-64, 64).
        let err = op(FnKind::Tanh).reference("f", &[&[130]]).unwrap_err();
        assert!(err.to_string().contains("'f'"), "{err}");
    }

    struct Attrs(&'static [(&'static str, f32)], &'static str);

    impl Attributes for Attrs {
        fn float(&self, name: &str, default: f32) -> f32 {
            self.0
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(default, |a| a.1)
        }

        fn string(&self, _: &str) -> String {
            self.1.into()
        }
    }

    #[test]
    fn onnx_op_types_map_to_their_functions_with_attributes() {
        let none = Attrs(&[], "");
        assert_eq!(FnKind::from_onnx("Softsign", &none), Some(FnKind::Softsign));
        let elu = Attrs(&[("alpha", 0.25)], "");
        assert_eq!(FnKind::from_onnx("Elu", &elu), Some(FnKind::Elu(250)));
        assert_eq!(FnKind::from_onnx("Gelu", &Attrs(&[], "tanh")), None);
        assert_eq!(FnKind::from_onnx("Conv", &none), None);
    }

    #[test]
    fn hardswish_follows_its_definition() {
        let f = FnKind::HardSwish;
        assert_eq!(
            (f.eval(-3.0), f.eval(3.0), f.eval(1.5), f.eval(9.0)),
            (0.0, 3.0, 1.125, 9.0)
        );
        assert_eq!(FnKind::from_onnx("HardSwish", &Attrs(&[], "")), Some(f));
    }

    #[test]
    fn softsign_follows_its_definition() {
        assert_eq!(FnKind::Softsign.eval(3.0), 0.75);
        assert_eq!(FnKind::Softsign.eval(-1.0), -0.5);
    }
}
