//! The halo2 circuit of a compiled model.
//!
//! Columns: `W+1` advice columns (at least 3) shared by the dot chip (lanes and accumulator)
//! and the requant chip (five cells in one row from `W = 4`, else three per row over two
//! rows); the requant chip's fixed columns, which the dot chip's weights share (plus more
//! when `W > 2`); the range-table column; and one instance column holding the public
//! inputs (if public) followed by the outputs.
//!
//! Everything lives in one region laid out row by row: each graph input value gets two
//! requant rows that prove it lies in the input's domain ([`crate::input_domain`]), then each
//! node lays out its rows. The output cells are bound to the instance column through the dot chip's gate
//! (one dot row per public value in the first rows, `acc = inst`, its `acc`
//! copy-constrained to the cell), so a proof binds exactly those values.
//! `configure` depends only on [`CircuitParams`], which `vk.bin` carries; the weights are
//! fixed columns, committed in the verifying key.

use crate::chips::dot::DotConfig;
use crate::chips::fn_table::FnTableConfig;
use crate::chips::freivalds::{FreivaldsConfig, FreivaldsJob};
use crate::chips::range_table::RangeTableConfig;
use crate::chips::requant_row::RequantConfig;
use crate::execute::Trace;
use crate::ir::Model;
use crate::ops::{LayoutCtx, NodeIo};
use crate::planner::{advice_columns, LayoutPlan};
use crate::rows::RowCounter;
use crate::Fr;
use halo2_proofs::circuit::{Cell, Layouter, Region, SimpleFloorPlanner};
use halo2_proofs::plonk::{Circuit, ConstraintSystem, Error};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// What `configure` needs: the dot lane width and the range limb width.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CircuitParams {
    /// Dot-product lanes per row.
    pub lanes: usize,
    /// Limb width of range checks.
    pub limb_bits: u32,
    /// Whether the function-table chip is present.
    #[serde(default)]
    pub fn_table: bool,
    /// Whether the requant chip multiplies its two inputs (Mul of two activations).
    #[serde(default)]
    pub products: bool,
    /// Whether the Freivalds chip is present (MatMul of two activations).
    #[serde(default)]
    pub freivalds: bool,
    /// Whether the requant chip has compact (two-limb) rows.
    #[serde(default)]
    pub compact: bool,
}

/// Columns and chips of the model circuit.
#[derive(Clone, Debug)]
pub struct ModelConfig {
    dot: DotConfig,
    requant: RequantConfig,
    table: RangeTableConfig,
    fn_table: Option<FnTableConfig>,
    freivalds: Option<FreivaldsConfig>,
}

/// A model, its layout plan, and (when proving) the trace of one execution.
#[derive(Clone, Debug)]
pub struct ModelCircuit {
    model: Arc<Model>,
    plan: LayoutPlan,
    trace: Option<Arc<Trace>>,
}

impl ModelCircuit {
    /// A circuit without witness, for key generation.
    pub fn new(model: Arc<Model>, plan: LayoutPlan) -> Self {
        Self {
            model,
            plan,
            trace: None,
        }
    }

    /// The same circuit with the witness of one execution.
    pub fn with_trace(&self, trace: Arc<Trace>) -> Self {
        Self {
            trace: Some(trace),
            ..self.clone()
        }
    }

    /// The layout plan.
    pub fn plan(&self) -> &LayoutPlan {
        &self.plan
    }

    /// Assigns the public-value rows, inputs and nodes.
    fn assign(
        &self,
        config: &ModelConfig,
        region: &mut Region<'_, Fr>,
    ) -> Result<Vec<FreivaldsJob>, Error> {
        let model = &*self.model;
        let trace = self.trace.as_deref();
        let tags = model
            .fn_tables()
            .into_iter()
            .map(|(k, id, _)| (k, id))
            .collect();
        let mut ctx = LayoutCtx {
            fn_table: config.fn_table.as_ref(),
            fn_tags: &tags,
            freivalds: config.freivalds.as_ref(),
            freivalds_jobs: Vec::new(),
            region,
            dot: &config.dot,
            requant: &config.requant,
            // The first rows hold the public values (see `bind_public`).
            rows: RowCounter::new(
                self.plan.instances,
                self.plan.lanes,
                self.plan.compact.then_some(self.plan.limb_bits),
            ),
            limit: self.plan.rows,
        };
        let mut cells: Vec<Vec<Cell>> = Vec::with_capacity(model.num_tensors());
        let mut public = Vec::new();
        for (i, spec) in model.inputs.iter().enumerate() {
            let values = trace.map(|t| t.tensors[i].as_slice());
            let tensor = crate::input_domain::layout(&mut ctx, spec, values)?;
            if model.public_input {
                public.extend_from_slice(&tensor);
            }
            cells.push(tensor);
        }
        for node in &model.nodes {
            let ins: Vec<&[Cell]> = node.inputs.iter().map(|&i| cells[i].as_slice()).collect();
            let vals: Option<Vec<&[i128]>> = trace.map(|t| {
                node.inputs
                    .iter()
                    .map(|&i| t.tensors[i].as_slice())
                    .collect()
            });
            let io = NodeIo {
                node: &node.name,
                cells: &ins,
                values: vals.as_deref(),
            };
            let out = node.op.operator().layout(&mut ctx, &io)?;
            cells.push(out);
        }
        if ctx.rows.used() > self.plan.rows {
            return Err(Error::Synthesis);
        }
        public.extend(model.outputs.iter().flat_map(|&o| cells[o].iter().copied()));
        let values = trace.map(|t| t.instance_values(model));
        bind_public(&config.dot, ctx.region, &public, values.as_deref())?;
        Ok(ctx.freivalds_jobs)
    }
}

