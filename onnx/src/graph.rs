//! The float graph: ONNX lowered to zkonnx's operator set, before quantization.
//!
//! Tensor ids follow the IR's convention: graph inputs first, then one per node. The float
//! interpreter here is what calibration measures ranges with; tests check it against tract.

/// A lowered float operator.
#[derive(Clone, Debug, PartialEq)]
pub enum FloatOp {
    /// `y = x·Wᵀ + b`, `w` is `out × in`.
    Linear {
        /// Input features.
        in_dim: usize,
        /// Output features.
        out_dim: usize,
        /// Weights, row-major `out × in`.
        w: Vec<f64>,
        /// Bias, `out` values.
        b: Vec<f64>,
    },
    /// `y = x + c`, `c` expanded to the output.
    AddConst {
        /// Constant per output value.
        c: Vec<f64>,
    },
    /// `y = x_a + sign·x_b` with broadcast index maps.
    Add {
        /// +1 for Add, -1 for Sub.
        sign: i64,
        /// Per input, the source index of each output value.
        index: [Vec<u32>; 2],
    },
    /// `y = x_a · x_b + c` with broadcast index maps.
    Mul {
        /// Per input, the source index of each output value.
        index: [Vec<u32>; 2],
        /// Constant per output value (empty: zero).
        bias: Vec<f64>,
    },
    /// `C = A·B` of two activations (`m×k` by `k×n`), by index maps into the inputs.
    MatMul {
        /// Rows of `A`, columns of `A`, columns of `B`.
        dims: [usize; 3],
        /// Flat index into input 0 of each `A[i][t]`, row-major.
        a_index: Vec<u32>,
        /// Flat index into input 1 of each `B[t][j]`, row-major.
        b_index: Vec<u32>,
    },
    /// `y = max(x, 0)`.
    Relu,
    /// Same values, another shape.
    Reshape,
    /// `y[j] = b[j] + Σ w·inputs[k][i]` over the terms `(k, i, w)` of output `j`.
    SparseDot {
        /// Terms per output value.
        terms: Vec<Vec<(u32, u32, f64)>>,
        /// Bias per output value.
        b: Vec<f64>,
    },
    /// `y = f(x)` elementwise, by table lookup in the circuit.
    Fn {
        /// The function.
        kind: zkonnx_circuits::ops::FnKind,
    },
    /// `y[i, j] = table[idx_i, j]`: a constant table indexed by an activation.
    Embed {
        /// The table, row-major `V × dim`.
        table: Vec<f64>,
        /// Values per table row.
        dim: usize,
    },
    /// `y[j] = inputs[k][i]` for the source `(k, i)` of output `j`.
    Gather {
        /// Source per output value.
        sources: Vec<(u32, u32)>,
    },
}

/// A node of the float graph.
#[derive(Clone, Debug, PartialEq)]
pub struct FloatNode {
    /// ONNX node name (or a generated one).
    pub name: String,
    /// ONNX op type.
    pub op_type: String,
    /// The operator.
    pub op: FloatOp,
    /// Input tensor ids.
    pub inputs: Vec<usize>,
    /// Output shape.
    pub shape: Vec<usize>,
    /// A ReLU fused into this node (set by [`FloatGraph::fuse`]).
    pub relu: bool,
}

/// The lowered model.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct FloatGraph {
    /// Graph inputs: name and shape.
    pub inputs: Vec<(String, Vec<usize>)>,
    /// Nodes in execution order.
    pub nodes: Vec<FloatNode>,
    /// Output tensor ids.
    pub outputs: Vec<usize>,
    /// Output names.
    pub output_names: Vec<String>,
}

impl FloatGraph {
    /// Shape of a tensor.
    pub fn shape(&self, id: usize) -> &[usize] {
        match id.checked_sub(self.inputs.len()) {
            None => &self.inputs[id].1,
            Some(n) => &self.nodes[n].shape,
        }
    }

