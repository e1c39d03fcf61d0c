//! The float graph: ONNX lowered to zkonnx's operator set, before quantization.
//!
//! Tensor ids follow the IR's convention: graph inputs first, then one per node. The float
//! interpreter here is what calibration measures ranges with; tests check it against tract.
//! Each op's semantics live in its own module under [`crate::float_op`].

pub use crate::float_op::FloatOp;
use crate::float_op::{Reshape, SparseDot};

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
    /// Per graph input, whether its element type is boolean (its domain is then `{0, 1}`).
    pub boolean_inputs: Vec<bool>,
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
            let y = node.op.operator().eval(&ins);
            let out = if node.relu || node.op.operator().is_relu() {
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
            if !node.op.operator().is_view() || node.relu || readers[id] != 1 {
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
            let src = if self.nodes[n].op.operator().is_relu() {
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
            let folded = if node.op.operator().is_relu() {
                let fold = !prev.relu && prev.op.operator().takes_relu();
                prev.relu |= fold;
                fold
            } else if prev.relu {
                false
            } else {
                fold_into(&node.op, node.inputs.len(), &mut prev.op)
            };
            if folded {
                node.op = FloatOp::Reshape(Reshape);
            }
        }
    }
}

/// Folds a single-input `node` into the op before it (`prev`, which has no ReLU and no other
/// reader): a per-value affine map into a dot product, a constant Add into a Linear's bias
/// when it adds one value per feature. Returns whether it folded.
fn fold_into(node: &FloatOp, node_inputs: usize, prev: &mut FloatOp) -> bool {
    match (node, prev) {
        (FloatOp::SparseDot(outer), FloatOp::SparseDot(inner))
            if node_inputs == 1 && is_per_value(outer, inner.terms.len()) =>
        {
            let pairs = inner.terms.iter_mut().zip(inner.b.iter_mut());
            for ((t, b), (t2, b2)) in pairs.zip(outer.terms.iter().zip(&outer.b)) {
                let a = t2[0].2;
                t.iter_mut().for_each(|term| term.2 *= a);
                *b = *b * a + b2;
            }
            true
        }
        (FloatOp::AddConst(add), FloatOp::Linear(lin)) => {
            let n = lin.out_dim;
            let c = &add.c;
            let per_feature = c.len() >= n && c.chunks(n).all(|chunk| chunk == &c[..n]);
            if per_feature {
                lin.b.iter_mut().zip(c).for_each(|(b, c)| *b += c);
            }
            per_feature
        }
        _ => false,
    }
}

/// Whether `dot` maps each of `len` values to a multiple of itself (plus a bias): output `j`
/// has the single term `(0, j, w)`.
fn is_per_value(dot: &SparseDot, len: usize) -> bool {
    dot.terms.len() == len
        && dot
            .terms
            .iter()
            .enumerate()
            .all(|(j, t)| matches!(t[..], [(0, i, _)] if i as usize == j))
}

/// Numpy broadcasting: the output shape and, per input, the source index of each output value.
pub fn broadcast(a: &[usize], b: &[usize]) -> Option<(Vec<usize>, [Vec<u32>; 2])> {
    let rank = a.len().max(b.len());
    let dim = |s: &[usize], i: usize| (i + s.len()).checked_sub(rank).map_or(1, |j| s[j]);
    let out = (0..rank)
        .map(|i| match (dim(a, i), dim(b, i)) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect::<Option<Vec<usize>>>()?;
    let index = |s: &[usize]| -> Option<Vec<u32>> {
        let idx = crate::lower::iota(s);
        Some(
            idx.broadcast(ndarray::IxDyn(&out))?
                .iter()
                .copied()
                .collect(),
        )
    };
    Some((out.clone(), [index(a)?, index(b)?]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::float_op::Relu;

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
        let conv = FloatOp::SparseDot(SparseDot {
            terms: vec![vec![(0, 0, 1.0), (0, 1, 2.0)], vec![(0, 1, -1.0)]],
            b: vec![0.5, 0.0],
        });
        let bn = FloatOp::SparseDot(SparseDot {
            terms: vec![vec![(0, 0, 3.0)], vec![(0, 1, -2.0)]],
            b: vec![1.0, 4.0],
        });
        let mut g = FloatGraph {
            inputs: vec![("x".into(), vec![2])],
            boolean_inputs: vec![false],
            nodes: vec![
                node(conv, vec![0]),
                node(bn, vec![1]),
                node(FloatOp::Relu(Relu), vec![2]),
            ],
            outputs: vec![3],
            output_names: vec!["y".into()],
        };
        let x = vec![vec![1.5, -2.0]];
        let before = g.run(&x).0[3].clone();
        g.fuse();
        assert_eq!(g.run(&x).0[3], before);
        assert_eq!(before, vec![0.0, 0.0f64.max(-2.0 * 2.0 + 4.0)]);
        let real_ops = g
            .nodes
            .iter()
            .filter(|n| n.op != FloatOp::Reshape(Reshape))
            .count();
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