/// Binds `public[i]` to instance row `i`: a dot row with no lanes at row `i` (so
/// `acc = inst[i]`) whose `acc` is copy-constrained to the cell.
fn bind_public(
    dot: &DotConfig,
    region: &mut Region<'_, Fr>,
    public: &[Cell],
    values: Option<&[i128]>,
) -> Result<(), Error> {
    use crate::chips::dot::DotRow;
    for (i, cell) in public.iter().enumerate() {
        let row = DotRow {
            lanes: &[],
            weights: &[],
            cont: false,
            acc: values.map(|v| v[i]),
        };
        let (_, acc) = dot.assign(region, i, &row)?;
        region.constrain_equal(acc, *cell);
    }
    Ok(())
}

impl Circuit<Fr> for ModelCircuit {
    type Config = ModelConfig;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = CircuitParams;

    fn without_witnesses(&self) -> Self {
        Self {
            trace: None,
            ..self.clone()
        }
    }

    fn params(&self) -> CircuitParams {
        self.plan.params()
    }

    fn configure_with_params(
        meta: &mut ConstraintSystem<Fr>,
        params: CircuitParams,
    ) -> ModelConfig {
        let advice: Vec<_> = (0..advice_columns(params.lanes))
            .map(|_| meta.advice_column())
            .collect();
        for c in &advice {
            meta.enable_equality(*c);
        }
        let instance = meta.instance_column();
        let table = RangeTableConfig::configure(meta);
        let range = meta.advice_column();
        let requant = RequantConfig::configure(
            meta,
            &advice,
            range,
            table,
            params.limb_bits,
            params.products,
            params.compact,
        );
        let dot = DotConfig::configure(
            meta,
            advice[..params.lanes].to_vec(),
            advice[params.lanes],
            &requant.gate_fixed(),
            instance,
        );
        let fn_table = params
            .fn_table
            .then(|| FnTableConfig::configure(meta, advice[0], advice[1]));
        let freivalds = params
            .freivalds
            .then(|| FreivaldsConfig::configure(meta, advice[0]));
        ModelConfig {
            dot,
            requant,
            table,
            fn_table,
            freivalds,
        }
    }

    fn configure(meta: &mut ConstraintSystem<Fr>) -> ModelConfig {
        Self::configure_with_params(
            meta,
            CircuitParams {
                lanes: 8,
                limb_bits: 8,
                fn_table: false,
                products: false,
                freivalds: false,
                compact: false,
            },
        )
    }

    fn synthesize(
        &self,
        config: ModelConfig,
        mut layouter: impl Layouter<Fr>,
    ) -> Result<(), Error> {
        config.table.load(&mut layouter, self.plan.limb_bits)?;
        if let Some(fn_table) = &config.fn_table {
            let entries: Vec<_> = self
                .model
                .fn_tables()
                .into_iter()
                .map(|(_, id, rows)| (id, rows))
                .collect();
            fn_table.load(&mut layouter, &entries)?;
        }
        let jobs =
            layouter.assign_region(|| "model", |mut region| self.assign(&config, &mut region))?;
        if let Some(chip) = &config.freivalds {
            // Everything above is committed before the challenge is drawn. The second-phase
            // region uses only the chip's own columns, so it starts at row 0 and its offsets
            // are the absolute rows the first phase recorded.
            layouter.next_phase();
            let r = layouter.get_challenge(chip.r);
            layouter.assign_region(
                || "freivalds",
                |mut region| {
                    for job in &jobs {
                        chip.assign_chains(&mut region, r, job)?;
                    }
                    Ok(())
                },
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests;
