//! An exact comparison of quantized values: `y[j] = one·[d_j > 0]` with the integer
//! `d_j = Σ_k mul_k·x_k[idx_k[j]] + c[j]` (Greater, Less, GreaterOrEqual, LessOrEqual, and
//! through them Equal, Xor, Or). `one` is the output's integer for "true".
//!
//! Layout: three requant rows per output value, each with no shift, so nothing is rounded:
//! `p = relu(d)`, `q = relu(d − 1)`, then `y = one·p − one·q`. For an integer `d`,
//! `relu(d) − relu(d − 1)` is 1 if `d ≥ 1` and 0 otherwise. The rows' `x` cells are copies
//! of the input cells the index maps name, the third row's of the first two rows' outputs.
//!
//! Soundness: with shift 0 each row's quotient is its pre-activation exactly (the remainder
//! is range-checked below one step), and the requant chip proves each ReLU's sign bit, so
//! `p` and `q` have no other value; the third row is then fixed by its gate. A prover who
//! wants "true" for `d ≤ 0` must make `p ≥ 1`, a wrong sign, which the chip's range lookup
//! rejects (see the tests). A `d` beyond the difference domain fails the same range check:
//! an honest prover is refused, never a wrong answer proven.

use super::elementwise::{broadcast_len, broadcast_source, check_broadcast};
use super::{synth, LayoutCtx, NodeIo, Operator};
use crate::chips::requant_row::RequantRow;
use crate::error::EvalError;
use crate::requant::Requant;
use crate::rows::RowCounter;
use halo2_proofs::circuit::Cell;
use halo2_proofs::plonk::Error;
use serde::{Deserialize, Serialize};

/// `one·[Σ mul_k·x_k + c > 0]` over one or two inputs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compare {
    /// One multiplier per input (1 or 2 inputs), aligning them to one scale.
    pub mul: Vec<i64>,
    /// Constant per output value at that scale (empty: zero).
    pub constant: Vec<i64>,
    /// Per input, the source index of every output value (numpy broadcast), or empty for
    /// the identity.
    pub index: Vec<Vec<u32>>,
    /// Bits of the difference `d`: the two ReLU rows' domain.
    pub diff_bits: u32,
    /// The output's integer for "true".
    pub one: i64,
}

impl Compare {
    fn out_len(&self, first_input_len: usize) -> usize {
        broadcast_len(&self.index, &self.constant, first_input_len)
    }

    fn source(&self, k: usize, j: usize) -> usize {
        broadcast_source(&self.index, k, j)
    }

    /// The two ReLU rows' requantization: no shift, the difference's domain.
    fn diff_rq(&self) -> Requant {
        Requant {
            shift: 0,
            bits: self.diff_bits,
            relu: true,
        }
    }

    /// The output row's requantization: no shift, a domain holding `one`.
    pub fn out_rq(&self) -> Requant {
        Requant {
            shift: 0,
            bits: crate::fixed_point::bits_for(self.one as i128) + 1,
            relu: false,
        }
    }

    /// `(mul_a, mul_b, c)` of output `j`'s difference.
    fn coefficients(&self, j: usize) -> (i128, i128, i128) {
        (
            self.mul[0] as i128,
            self.mul.get(1).copied().unwrap_or(0) as i128,
            self.constant.get(j).copied().unwrap_or(0) as i128,
        )
    }

    /// The honest rows of output `j` from its operand values (`None` during key
    /// generation): `relu(d)`, `relu(d − 1)`, `one·(p − q)`.
    pub fn rows(
        &self,
        j: usize,
        x: Option<i128>,
        x2: Option<i128>,
        node: &str,
    ) -> Result<[RequantRow; 3], EvalError> {
        let (ma, mb, c) = self.coefficients(j);
        let x2 = x2.or(x.map(|_| 0));
        let p = RequantRow::honest(self.diff_rq(), (ma, mb, c), x, x2, node)?;
        let q = RequantRow::honest(self.diff_rq(), (ma, mb, c - 1), x, x2, node)?;
        let one = self.one as i128;
        let (pv, qv) = (p.w.map(|w| w.out), q.w.map(|w| w.out));
        let y = RequantRow::honest(self.out_rq(), (one, -one, 0), pv, qv, node)?;
        Ok([p, q, y])
    }
}

