//! The cost model and the layout plan: how many rows the model takes, which lane width `W`,
//! limb width `b` and `k` make the cheapest proof.
//!
//! Prove time is predicted as `2^k × (base + per_advice·advice + first_lookup +
//! more_lookups·(lookups-1))`, with coefficients measured on a 2-core machine with
//! halo2-axiom 0.5. Among all lane widths, the plan takes the smallest `k` that holds the
//! rows and the range table, and the width whose prediction is lowest.

use crate::chips::range_table::table_rows;
use crate::chips::requant_row;
use crate::error::CircuitError;
use crate::ir::Model;
use crate::requant::MAX_BITS;
use crate::rows::{is_tall, RowCounter};
use crate::CircuitParams;
use serde::{Deserialize, Serialize};

/// Smallest `k` tried.
pub const MIN_K: u32 = 6;
/// Largest `k` supported.
pub const MAX_K: u32 = 24;
/// Rows at the end of the domain halo2 reserves for blinding (and a margin).
pub const RESERVED_ROWS: usize = 8;
/// Lookup arguments the circuit uses (the range column's).
pub const LOOKUPS: usize = 1;
/// Lane widths the planner considers.
pub const LANE_CHOICES: [usize; 8] = [2, 4, 6, 8, 12, 16, 24, 32];

/// What the planner optimizes for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// Prove time first, gas at 1 s per million ([`CostModel::default`]).
    #[default]
    Prover,
    /// On-chain verification first: gas at 10 s per million, so a layout with fewer
    /// committed columns wins unless it costs seconds of prove time.
    Evm,
}

impl Target {
    /// The cost model this target plans with.
    pub fn cost(self) -> CostModel {
        match self {
            Target::Prover => CostModel::default(),
            Target::Evm => CostModel {
                seconds_per_mgas: 10.0,
                ..CostModel::default()
            },
        }
    }
}

/// How the planner chooses the lane width: forced, or by the cost model of a target.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanOptions {
    /// Force the dot-product lane width (one of [`LANE_CHOICES`]); `None` lets the cost
    /// model choose.
    pub lanes: Option<usize>,
    /// What the planner optimizes for when it chooses the lane width.
    pub target: Target,
}

impl PlanOptions {
    /// The lane width for `model`: the forced one, or the one the target's cost model picks.
    ///
    /// # Errors
    /// [`CircuitError`] if no layout up to [`MAX_K`] holds the model.
    pub fn lanes(&self, model: &Model) -> Result<usize, CircuitError> {
        match self.lanes {
            Some(l) => Ok(l),
            None => Ok(plan_with(model, &self.target.cost(), None)?.lanes),
        }
    }
}

/// Measured prove-time coefficients (microseconds per row of the domain, plus a per-proof
/// constant), the on-chain gas model, and the exchange rate the planner trades them at.
/// The prove-time coefficients are fitted by `scripts/fit_cost.sh` on the 2-core machine:
/// 20 layouts of the example models, k = 10…17 and 4…34 advice columns (rms error 6%, worst
/// 14%, at k = 17, which it overpredicts).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CostModel {
    /// Per-proof constant (transcript, multi-open, thread start-up), seconds.
    pub per_proof_s: f64,
    /// Gas of an EVM verification besides the committed polynomials (tx, calldata, pairings,
    /// transcript), fitted to revm measurements of the example models
    /// (`scripts/bench_evm.sh`, single-contract verifiers, 27–39 commitments).
    pub gas_base: u64,
    /// Gas per committed polynomial the verifier touches: its scalar multiplication
    /// (6,000) and addition, its commitment or evaluations in the call data, and its share
    /// of the field arithmetic (fitted, like `gas_base`).
    pub gas_per_commitment: u64,
    /// Seconds of prove time the planner would pay to save one million gas.
    pub seconds_per_mgas: f64,
    /// Cost independent of columns.
    pub base_us: f64,
    /// Per advice column.
    pub per_advice_us: f64,
    /// The first lookup argument.
    pub first_lookup_us: f64,
    /// Each further lookup argument.
    pub more_lookup_us: f64,
}

impl Default for CostModel {
    fn default() -> Self {
        Self {
            per_proof_s: 0.08,
            gas_base: 175_000,
            gas_per_commitment: 8_000,
            seconds_per_mgas: 1.0,
            base_us: 20.4,
            per_advice_us: 8.1,
            first_lookup_us: 30.0,
            more_lookup_us: 27.4,
        }
    }
}

impl CostModel {
    /// Predicted prove time in seconds.
    pub fn prove_seconds(&self, k: u32, advice: usize, lookups: usize) -> f64 {
        let lookup = if lookups == 0 {
            0.0
        } else {
            self.first_lookup_us + self.more_lookup_us * (lookups - 1) as f64
        };
        let per_row = self.base_us + self.per_advice_us * advice as f64 + lookup;
        self.per_proof_s + (1u64 << k) as f64 * per_row * 1e-6
    }

