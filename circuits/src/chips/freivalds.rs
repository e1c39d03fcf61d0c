//! The Freivalds chip: checks a product of two witnessed matrices, `C = A·B`, with a random
//! challenge `r` drawn from the transcript after `A`, `B` and `C` are committed.
//!
//! With `v = (1, r, r², …, r^(n-1))` it proves `A·(B·v) = C·v`, in `k·n + m·n + m·k` rows
//! instead of `m·n·k` products. Columns: `x`, a first-phase advice column holding copies of
//! the entries of `B`, `C` and `A`; `acc` and `m`, second-phase advice columns; four
//! selectors; and the challenge `r`.
//!
//! ```text
//! "horner start": acc = x
//! "horner":       acc = acc_prev·r + x        (B's rows and C's rows, last column first)
//! "dot start":    acc = x·m
//! "dot":          acc = acc_prev + x·m        (row i of A against m = (B·v)_t)
//! ```
//! Each `m` is copy-constrained to the end of the Horner chain of row `t` of `B`, and the end
//! of the dot chain of row `i` of `A` to the end of the Horner chain of row `i` of `C`.
//!
//! Soundness: every `x` is a copy of the committed entry it stands for (first phase), so `r`
//! is independent of them. If `C ≠ A·B`, some row `i` of `A·B − C` is non-zero and the check
//! of row `i` is a non-zero polynomial of degree `< n` in `r`: it holds with probability at
//! most `(n−1)/p`, about `2^-250`. `C`'s entries are range-checked by the requant rows that
//! read them, so the field identity is the integer one. A fixed or prover-chosen `r` would
//! let a prover solve for a wrong `C`; that is why `r` is a second-phase challenge.

use super::value;
use crate::Fr;
use halo2_proofs::circuit::{Cell, Region, Value};
use halo2_proofs::plonk::{
    Advice, Challenge, Column, ConstraintSystem, Error, FirstPhase, SecondPhase, Selector,
};
use halo2_proofs::poly::Rotation;

/// What a row of the chip does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// First entry of a Horner chain.
    HornerStart,
    /// Later entry of a Horner chain.
    Horner,
    /// First term of a dot chain.
    DotStart,
    /// Later term of a dot chain.
    Dot,
}

impl Step {
    /// The step of entry `pos` of a Horner chain (`horner`) or a dot chain.
    pub fn at(horner: bool, pos: usize) -> Self {
        match (horner, pos) {
            (true, 0) => Step::HornerStart,
            (true, _) => Step::Horner,
            (false, 0) => Step::DotStart,
            (false, _) => Step::Dot,
        }
    }
}

/// Columns, selectors and challenge of the Freivalds chip.
#[derive(Clone, Debug)]
pub struct FreivaldsConfig {
    /// First-phase copies of the matrix entries.
    pub x: Column<Advice>,
    /// Second-phase running values.
    pub acc: Column<Advice>,
    /// Second-phase multipliers of the dot rows.
    pub m: Column<Advice>,
    q_horner_start: Selector,
    q_horner: Selector,
    q_dot_start: Selector,
    q_dot: Selector,
    /// The challenge `r`, usable after the first phase.
    pub r: Challenge,
}

/// One row of a chain: its absolute row and the value of its `x`.
pub type ChainRow = (usize, Option<i128>);

/// The rows of one checked product, placed in the first phase, filled in the second.
#[derive(Clone, Debug, Default)]
pub struct FreivaldsJob {
    /// Per row `t` of `B`: its entries, last column first.
    pub b_rows: Vec<Vec<ChainRow>>,
    /// Per row `i` of `C`: its entries, last column first.
    pub c_rows: Vec<Vec<ChainRow>>,
    /// Per row `i` of `A`: its entries in column order (`t = 0..k`).
    pub a_rows: Vec<Vec<ChainRow>>,
}

