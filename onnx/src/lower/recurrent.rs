//! RNN, GRU and LSTM unrolled over the fixed sequence length into a function body (see
//! [`super::expand`]): each step is products with the constant weights (`MatMul`), bias
//! additions, the gate activations by table, and products of activations, as ONNX defines
//! the cells. The weights, biases, peepholes and `sequence_lens` are constants (or graph
//! inputs fixed at compile time); the initial states may be activations.

use super::expand::{Attr, Body};
use super::{attr_f, attr_i, attr_s, Const, Lowered, Lowering, Operand};
use tract_onnx::pb::NodeProto;

/// The cell kinds.
#[derive(Clone, Copy, PartialEq)]
enum Cell {
    Rnn,
    Gru,
    Lstm,
}

impl Cell {
    fn gates(self) -> usize {
        match self {
            Cell::Rnn => 1,
            Cell::Gru => 3,
            Cell::Lstm => 4,
        }
    }

    fn default_activations(self) -> &'static [&'static str] {
        match self {
            Cell::Rnn => &["Tanh"],
            Cell::Gru => &["Sigmoid", "Tanh"],
            Cell::Lstm => &["Sigmoid", "Tanh", "Tanh"],
        }
    }
}

/// The activations zkonnx lowers by name (as ONNX ops without attributes).
const ACTIVATIONS: &[&str] = &["Sigmoid", "Tanh", "Relu", "Softsign", "Softplus"];

/// A constant operand at ONNX input position `i`.
fn constant<'a>(
    node: &NodeProto,
    ops: &'a [Operand<'a>],
    i: usize,
    what: &str,
) -> Result<Option<&'a Const>, String> {
    match super::operand(node, ops, i) {
        None => Ok(None),
        Some(Operand::Const(c)) => Ok(Some(c)),
        Some(Operand::Act(_)) => Err(format!("{what} must be fixed at compile time")),
    }
}

/// One direction's constants: per gate, `Wᵀ` (`[input, h]`), `Rᵀ` (`[h, h]`) and the
/// summed bias `Wb + Rb` (`[h]`), names in the body; and, for GRU, `Rb` alone.
struct Weights {
    w: Vec<String>,
    r: Vec<String>,
    bias: Vec<String>,
    r_bias: Vec<String>,
    peep: Vec<String>,
}

/// Block `g` of direction `d` of a `[dirs, G·h, k]` weight, transposed to `[k, h]`.
fn block_t(w: &Const, d: usize, g: usize, h: usize) -> (Vec<usize>, Vec<f64>) {
    let (rows, k) = (w.shape[1], w.shape[2]);
    let mut out = vec![0.0; k * h];
    for j in 0..h {
        for i in 0..k {
            out[i * h + j] = w.data[(d * rows + g * h + j) * k + i];
        }
    }
    (vec![k, h], out)
}

fn weights(
    b: &mut Body,
    cell: Cell,
    (w, r, bias, peep): (&Const, &Const, Option<&Const>, Option<&Const>),
    d: usize,
    h: usize,
) -> Weights {
    let g = cell.gates();
    let mut out = Weights {
        w: vec![],
        r: vec![],
        bias: vec![],
        r_bias: vec![],
        peep: vec![],
    };
    let at = |c: Option<&Const>, k: usize| c.map_or(0.0, |c| c.data[d * 2 * g * h + k]);
    for gate in 0..g {
        let (s, v) = block_t(w, d, gate, h);
        out.w.push(b.constant(s, v));
        let (s, v) = block_t(r, d, gate, h);
        out.r.push(b.constant(s, v));
        let wb: Vec<f64> = (0..h).map(|j| at(bias, gate * h + j)).collect();
        let rb: Vec<f64> = (0..h).map(|j| at(bias, (g + gate) * h + j)).collect();
        let sum = wb.iter().zip(&rb).map(|(a, c)| a + c).collect();
        out.bias.push(b.constant(vec![h], sum));
        out.r_bias.push(b.constant(vec![h], rb));
    }
    if let Some(p) = peep {
        for k in 0..3 {
            let v = (0..h).map(|j| p.data[d * 3 * h + k * h + j]).collect();
            out.peep.push(b.constant(vec![h], v));
        }
    }
    out
}