    /// Predicted gas of one on-chain verification.
    pub fn gas(&self, commitments: usize) -> u64 {
        self.gas_base + self.gas_per_commitment * commitments as u64
    }

    /// What the planner minimizes: prove seconds plus gas at the exchange rate.
    pub fn objective(&self, prove_s: f64, gas: u64) -> f64 {
        prove_s + self.seconds_per_mgas * gas as f64 / 1e6
    }
}

/// Committed polynomials an EVM verifier reads for these params: advice, fixed (selectors
/// compressed to about one column per two), permutation sigmas and products, three per
/// lookup, and the quotient pieces.
pub fn commitments(params: CircuitParams) -> usize {
    use halo2_proofs::plonk::{Circuit, ConstraintSystem};
    let mut cs = ConstraintSystem::<crate::Fr>::default();
    let _ = crate::ModelCircuit::configure_with_params(&mut cs, params);
    let degree = cs.degree().max(3);
    let perm = cs.permutation().get_columns().len();
    cs.num_advice_columns()
        + cs.num_fixed_columns()
        + cs.num_selectors().div_ceil(2)
        + perm
        + perm.div_ceil(degree - 2)
        + 3 * cs.lookups().len()
        + degree
}

/// How the model is laid out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayoutPlan {
    /// log2 of the number of rows.
    pub k: u32,
    /// Dot-product lanes per row.
    pub lanes: usize,
    /// Limb width of the range table.
    pub limb_bits: u32,
    /// Rows the model uses.
    pub rows: usize,
    /// Rows of the range table (`2^limb_bits`).
    pub table_rows: usize,
    /// Advice columns.
    pub advice_columns: usize,
    /// Rows of the function tables (0 without table functions).
    #[serde(default)]
    pub fn_table_rows: usize,
    /// Whether some op multiplies two activations.
    #[serde(default)]
    pub products: bool,
    /// Whether some op multiplies two activation matrices (the Freivalds chip).
    #[serde(default)]
    pub freivalds: bool,
    /// Whether the requant chip has compact rows.
    #[serde(default)]
    pub compact: bool,
    /// Lookup arguments.
    pub lookups: usize,
    /// Values in the instance column.
    pub instances: usize,
    /// The cost model's prediction of prove time, in seconds.
    pub predicted_prove_s: f64,
    /// Committed polynomials an EVM verifier reads.
    pub commitments: usize,
    /// The cost model's prediction of on-chain verification gas.
    pub predicted_gas: u64,
}

impl LayoutPlan {
    /// The parameters `configure` needs.
    pub fn params(&self) -> CircuitParams {
        CircuitParams {
            lanes: self.lanes,
            limb_bits: self.limb_bits,
            fn_table: self.fn_table_rows > 0,
            products: self.products,
            freivalds: self.freivalds,
            compact: self.compact,
        }
    }
}

/// Main advice columns for a lane width (the range column comes on top): the dot chip's
/// lanes and accumulator, and the requant chip's five cells; when the dot chip is narrower
/// than that, the requant chip takes its tall shape (three columns, two rows).
pub fn advice_columns(lanes: usize) -> usize {
    if is_tall(lanes) {
        (lanes + 1).max(requant_row::TALL_ADVICE)
    } else {
        lanes + 1
    }
}

/// Rows the model takes with `lanes`-wide dot products and limb width `limb_bits`, with or
/// without compact requant rows, counted in layout order (each input value gets its two
/// domain-check rows first).
pub fn rows(model: &Model, lanes: usize, limb_bits: u32, compact: bool) -> usize {
    // The first rows bind the public values (one dot row each).
    let mut counter = RowCounter::new(num_instances(model), lanes, compact.then_some(limb_bits));
    let check = crate::input_domain::check_requant(limb_bits, compact);
    for input in &model.inputs {
        crate::input_domain::count_rows(input, &check, &mut counter);
    }
    for node in &model.nodes {
        let first = node.inputs.first().map_or(0, |&i| model.len(i));
        node.op.operator().count_rows(lanes, first, &mut counter);
    }
    counter.used()
}

/// Rows one node takes, on its own.
pub fn node_rows(model: &Model, node: &crate::ir::Node, plan: &LayoutPlan) -> usize {
    let lanes = plan.lanes;
    let compact = plan.compact.then_some(plan.limb_bits);
    let mut counter = RowCounter::new(0, lanes, compact);
    let first = node.inputs.first().map_or(0, |&i| model.len(i));
    node.op.operator().count_rows(lanes, first, &mut counter);
    counter.used()
}