impl Operator for Compare {
    /// The difference rows' requantization (the widest range the op checks).
    fn requant(&self) -> Option<Requant> {
        Some(self.diff_rq())
    }

    /// One or two inputs; indices and constant sized to the output and within bounds.
    fn check(&self, inputs: &[&[usize]], out: &[usize]) -> Result<(), String> {
        check_broadcast(&self.mul, &self.constant, &self.index, inputs, out)?;
        if self.out_len(inputs[0].iter().product()) != out.iter().product::<usize>() {
            return Err("constant or index does not match the output".into());
        }
        if self.one <= 0 || self.diff_bits > crate::requant::MAX_BITS {
            return Err("a comparison needs a positive 'one' and a bounded domain".into());
        }
        Ok(())
    }

    /// Integer reference semantics: the three rows' arithmetic.
    fn reference(&self, node: &str, inputs: &[&[i128]]) -> Result<Vec<i128>, EvalError> {
        (0..self.out_len(inputs[0].len()))
            .map(|j| {
                let x = inputs[0][self.source(0, j)];
                let x2 = inputs.get(1).map(|i| i[self.source(1, j)]);
                let [.., y] = self.rows(j, Some(x), x2, node)?;
                Ok(y.w.map_or(0, |w| w.out))
            })
            .collect()
    }

    /// Three requant rows per output value.
    fn count_rows(&self, _lanes: usize, input_len: usize, rows: &mut RowCounter) {
        for _ in 0..self.out_len(input_len) {
            rows.requant(&self.diff_rq());
            rows.requant(&self.diff_rq());
            rows.requant(&self.out_rq());
        }
    }

    /// Lays out the three rows of each output value, copied to the inputs and each other.
    fn layout(&self, ctx: &mut LayoutCtx<'_, '_>, io: &NodeIo<'_>) -> Result<Vec<Cell>, Error> {
        let (node, inputs, values) = io.parts();
        let n = self.out_len(inputs[0].len());
        let mut out = Vec::with_capacity(n);
        for j in 0..n {
            let (s0, s1) = (self.source(0, j), inputs.get(1).map(|_| self.source(1, j)));
            let x = values.map(|v| v[0][s0]);
            let x2 = match (values, s1) {
                (Some(v), Some(s1)) => Some(v[1][s1]),
                _ => None,
            };
            let [p, q, y] = synth(self.rows(j, x, x2, node))?;
            let mut relus = Vec::with_capacity(2);
            for row in [p, q] {
                let at = ctx.requant_row(&row.rq)?;
                let cells = ctx.requant.assign(ctx.region, at, &row)?;
                ctx.region.constrain_equal(cells.x, inputs[0][s0]);
                if let Some(s1) = s1 {
                    ctx.region.constrain_equal(cells.x2, inputs[1][s1]);
                }
                relus.push(cells.out);
            }
            let at = ctx.requant_row(&y.rq)?;
            let cells = ctx.requant.assign(ctx.region, at, &y)?;
            ctx.region.constrain_equal(cells.x, relus[0]);
            ctx.region.constrain_equal(cells.x2, relus[1]);
            out.push(cells.out);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::{failure_names, model_failures, ChipCircuit, OneNode};
    use crate::ops::Op;
    use crate::requant::RequantWitness;
    use proptest::prelude::*;

    /// `[a > b]` with `a = x[0..4]` and `b = x[4]` broadcast, "true" being 16.
    fn greater() -> Compare {
        Compare {
            mul: vec![1, -1],
            constant: vec![],
            index: vec![vec![0, 1, 2, 3], vec![4; 4]],
            diff_bits: 8,
            one: 16,
        }
    }

    fn model(op: Compare) -> crate::Model {
        OneNode {
            name: "greater",
            op: Op::Compare(op),
            reads: vec![0, 0],
            shape: vec![5],
            scale: 0,
            bits: 6,
            out: vec![4],
            out_scale: 4,
        }
        .model()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(8))]
        #[test]
        fn the_circuit_proves_the_reference(x in proptest::collection::vec(-60i128..60, 5)) {
            let out = greater().reference("greater", &[&x, &x]).unwrap();
            for (j, &y) in out.iter().enumerate() {
                prop_assert_eq!(y, if x[j] > x[4] { 16 } else { 0 });
            }
            let proven = model_failures(&model(greater()), None, x, |_, _| ());
            prop_assert!(proven.is_ok(), "{:?}", proven);
        }
    }