/// The body being built and the settings every step reads.
struct Unroll<'a> {
    b: Body,
    clip: Option<(String, String)>,
    acts: &'a [String],
}

impl Unroll<'_> {
    /// `f(x)` for activation `k` of this direction, after the cell clip.
    fn act(&mut self, k: usize, x: &str) -> String {
        let x = match &self.clip {
            Some((lo, hi)) => self.b.op("Clip", &[x, lo, hi], &[]),
            None => x.to_string(),
        };
        let f = self.acts[k].clone();
        self.b.op(&f, &[&x], &[])
    }

    fn mm(&mut self, x: &str, w: &str) -> String {
        self.b.op("MatMul", &[x, w], &[])
    }

    fn add(&mut self, a: &str, c: &str) -> String {
        self.b.op("Add", &[a, c], &[])
    }

    fn mul(&mut self, a: &str, c: &str) -> String {
        self.b.op("Mul", &[a, c], &[])
    }

    /// `x·Wᵀ + h·Rᵀ + bias` of gate `g`.
    fn gate(&mut self, w: &Weights, g: usize, x: &str, h: &str) -> String {
        let xw = self.mm(x, &w.w[g]);
        let hr = self.mm(h, &w.r[g]);
        let s = self.add(&xw, &hr);
        self.add(&s, &w.bias[g])
    }

    /// One step: the new hidden state (and cell state, for LSTM).
    fn step(
        &mut self,
        cell: Cell,
        w: &Weights,
        x: &str,
        h: &str,
        c: &str,
        lbr: bool,
    ) -> (String, String) {
        match cell {
            Cell::Rnn => {
                let a = self.gate(w, 0, x, h);
                (self.act(0, &a), String::new())
            }
            Cell::Gru => {
                let z = self.gate(w, 0, x, h);
                let z = self.act(0, &z);
                let r = self.gate(w, 1, x, h);
                let r = self.act(0, &r);
                let xw = self.mm(x, &w.w[2]);
                let inner = if lbr {
                    let hr = self.mm(h, &w.r[2]);
                    let hr = self.add(&hr, &w.r_bias[2]);
                    self.mul(&r, &hr)
                } else {
                    let rh = self.mul(&r, h);
                    let hr = self.mm(&rh, &w.r[2]);
                    self.add(&hr, &w.r_bias[2])
                };
                let s = self.add(&xw, &inner);
                // Wb of the h gate: the summed bias less Rb.
                let wb = self.b.op("Sub", &[&w.bias[2], &w.r_bias[2]], &[]);
                let s = self.add(&s, &wb);
                let hh = self.act(1, &s);
                // h' = hh + z·(h − hh)
                let diff = self.b.op("Sub", &[h, &hh], &[]);
                let zd = self.mul(&z, &diff);
                (self.add(&hh, &zd), String::new())
            }
            Cell::Lstm => {
                let peep = |u: &mut Self, k: usize, s: String, state: &str| match w.peep.get(k) {
                    Some(p) => {
                        let pc = u.mul(state, p);
                        u.add(&s, &pc)
                    }
                    None => s,
                };
                let i = self.gate(w, 0, x, h);
                let i = peep(self, 0, i, c);
                let i = self.act(0, &i);
                let f = self.gate(w, 2, x, h);
                let f = peep(self, 2, f, c);
                let f = self.act(0, &f);
                let cc = self.gate(w, 3, x, h);
                let cc = self.act(1, &cc);
                let fc = self.mul(&f, c);
                let ic = self.mul(&i, &cc);
                let c2 = self.add(&fc, &ic);
                let o = self.gate(w, 1, x, h);
                let o = peep(self, 1, o, &c2);
                let o = self.act(0, &o);
                let hc = self.act(2, &c2);
                (self.mul(&o, &hc), c2)
            }
        }
    }
}