/// The widest range check in the model (an input domain's width counts), checked against
/// [`MAX_BITS`].
fn max_width(model: &Model) -> Result<u32, CircuitError> {
    let mut widest = 0;
    let inputs = model
        .inputs
        .iter()
        .map(|i| (i.name.clone(), i.domain.width_bits()));
    let nodes = model
        .requants()
        .into_iter()
        .map(|(n, rq)| (n, rq.shift.max(rq.bits)));
    for (node, bits) in inputs.chain(nodes) {
        if bits > MAX_BITS {
            return Err(CircuitError::RangeTooWide {
                node,
                bits,
                max_bits: MAX_BITS,
            });
        }
        widest = widest.max(bits);
    }
    Ok(widest)
}

/// Public values: the inputs when public, then the outputs.
pub fn num_instances(model: &Model) -> usize {
    let inputs: usize = if model.public_input {
        model.inputs.iter().map(|i| i.len()).sum()
    } else {
        0
    };
    inputs + model.outputs.iter().map(|&o| model.len(o)).sum::<usize>()
}

/// Plans the layout with the default cost model.
pub fn plan(model: &Model) -> Result<LayoutPlan, CircuitError> {
    plan_with(model, &CostModel::default(), None)
}

/// Plans the layout: the cheapest (lanes, k, b) by the cost model.
/// `lanes` forces a lane width instead of letting the cost model choose.
pub fn plan_with(
    model: &Model,
    cost: &CostModel,
    lanes: Option<usize>,
) -> Result<LayoutPlan, CircuitError> {
    if let Some(l) = lanes.filter(|l| !LANE_CHOICES.contains(l)) {
        return Err(CircuitError::BadLanes {
            lanes: l,
            choices: LANE_CHOICES.to_vec(),
        });
    }
    let widest = max_width(model)?;
    let instances = num_instances(model);
    let mut best: Option<LayoutPlan> = None;
    let choices: Vec<usize> = match lanes {
        Some(l) => vec![l],
        None => LANE_CHOICES.to_vec(),
    };
    for lanes in choices {
        for compact in [false, true] {
            let Some(plan) = fit(model, lanes, widest, instances, cost, compact) else {
                continue;
            };
            let score = |p: &LayoutPlan| cost.objective(p.predicted_prove_s, p.predicted_gas);
            if best.as_ref().is_none_or(|b| score(&plan) < score(b)) {
                best = Some(plan);
            }
        }
    }
    // The widest layout's rows, for the message (without compact rows the count does not
    // depend on the limb width passed).
    best.ok_or(CircuitError::TooLarge {
        rows: rows(
            model,
            *LANE_CHOICES.last().unwrap_or(&8),
            MAX_BITS / 2,
            false,
        ),
        max_k: MAX_K,
    })
}

/// The smallest `k` (and a limb width) that holds the rows and the table, with or without
/// compact requant rows. Without, the rows do not depend on the limb width `b`; with, a wider
/// `b` makes more rows compact (fewer rows) but the range table larger.
fn fit(
    model: &Model,
    lanes: usize,
    widest: u32,
    instances: usize,
    cost: &CostModel,
    compact: bool,
) -> Option<LayoutPlan> {
    let fn_rows: usize = model.fn_tables().iter().map(|(_, _, r)| r.len()).sum();
    let fn_table_rows = if fn_rows > 0 { fn_rows + 1 } else { 0 };
    let lookups = LOOKUPS + usize::from(fn_rows > 0);
    let products = model
        .nodes
        .iter()
        .any(|n| matches!(&n.op, crate::ops::Op::Elementwise(e) if e.product != 0));
    let freivalds = model
        .nodes
        .iter()
        .any(|n| matches!(&n.op, crate::ops::Op::MatMul(_)));
    let mut memo = std::collections::BTreeMap::new();
    // Without compact rows the count does not depend on `b`.
    let mut rows_for = |b: u32| -> usize {
        let key = if compact { b } else { 0 };
        *memo
            .entry(key)
            .or_insert_with(|| rows(model, lanes, b, compact))
    };
    for k in MIN_K..=MAX_K {
        let usable = (1usize << k) - RESERVED_ROWS;
        if fn_table_rows > usable {
            continue;
        }
        for b in widest.div_ceil(2).max(1)..k {
            let rows = rows_for(b);
            let table = table_rows(b);
            if rows > usable || table > usable {
                continue;
            }
            let advice = advice_columns(lanes) + 1;
            let commitments = commitments(CircuitParams {
                lanes,
                limb_bits: b,
                fn_table: fn_rows > 0,
                products,
                freivalds,
                compact,
            });
            return Some(LayoutPlan {
                commitments,
                predicted_gas: cost.gas(commitments),
                k,
                lanes,
                limb_bits: b,
                rows,
                table_rows: table,
                advice_columns: advice,
                fn_table_rows,
                products,
                freivalds,
                compact,
                lookups,
                instances,
                predicted_prove_s: cost.prove_seconds(k, advice, lookups),
            });
        }
    }
    None
}