    #[test]
    fn ties_and_neighbours_are_exact() {
        // `≥` is `d + 1 > 0`: the constant moves the threshold by one step, never half.
        let ge = Compare {
            constant: vec![1; 4],
            ..greater()
        };
        let x = [4, 5, 6, -7, 5];
        assert_eq!(greater().reference("n", &[&x, &x]).unwrap(), [0, 0, 16, 0]);
        assert_eq!(ge.reference("n", &[&x, &x]).unwrap(), [0, 16, 16, 0]);
        assert!(model_failures(&model(ge), None, x.to_vec(), |_, _| ()).is_ok());
    }

    #[test]
    fn a_changed_output_fails_its_instance_binding() {
        let x = vec![7, -3, 20, 0, 4];
        let f = model_failures(&model(greater()), None, x, |_, inst| {
            inst[1] += crate::fixed_point::to_field(16);
        })
        .unwrap_err();
        assert!(f.iter().all(|f| f.ends_with("('dot')")), "{f:?}");
    }

    /// The attacker's best try at "a > b" for `a = b − 1`: `y = one·(p − q) = one` needs
    /// `p − q = 1`, and `q = relu(d − 1) = 0` is honest, so `p = 1` with `d = −1`.
    fn lying_rows(p_witness: RequantWitness) -> ChipCircuit {
        let op = greater();
        let [mut p, q, _] = op.rows(0, Some(4), Some(5), "n").unwrap();
        p.w = Some(p_witness);
        let y = RequantRow::honest(op.out_rq(), (16, -16, 0), Some(1), Some(0), "n").unwrap();
        ChipCircuit::new(vec![], vec![p, q, y])
    }

    #[test]
    fn true_for_a_smaller_value_needs_a_wrong_sign_which_the_range_lookup_rejects() {
        let [p, q, y] = greater().rows(0, Some(4), Some(5), "n").unwrap();
        assert!(ChipCircuit::new(vec![], vec![p.clone(), q, y])
            .verify()
            .is_ok());
        let honest = p.w.unwrap();
        assert_eq!((honest.y, honest.sign, honest.out), (-1, false, 0));
        // Keep the quotient −1 and claim it non-negative (then `p = s·y` is still −1, not
        // 1): the sign's magnitude `y + 2^w − s·2^w = −1` has no limbs in range.
        let sign_lie = RequantWitness {
            sign: true,
            out: -1,
            ..honest
        };
        let f = failure_names(&lying_rows(sign_lie).verify().unwrap_err());
        assert_eq!(f, ["lookup 'limb range'"]);
        // Claim the quotient is 1 (so `p = 1`): the rescale constraint ties it to `d = −1`.
        let value_lie = RequantWitness {
            y: 1,
            sign: true,
            out: 1,
            ..honest
        };
        let f = failure_names(&lying_rows(value_lie).verify().unwrap_err());
        assert_eq!(f, ["gate Constraint 0 ('rescale') in gate 0 ('requant')"]);
    }

    #[test]
    fn an_output_row_that_ignores_its_relus_fails_its_gate() {
        let [p, q, y] = greater().rows(0, Some(4), Some(5), "n").unwrap();
        let w = y.w.unwrap();
        let lie = RequantRow {
            w: Some(RequantWitness {
                y: 16,
                sign: true,
                out: 16,
                ..w
            }),
            ..y
        };
        let f = failure_names(
            &ChipCircuit::new(vec![], vec![p, q, lie])
                .verify()
                .unwrap_err(),
        );
        assert!(
            !f.is_empty() && f.iter().all(|f| f.contains("'rescale'")),
            "{f:?}"
        );
    }
}
