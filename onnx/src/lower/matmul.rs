//! Products of two activations (`MatMul` of any rank, `Gemm` with an activation `B`): one
//! `MatMul` op per matrix product, checked in the circuit by the Freivalds chip with a
//! second-phase challenge (`k·n + m·n + m·k` rows instead of `m·n·k` products), then, for
//! `Gemm`'s `α` and `β·C`, a dot product.

use super::{attr_f, attr_i, Lowered, Lowering, Operand};
use crate::float_op::{Gather, MatMul, SparseDot};
use crate::graph::{broadcast, FloatOp};
use tract_onnx::pb::NodeProto;

/// A 2-D operand, possibly transposed: its tensor id, and (rows, cols) after the transpose.
struct Mat {
    id: usize,
    rows: usize,
    cols: usize,
    trans: bool,
}

impl Mat {
    fn new(l: &Lowering, id: usize, trans: bool) -> Result<Self, String> {
        let [r, c] = l.shape(id)[..] else {
            return Err(format!("operands must be 2-D, got {:?}", l.shape(id)));
        };
        let (rows, cols) = if trans { (c, r) } else { (r, c) };
        Ok(Self {
            id,
            rows,
            cols,
            trans,
        })
    }

    /// Flat index of element (i, j) of the (transposed) matrix.
    fn at(&self, i: usize, j: usize) -> u32 {
        (if self.trans {
            j * self.rows + i
        } else {
            i * self.cols + j
        }) as u32
    }
}

/// `alpha·A·B + beta·C` for activations `A`, `B`; `C` a constant, an activation or absent.
fn product(
    l: &Lowering,
    a: Mat,
    b: Mat,
    c: Option<&Operand>,
    alpha: f64,
    beta: f64,
) -> Result<Lowered, String> {
    if a.cols != b.rows {
        return Err(format!(
            "cannot multiply {}×{} by {}×{}",
            a.rows, a.cols, b.rows, b.cols
        ));
    }
    let (m, k, n) = (a.rows, a.cols, b.cols);
    let a_index: Vec<u32> = (0..m * k).map(|o| a.at(o / k, o % k)).collect();
    let b_index: Vec<u32> = (0..k * n).map(|o| b.at(o / n, o % n)).collect();
    let matmul = (
        FloatOp::MatMul(MatMul {
            dims: [m, k, n],
            a_index,
            b_index,
        }),
        vec![a.id, b.id],
        vec![m, n],
    );
    if alpha == 1.0 && c.is_none() {
        return Ok(Lowered::Op(matmul.0, matmul.1, matmul.2));
    }
    let prod_id = l.next_id();
    let mut inputs = vec![prod_id];
    let c_index: Option<Vec<u32>> = match c {
        Some(Operand::Act(cid)) => {
            inputs.push(*cid);
            let (shape, [_, idx]) =
                broadcast(&[m, n], l.shape(*cid)).ok_or("C does not broadcast to the output")?;
            if shape != [m, n] {
                return Err("C may not enlarge the output".into());
            }
            Some(idx)
        }
        _ => None,
    };
    let c_const = match c {
        Some(Operand::Const(cc)) => {
            let (shape, [_, idx]) =
                broadcast(&[m, n], &cc.shape).ok_or("C does not broadcast to the output")?;
            if shape != [m, n] {
                return Err("C may not enlarge the output".into());
            }
            Some(
                idx.iter()
                    .map(|&i| beta * cc.data[i as usize])
                    .collect::<Vec<_>>(),
            )
        }
        _ => None,
    };
    let mut terms = Vec::with_capacity(m * n);
    for o in 0..m * n {
        let mut t = vec![(0, o as u32, alpha)];
        if let Some(idx) = &c_index {
            t.push((1, idx[o], beta));
        }
        terms.push(t);
    }
    let b_vec = c_const.unwrap_or_else(|| vec![0.0; m * n]);
    Ok(Lowered::Nodes {
        nodes: vec![
            matmul,
            (
                FloatOp::SparseDot(SparseDot { terms, b: b_vec }),
                inputs,
                vec![m, n],
            ),
        ],
        outputs: vec![1],
    })
}

/// Gemm with an activation `B`.
pub fn gemm_of_activations(
    l: &Lowering,
    node: &NodeProto,
    a: usize,
    b: usize,
    ops: &[Operand],
) -> Result<Lowered, String> {
    let a = Mat::new(l, a, attr_i(node, "transA", 0) != 0)?;
    let b = Mat::new(l, b, attr_i(node, "transB", 0) != 0)?;
    let (alpha, beta) = (
        attr_f(node, "alpha", 1.0) as f64,
        attr_f(node, "beta", 1.0) as f64,
    );
    product(l, a, b, ops.get(2), alpha, beta)
}

/// MatMul of two activations of any rank, with numpy's rules: a 1-D `A` is a row and a 1-D
/// `B` a column (their unit axis is dropped from the result), and the leading (batch) axes
/// broadcast. Each batch entry is one Freivalds-checked product whose index maps pick that
/// entry's matrices; a copy joins them into the output.
pub fn matmul_of_activations(l: &Lowering, a: usize, b: usize) -> Result<Lowered, String> {
    let (sa, sb) = (l.shape(a).to_vec(), l.shape(b).to_vec());
    if sa.is_empty() || sb.is_empty() {
        return Err("MatMul operands must have at least one axis".into());
    }
    let a2 = if sa.len() == 1 {
        vec![1, sa[0]]
    } else {
        sa.clone()
    };
    let b2 = if sb.len() == 1 {
        vec![sb[0], 1]
    } else {
        sb.clone()
    };
    let (ra, rb) = (a2.len(), b2.len());
    let (m, k, kb, n) = (a2[ra - 2], a2[ra - 1], b2[rb - 2], b2[rb - 1]);
    if k != kb {
        return Err(format!("cannot multiply {sa:?} by {sb:?}"));
    }
    let (batch, [ia, ib]) = broadcast(&a2[..ra - 2], &b2[..rb - 2])
        .ok_or_else(|| format!("the batch axes of {sa:?} and {sb:?} do not broadcast"))?;
    let mut out = batch;
    if sa.len() > 1 {
        out.push(m);
    }
    if sb.len() > 1 {
        out.push(n);
    }
    let entry = |oa: u32, ob: u32| {
        let (oa, ob) = (oa as usize * m * k, ob as usize * k * n);
        FloatOp::MatMul(MatMul {
            dims: [m, k, n],
            a_index: (0..m * k).map(|o| (oa + o) as u32).collect(),
            b_index: (0..k * n).map(|o| (ob + o) as u32).collect(),
        })
    };
    if ia.len() == 1 {
        return Ok(Lowered::Op(entry(ia[0], ib[0]), vec![a, b], out));
    }
    let first = l.next_id();
    let mut nodes: Vec<_> = (ia.iter().zip(&ib))
        .map(|(&oa, &ob)| (entry(oa, ob), vec![a, b], vec![m, n]))
        .collect();
    let sources = (0..nodes.len() as u32)
        .flat_map(|e| (0..(m * n) as u32).map(move |o| (e, o)))
        .collect();
    let parts = (first..first + nodes.len()).collect();
    nodes.push((FloatOp::Gather(Gather { sources }), parts, out));
    Ok(Lowered::Nodes {
        outputs: vec![nodes.len() - 1],
        nodes,
    })
}