fn recurrent(
    l: &Lowering,
    node: &NodeProto,
    ops: &[Operand],
    cell: Cell,
) -> Result<Lowered, String> {
    let x = node.input.first().map(String::as_str).unwrap_or_default();
    let &xid = l.acts.get(x).ok_or("X must be an activation")?;
    let xs = l.shape(xid).to_vec();
    let [a, bsz, input] = xs[..] else {
        return Err(format!("X must be 3-D, got {xs:?}"));
    };
    let layout = attr_i(node, "layout", 0);
    let (seq, batch) = if layout == 0 { (a, bsz) } else { (bsz, a) };
    let h = attr_i(node, "hidden_size", 0).max(0) as usize;
    let w = constant(node, ops, 1, "W")?.ok_or("W is required")?;
    let r = constant(node, ops, 2, "R")?.ok_or("R is required")?;
    let bias = constant(node, ops, 3, "B")?;
    let peep = if cell == Cell::Lstm {
        constant(node, ops, 7, "P")?
    } else {
        None
    };
    let dirs = match attr_s(node, "direction").as_str() {
        "" | "forward" => vec![false],
        "reverse" => vec![true],
        "bidirectional" => vec![false, true],
        d => return Err(format!("direction '{d}' is not defined")),
    };
    let g = cell.gates();
    if h == 0 || w.shape != [dirs.len(), g * h, input] || r.shape != [dirs.len(), g * h, h] {
        return Err(format!(
            "W {:?} and R {:?} do not fit hidden_size {h}",
            w.shape, r.shape
        ));
    }
    if let Some(lens) = constant(node, ops, 4, "sequence_lens")? {
        if lens.data.iter().any(|&v| v as usize != seq) {
            return Err("sequence_lens shorter than the sequence are not supported".into());
        }
    }
    if cell == Cell::Lstm && attr_i(node, "input_forget", 0) != 0 {
        return Err("input_forget is not supported".into());
    }
    let names: Vec<String> = match super::attr(node, "activations") {
        Some(a) => a
            .strings
            .iter()
            .map(|s| String::from_utf8_lossy(s).to_string())
            .collect(),
        None => dirs
            .iter()
            .flat_map(|_| cell.default_activations())
            .map(|s| s.to_string())
            .collect(),
    };
    if let Some(bad) = names.iter().find(|n| !ACTIVATIONS.contains(&n.as_str())) {
        return Err(format!("activation '{bad}' is not supported"));
    }
    let per_dir = cell.default_activations().len();
    if names.len() != per_dir * dirs.len() {
        return Err(format!(
            "{} activations for {} direction(s)",
            names.len(),
            dirs.len()
        ));
    }
    let mut b = Body::new(
        node.output
            .first()
            .filter(|o| !o.is_empty())
            .or(node.output.get(1))
            .cloned()
            .unwrap_or_default(),
    );
    let clip = super::attr(node, "clip").map(|_| f64::from(attr_f(node, "clip", 0.0)));
    let clip = clip.map(|c| (b.scalar(-c), b.scalar(c)));
    // X as [seq, batch, input].
    let x = if layout == 0 {
        x.to_string()
    } else {
        b.op("Transpose", &[x], &[("perm", Attr::Ints(vec![1, 0, 2]))])
    };
    let state = |b: &mut Body, i: usize, d: usize| -> Result<String, String> {
        let name = node.input.get(i).filter(|n| !n.is_empty());
        match name.map(|n| (n, l.acts.contains_key(n), l.consts.get(n))) {
            None => {
                let zeros = b.constant(vec![batch, h], vec![0.0; batch * h]);
                Ok(b.internal("Materialize", &[&x, &zeros]))
            }
            Some((n, true, _)) => {
                let (at, axes) = (b.ints(&[d as i64]), b.ints(&[0]));
                let s = b.op("Gather", &[n, &at], &[("axis", Attr::Int(0))]);
                Ok(b.op("Squeeze", &[&s, &axes], &[]))
            }
            Some((_, false, Some(c))) => {
                let v = c.data[d * batch * h..(d + 1) * batch * h].to_vec();
                let v = b.constant(vec![batch, h], v);
                Ok(b.internal("Materialize", &[&x, &v]))
            }
            Some(_) => Err("an initial state is not defined before the node".into()),
        }
    };
    let lbr = attr_i(node, "linear_before_reset", 0) != 0;
    let mut ys: Vec<Vec<String>> = vec![];
    let (mut last_h, mut last_c) = (vec![], vec![]);
    for (d, &reverse) in dirs.iter().enumerate() {
        let mut hs = state(&mut b, 5, d)?;
        let mut cs = if cell == Cell::Lstm {
            state(&mut b, 6, d)?
        } else {
            String::new()
        };
        let wd = weights(&mut b, cell, (w, r, bias, peep), d, h);
        let acts = names[d * per_dir..(d + 1) * per_dir].to_vec();
        let mut u = Unroll {
            b,
            clip: clip.clone(),
            acts: &acts,
        };
        let mut out = vec![String::new(); seq];
        let order: Vec<usize> = if reverse {
            (0..seq).rev().collect()
        } else {
            (0..seq).collect()
        };
        for t in order {
            let at = u.b.ints(&[t as i64]);
            let xt = u.b.op("Gather", &[&x, &at], &[("axis", Attr::Int(0))]);
            let zero = u.b.ints(&[0]);
            let xt = u.b.op("Squeeze", &[&xt, &zero], &[]);
            (hs, cs) = {
                let (h2, c2) = u.step(cell, &wd, &xt, &hs, &cs, lbr);
                (h2, if cell == Cell::Lstm { c2 } else { cs })
            };
            out[t] = hs.clone();
        }
        b = u.b;
        ys.push(out);
        last_h.push(hs);
        last_c.push(cs);
    }
    // Y: [seq, dirs, batch, h] (layout 1: [batch, seq, dirs, h]); Y_h, Y_c: [dirs, batch, h].
    let zero = b.ints(&[0]);
    let stack = |b: &mut Body, parts: &[String], axis: i64| -> String {
        let ex: Vec<String> = parts
            .iter()
            .map(|p| b.op("Unsqueeze", &[p, &zero], &[]))
            .collect();
        let refs: Vec<&str> = ex.iter().map(String::as_str).collect();
        b.op("Concat", &refs, &[("axis", Attr::Int(axis))])
    };
    let steps: Vec<String> = (0..seq)
        .map(|t| {
            let per_dir: Vec<String> = ys.iter().map(|y| y[t].clone()).collect();
            stack(&mut b, &per_dir, 0)
        })
        .collect();
    let mut y = stack(&mut b, &steps, 0);
    let mut yh = stack(&mut b, &last_h, 0);
    let mut yc = if cell == Cell::Lstm {
        Some(stack(&mut b, &last_c, 0))
    } else {
        None
    };
    if layout != 0 {
        y = b.op(
            "Transpose",
            &[&y],
            &[("perm", Attr::Ints(vec![2, 0, 1, 3]))],
        );
        yh = b.op("Transpose", &[&yh], &[("perm", Attr::Ints(vec![1, 0, 2]))]);
        yc = yc.map(|c| b.op("Transpose", &[&c], &[("perm", Attr::Ints(vec![1, 0, 2]))]));
    }
    b.outputs = vec![Some(y), Some(yh), yc];
    Ok(Lowered::Body(b))
}

/// RNN.
pub fn rnn(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    recurrent(l, node, ops, Cell::Rnn)
}

/// GRU.
pub fn gru(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    recurrent(l, node, ops, Cell::Gru)
}

/// LSTM.
pub fn lstm(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    recurrent(l, node, ops, Cell::Lstm)
}