    /// Runs the graph; returns every tensor, and for each node its value before a fused ReLU.
    pub fn run(&self, inputs: &[Vec<f64>]) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
        let mut tensors: Vec<Vec<f64>> = inputs.to_vec();
        let mut pre = Vec::with_capacity(self.nodes.len());
        for node in &self.nodes {
            let ins: Vec<&[f64]> = node.inputs.iter().map(|&i| tensors[i].as_slice()).collect();
            let y = eval(&node.op, &ins);
            let out = if node.relu || node.op == FloatOp::Relu {
                y.iter().map(|v| v.max(0.0)).collect()
            } else {
                y.clone()
            };
            pre.push(y);
            tensors.push(out);
        }
        (tensors, pre)
    }

    /// Number of nodes reading each tensor, graph outputs counted as readers.
    fn readers(&self) -> Vec<usize> {
        let mut n = vec![0; self.inputs.len() + self.nodes.len()];
        for node in &self.nodes {
            for &i in &node.inputs {
                n[i] += 1;
            }
        }
        for &o in &self.outputs {
            n[o] += 1;
        }
        n
    }

    /// The tensor a chain of single-reader Reshapes (views) starts from.
    fn through_views(&self, mut id: usize, readers: &[usize]) -> usize {
        let base = self.inputs.len();
        while let Some(p) = id.checked_sub(base) {
            let node = &self.nodes[p];
            if node.op != FloatOp::Reshape || node.relu || readers[id] != 1 {
                break;
            }
            id = node.inputs[0];
        }
        id
    }

    /// Folds, when the op before has the folded node as its only reader: a constant Add into
    /// the preceding Linear's bias; a per-value affine map (an inference BatchNormalization)
    /// into the preceding dot product (a Conv, …); and a Relu into the op before it, looking
    /// through reshapes. The folded node becomes a Reshape.
    pub fn fuse(&mut self) {
        let base = self.inputs.len();
        for n in 0..self.nodes.len() {
            let readers = self.readers();
            let first = self.nodes[n].inputs.first().copied().unwrap_or(0);
            let src = if self.nodes[n].op == FloatOp::Relu {
                self.through_views(first, &readers)
            } else {
                first
            };
            let Some(p) = src.checked_sub(base) else {
                continue;
            };
            if readers[src] != 1 {
                continue;
            }
            let (before, after) = self.nodes.split_at_mut(n);
            let (prev, node) = (&mut before[p], &mut after[0]);
            let folded = match (&node.op, &mut prev.op) {
                (
                    FloatOp::Relu,
                    FloatOp::Linear { .. }
                    | FloatOp::AddConst { .. }
                    | FloatOp::Add { .. }
                    | FloatOp::SparseDot { .. }
                    | FloatOp::Mul { .. }
                    | FloatOp::MatMul { .. },
                ) if !prev.relu => {
                    prev.relu = true;
                    true
                }
                (FloatOp::SparseDot { terms: t2, b: b2 }, FloatOp::SparseDot { terms, b })
                    if !prev.relu
                        && node.inputs.len() == 1
                        && t2.len() == terms.len()
                        && t2
                            .iter()
                            .enumerate()
                            .all(|(j, t)| matches!(t[..], [(0, i, _)] if i as usize == j)) =>
                {
                    for ((t, b), (t2, b2)) in
                        terms.iter_mut().zip(b.iter_mut()).zip(t2.iter().zip(b2))
                    {
                        let a = t2[0].2;
                        t.iter_mut().for_each(|term| term.2 *= a);
                        *b = *b * a + b2;
                    }
                    true
                }
                (FloatOp::AddConst { c }, FloatOp::Linear { out_dim, b, .. }) if !prev.relu => {
                    let per_feature = c.chunks(*out_dim).all(|chunk| chunk == &c[..*out_dim]);
                    if per_feature && c.len() >= *out_dim {
                        b.iter_mut().zip(c).for_each(|(b, c)| *b += c);
                    }
                    per_feature && c.len() >= *out_dim
                }
                _ => false,
            };
            if folded {
                node.op = FloatOp::Reshape;
            }
        }
    }
}

/// Evaluates one op before its ReLU (a fused ReLU, or the Relu op itself).
pub fn eval(op: &FloatOp, ins: &[&[f64]]) -> Vec<f64> {
    match op {
        FloatOp::Linear {
            in_dim,
            out_dim,
            w,
            b,
        } => ins[0]
            .chunks(*in_dim)
            .flat_map(|x| {
                (0..*out_dim).map(move |o| {
                    b[o] + x
                        .iter()
                        .zip(&w[o * in_dim..(o + 1) * in_dim])
                        .map(|(a, w)| a * w)
                        .sum::<f64>()
                })
            })
            .collect(),
        FloatOp::AddConst { c } => c
            .iter()
            .enumerate()
            .map(|(j, c)| ins[0][j % ins[0].len()] + c)
            .collect(),
        FloatOp::Add { sign, index } => index[0]
            .iter()
            .zip(&index[1])
            .map(|(&a, &b)| ins[0][a as usize] + *sign as f64 * ins[1][b as usize])
            .collect(),
        // The ReLU itself is applied by `run`, after the pre-activation range is recorded.
        FloatOp::Relu | FloatOp::Reshape => ins[0].to_vec(),
        FloatOp::SparseDot { terms, b } => terms
            .iter()
            .zip(b)
            .map(|(t, b)| {
                b + t
                    .iter()
                    .map(|&(k, i, w)| w * ins[k as usize][i as usize])
                    .sum::<f64>()
            })
            .collect(),
        // An index that is not a row of the table gives NaN, which calibration refuses.
        FloatOp::Embed { table, dim } => ins[0]
            .iter()
            .flat_map(|&i| {
                let row = (i >= 0.0 && i.fract() == 0.0 && (i as usize) * dim < table.len())
                    .then_some(i as usize);
                (0..*dim).map(move |j| row.map_or(f64::NAN, |r| table[r * dim + j]))
            })
            .collect(),
        FloatOp::MatMul {
            dims: [m, k, n],
            a_index,
            b_index,
        } => (0..m * n)
            .map(|o| {
                (0..*k)
                    .map(|t| {
                        ins[0][a_index[o / n * k + t] as usize]
                            * ins[1][b_index[t * n + o % n] as usize]
                    })
                    .sum()
            })
            .collect(),
        FloatOp::Gather { sources } => sources
            .iter()
            .map(|&(k, i)| ins[k as usize][i as usize])
            .collect(),
        FloatOp::Fn { kind } => ins[0].iter().map(|&x| kind.eval_checked(x)).collect(),
        FloatOp::Mul { index, bias } => index[0]
            .iter()
            .zip(&index[1])
            .enumerate()
            .map(|(j, (&a, &b))| {
                ins[0][a as usize] * ins[1][b as usize] + bias.get(j).copied().unwrap_or(0.0)
            })
            .collect(),
    }
}