impl FreivaldsConfig {
    /// Creates the columns and gates; `x` must be a first-phase advice column with equality.
    pub fn configure(meta: &mut ConstraintSystem<Fr>, x: Column<Advice>) -> Self {
        let acc = meta.advice_column_in(SecondPhase);
        let m = meta.advice_column_in(SecondPhase);
        meta.enable_equality(acc);
        meta.enable_equality(m);
        let r = meta.challenge_usable_after(FirstPhase);
        let (q_horner_start, q_horner, q_dot_start, q_dot) = (
            meta.selector(),
            meta.selector(),
            meta.selector(),
            meta.selector(),
        );
        meta.create_gate("freivalds", |vc| {
            let x = vc.query_advice(x, Rotation::cur());
            let acc_cur = vc.query_advice(acc, Rotation::cur());
            let acc_prev = vc.query_advice(acc, Rotation::prev());
            let mul = vc.query_advice(m, Rotation::cur());
            let r = vc.query_challenge(r);
            vec![
                vc.query_selector(q_horner_start) * (acc_cur.clone() - x.clone()),
                vc.query_selector(q_horner)
                    * (acc_cur.clone() - (acc_prev.clone() * r + x.clone())),
                vc.query_selector(q_dot_start) * (acc_cur.clone() - x.clone() * mul.clone()),
                vc.query_selector(q_dot) * (acc_cur - (acc_prev + x * mul)),
            ]
        });
        Self {
            x,
            acc,
            m,
            q_horner_start,
            q_horner,
            q_dot_start,
            q_dot,
            r,
        }
    }

    /// First phase: writes `x` at `row` and enables the step's gate; returns the `x` cell
    /// (the caller copy-constrains it to the entry it stands for).
    pub fn assign_x(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        step: Step,
        x: Option<i128>,
    ) -> Result<Cell, Error> {
        let q = match step {
            Step::HornerStart => self.q_horner_start,
            Step::Horner => self.q_horner,
            Step::DotStart => self.q_dot_start,
            Step::Dot => self.q_dot,
        };
        q.enable(region, row)?;
        Ok(region.assign_advice(self.x, row, value(x)).cell())
    }

    /// Second phase: fills `acc` and `m` of every chain of `job` for the challenge `r`, in
    /// a region whose offsets are absolute rows, and adds the chain-end copies.
    pub fn assign_chains(
        &self,
        region: &mut Region<'_, Fr>,
        r: Value<Fr>,
        job: &FreivaldsJob,
    ) -> Result<(), Error> {
        // Returns the chain's last `acc` cell and its value.
        let horner =
            |region: &mut Region<'_, Fr>, chain: &[ChainRow]| -> Result<(Cell, Value<Fr>), Error> {
                let mut acc = Value::known(Fr::zero());
                let mut last = None;
                for &(row, x) in chain {
                    acc = acc * r + value(x);
                    last = Some(region.assign_advice(self.acc, row, acc).cell());
                }
                Ok((last.ok_or(Error::Synthesis)?, acc))
            };
        let (b_ends, b_values): (Vec<Cell>, Vec<Value<Fr>>) = job
            .b_rows
            .iter()
            .map(|chain| horner(region, chain))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .unzip();
        for (a_row, c_row) in job.a_rows.iter().zip(&job.c_rows) {
            let (c_end, _) = horner(region, c_row)?;
            let mut acc = Value::known(Fr::zero());
            let mut last = None;
            for (t, &(row, x)) in a_row.iter().enumerate() {
                let mul = *b_values.get(t).ok_or(Error::Synthesis)?;
                acc = acc + value(x) * mul;
                let m_cell = region.assign_advice(self.m, row, mul).cell();
                region.constrain_equal(m_cell, b_ends[t]);
                last = Some(region.assign_advice(self.acc, row, acc).cell());
            }
            region.constrain_equal(last.ok_or(Error::Synthesis)?, c_end);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::real_proof_accepts;
    use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner};
    use halo2_proofs::dev::MockProver;
    use halo2_proofs::plonk::Circuit;