/// Numpy broadcasting: the output shape and, per input, the source index of each output value.
pub fn broadcast(a: &[usize], b: &[usize]) -> Option<(Vec<usize>, [Vec<u32>; 2])> {
    let rank = a.len().max(b.len());
    let pad = |s: &[usize]| -> Vec<usize> {
        let mut v = vec![1; rank - s.len()];
        v.extend_from_slice(s);
        v
    };
    let (pa, pb) = (pad(a), pad(b));
    let mut out = Vec::with_capacity(rank);
    for (x, y) in pa.iter().zip(&pb) {
        out.push(match (x, y) {
            (x, y) if x == y => *x,
            (1, y) => *y,
            (x, 1) => *x,
            _ => return None,
        });
    }
    let total: usize = out.iter().product();
    let index = |s: &[usize]| -> Vec<u32> {
        (0..total)
            .map(|flat| {
                let (mut rest, mut src, mut stride) = (flat, 0usize, 1usize);
                for d in (0..rank).rev() {
                    let coord = rest % out[d];
                    rest /= out[d];
                    if s[d] != 1 {
                        src += coord * stride;
                    }
                    stride *= s[d];
                }
                src as u32
            })
            .collect()
    };
    Some((out.clone(), [index(&pa), index(&pb)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_norm_folds_into_the_dot_before_it_and_a_relu_follows() {
        let node = |op, inputs: Vec<usize>| FloatNode {
            name: String::new(),
            op_type: String::new(),
            op,
            inputs,
            shape: vec![2],
            relu: false,
        };
        let conv = FloatOp::SparseDot {
            terms: vec![vec![(0, 0, 1.0), (0, 1, 2.0)], vec![(0, 1, -1.0)]],
            b: vec![0.5, 0.0],
        };
        let bn = FloatOp::SparseDot {
            terms: vec![vec![(0, 0, 3.0)], vec![(0, 1, -2.0)]],
            b: vec![1.0, 4.0],
        };
        let mut g = FloatGraph {
            inputs: vec![("x".into(), vec![2])],
            nodes: vec![
                node(conv, vec![0]),
                node(bn, vec![1]),
                node(FloatOp::Relu, vec![2]),
            ],
            outputs: vec![3],
            output_names: vec!["y".into()],
        };
        let x = vec![vec![1.5, -2.0]];
        let before = g.run(&x).0[3].clone();
        g.fuse();
        assert_eq!(g.run(&x).0[3], before);
        assert_eq!(before, vec![0.0, 0.0f64.max(-2.0 * 2.0 + 4.0)]);
        let real_ops = g.nodes.iter().filter(|n| n.op != FloatOp::Reshape).count();
        assert_eq!(real_ops, 1, "{:?}", g.nodes);
        assert!(g.nodes[0].relu);
    }

    #[test]
    fn broadcast_follows_numpy() {
        let (shape, [ia, ib]) = broadcast(&[2, 3], &[3]).unwrap();
        assert_eq!(shape, vec![2, 3]);
        assert_eq!(ia, vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(ib, vec![0, 1, 2, 0, 1, 2]);
        let (shape, [_, ib]) = broadcast(&[2, 3], &[2, 1]).unwrap();
        assert_eq!(shape, vec![2, 3]);
        assert_eq!(ib, vec![0, 0, 0, 1, 1, 1]);
        assert!(broadcast(&[2, 3], &[4]).is_none());
    }
}