    /// Checks `C = A·B` for `A` 2×3, `B` 3×2 with the chip alone.
    #[derive(Clone, Default)]
    struct Check {
        a: Vec<i128>,
        b: Vec<i128>,
        c: Vec<i128>,
        known: bool,
    }

    const M: usize = 2;
    const K: usize = 3;
    const N: usize = 2;

    impl Check {
        fn new(c_delta: i128) -> Self {
            let a = vec![3, -1, 4, 1, 5, -9];
            let b = vec![2, 6, -5, 3, 5, 8];
            let mut c: Vec<i128> = (0..M * N)
                .map(|o| (0..K).map(|t| a[o / N * K + t] * b[t * N + o % N]).sum())
                .collect();
            c[3] += c_delta;
            Self {
                a,
                b,
                c,
                known: true,
            }
        }

        fn v(&self, x: i128) -> Option<i128> {
            self.known.then_some(x)
        }
    }

    impl Circuit<Fr> for Check {
        type Config = FreivaldsConfig;
        type FloorPlanner = SimpleFloorPlanner;
        type Params = ();

        fn without_witnesses(&self) -> Self {
            Self {
                known: false,
                ..self.clone()
            }
        }

        fn configure(meta: &mut ConstraintSystem<Fr>) -> FreivaldsConfig {
            let x = meta.advice_column();
            meta.enable_equality(x);
            // One (empty) instance column, as the shared real-proof helper passes.
            let _ = meta.instance_column();
            FreivaldsConfig::configure(meta, x)
        }

        fn synthesize(
            &self,
            chip: FreivaldsConfig,
            mut layouter: impl Layouter<Fr>,
        ) -> Result<(), Error> {
            let job = layouter.assign_region(
                || "entries",
                |mut region| {
                    let mut row = 1;
                    let mut chain = |entries: Vec<i128>, horner: bool| {
                        let mut rows = Vec::new();
                        for (pos, x) in entries.into_iter().enumerate() {
                            let step = Step::at(horner, pos);
                            chip.assign_x(&mut region, row, step, self.v(x))?;
                            rows.push((row, self.v(x)));
                            row += 1;
                        }
                        Ok::<_, Error>(rows)
                    };
                    let mut job = FreivaldsJob::default();
                    for t in 0..K {
                        job.b_rows.push(chain(
                            (0..N).rev().map(|j| self.b[t * N + j]).collect(),
                            true,
                        )?);
                    }
                    for i in 0..M {
                        job.c_rows.push(chain(
                            (0..N).rev().map(|j| self.c[i * N + j]).collect(),
                            true,
                        )?);
                        job.a_rows
                            .push(chain(self.a[i * K..(i + 1) * K].to_vec(), false)?);
                    }
                    Ok(job)
                },
            )?;
            layouter.next_phase();
            let r = layouter.get_challenge(chip.r);
            layouter.assign_region(
                || "chains",
                |mut region| chip.assign_chains(&mut region, r, &job),
            )
        }
    }

    fn mock(c: &Check) -> bool {
        MockProver::run(6, c, vec![vec![]]).is_ok_and(|p| p.verify().is_ok())
    }

    #[test]
    fn an_honest_product_passes() {
        assert!(mock(&Check::new(0)));
    }

    #[test]
    fn a_wrong_product_fails_mock_prover() {
        assert!(!mock(&Check::new(1)));
        assert!(!mock(&Check::new(-1000)));
    }

    #[test]
    fn a_real_proof_of_a_wrong_product_is_rejected() {
        // The challenge comes from the transcript after A, B and C are committed: a prover
        // cannot pick C to fit it. Keys from the honest circuit, proofs of both.
        let honest = Check::new(0);
        assert!(real_proof_accepts(&honest, &honest));
        assert!(!real_proof_accepts(&honest, &Check::new(1)));
    }
}
