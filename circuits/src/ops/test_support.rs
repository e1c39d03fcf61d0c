//! A test circuit that lays out hand-made chip rows, so that tests can alter any cell.

use crate::chips::dot::{DotConfig, DotRow};
use crate::chips::range_table::RangeTableConfig;
use crate::chips::requant_row::{RequantConfig, RequantRow, ADVICE, TALL_ADVICE};
use crate::rows::RowCounter;
use crate::Fr;
use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner};
use halo2_proofs::dev::MockProver;
use halo2_proofs::plonk::{Circuit, ConstraintSystem, Error};

/// Lanes of the test dot chip.
pub const LANES: usize = 4;
/// Limb width of the test requant chip.
pub const LIMB_BITS: u32 = 4;

/// A dot row that owns its data.
#[derive(Clone, Debug)]
pub struct OwnedDotRow {
    pub lanes: Vec<Option<i128>>,
    pub weights: Vec<i64>,
    pub cont: bool,
    pub acc: Option<i128>,
}

/// Dot rows, then requant rows; the last dot row's accumulator is copied into the first
/// requant row's `x` when both exist.
#[derive(Clone, Debug, Default)]
pub struct ChipCircuit {
    pub dots: Vec<OwnedDotRow>,
    pub requants: Vec<RequantRow>,
    /// Input domain checks (lower and upper row each), laid out after the requant rows by
    /// [`crate::input_domain::assign_check`].
    pub checks: Vec<[RequantRow; 2]>,
    /// Build the requant chip with compact rows (limb width [`LIMB_BITS`]).
    pub compact: bool,
    /// Build the requant chip in its tall shape (`y`, `s` on the next row).
    pub tall: bool,
}

impl ChipCircuit {
    pub fn new(dots: Vec<OwnedDotRow>, requants: Vec<RequantRow>) -> Self {
        Self {
            dots,
            requants,
            checks: Vec::new(),
            compact: false,
            tall: false,
        }
    }

    /// A circuit of input domain checks alone.
    pub fn checks(checks: Vec<[RequantRow; 2]>) -> Self {
        Self {
            checks,
            ..Self::new(vec![], vec![])
        }
    }

    /// The same rows in a circuit whose requant chip is tall.
    pub fn tall(self) -> Self {
        Self { tall: true, ..self }
    }

    /// The same rows in a circuit whose requant chip has compact rows.
    pub fn compact(self) -> Self {
        Self {
            compact: true,
            ..self
        }
    }

    /// Runs MockProver at k = 6.
    pub fn verify(&self) -> Result<(), Vec<halo2_proofs::dev::VerifyFailure>> {
        let prover = match MockProver::run(6, self, vec![vec![]]) {
            Ok(p) => p,
            Err(e) => panic!("synthesis failed: {e:?}"),
        };
        prover.verify()
    }
}

#[derive(Clone, Debug)]
pub struct ChipConfig {
    dot: DotConfig,
    requant: RequantConfig,
    table: RangeTableConfig,
}

impl Circuit<Fr> for ChipCircuit {
    type Config = ChipConfig;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = (bool, bool);

    fn without_witnesses(&self) -> Self {
        self.clone()
    }

    fn params(&self) -> (bool, bool) {
        (self.compact, self.tall)
    }

    fn configure(meta: &mut ConstraintSystem<Fr>) -> ChipConfig {
        Self::configure_with_params(meta, (false, false))
    }

    fn configure_with_params(
        meta: &mut ConstraintSystem<Fr>,
        (compact, tall): (bool, bool),
    ) -> ChipConfig {
        let advice = [(); ADVICE].map(|_| meta.advice_column());
        for c in advice {
            meta.enable_equality(c);
        }
        let instance = meta.instance_column();
        let table = RangeTableConfig::configure(meta);
        let range = meta.advice_column();
        let cols = if tall {
            &advice[..TALL_ADVICE]
        } else {
            &advice[..]
        };
        let requant = RequantConfig::configure(meta, cols, range, table, LIMB_BITS, true, compact);
        let dot = DotConfig::configure(
            meta,
            advice[..LANES].to_vec(),
            advice[LANES],
            &requant.gate_fixed(),
            instance,
        );
        ChipConfig {
            dot,
            requant,
            table,
        }
    }

    fn synthesize(&self, config: ChipConfig, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        config.table.load(&mut layouter, LIMB_BITS)?;
        layouter.assign_region(
            || "rows",
            |mut region| {
                // Rows from 1, so that the first dot row has a row before it.
                let mut rows = RowCounter {
                    row: 1,
                    range_row: 0,
                    compact: self.compact.then_some(LIMB_BITS),
                    tall: self.tall,
                };
                let mut last_acc = None;
                for d in &self.dots {
                    let row = DotRow {
                        lanes: &d.lanes,
                        weights: &d.weights,
                        cont: d.cont,
                        acc: d.acc,
                    };
                    last_acc = Some(config.dot.assign(&mut region, rows.dot(), &row)?.1);
                }
                for (i, r) in self.requants.iter().enumerate() {
                    let cells = config.requant.assign(&mut region, rows.requant(&r.rq), r)?;
                    if let (0, Some(acc)) = (i, last_acc) {
                        region.constrain_equal(acc, cells.x);
                    }
                }
                let tags = std::collections::BTreeMap::new();
                let mut ctx = crate::ops::LayoutCtx {
                    region: &mut region,
                    dot: &config.dot,
                    requant: &config.requant,
                    rows,
                    limit: 1 << 6,
                    fn_table: None,
                    fn_tags: &tags,
                    freivalds: None,
                    freivalds_jobs: Vec::new(),
                };
                for check in &self.checks {
                    crate::input_domain::assign_check(&mut ctx, check)?;
                }
                Ok(())
            },
        )
    }
}

/// Names the constraints behind MockProver failures: `gate Constraint 0 ('rescale') in gate 0 ('requant')` (the
/// gate's and the constraint's names), `lookup 'limb range'`, `permutation`.
pub fn failure_names(failures: &[halo2_proofs::dev::VerifyFailure]) -> Vec<String> {
    use halo2_proofs::dev::VerifyFailure;
    failures
        .iter()
        .map(|f| match f {
            VerifyFailure::ConstraintNotSatisfied { constraint, .. }
            | VerifyFailure::ConstraintPoisoned { constraint } => format!("gate {constraint}"),
            VerifyFailure::Lookup { name, .. } => format!("lookup '{name}'"),
            VerifyFailure::Permutation { .. } => "permutation".into(),
            other => format!("{other:?}"),
        })
        .collect()
}

/// Runs a one-input model through MockProver with an honest trace that `tweak` may alter
/// (the witness) together with the instances.
pub fn run_model(
    model: &crate::Model,
    x: Vec<i128>,
    tweak: impl FnOnce(&mut crate::execute::Trace, &mut Vec<Fr>),
) -> Result<(), String> {
    run_model_at(model, None, x, tweak)
}

/// [`run_model`] with the lane width forced (`None`: the planner's choice).
pub fn run_model_at(
    model: &crate::Model,
    lanes: Option<usize>,
    x: Vec<i128>,
    tweak: impl FnOnce(&mut crate::execute::Trace, &mut Vec<Fr>),
) -> Result<(), String> {
    model_failures(model, lanes, x, tweak).map_err(|f| format!("{f:?}"))
}

/// Runs a one-input model like [`run_model_at`]; on failure, the names of the failed
/// constraints (see [`failure_names`]), so a malicious test can say which one caught it.
pub fn model_failures(
    model: &crate::Model,
    lanes: Option<usize>,
    x: Vec<i128>,
    tweak: impl FnOnce(&mut crate::execute::Trace, &mut Vec<Fr>),
) -> Result<(), Vec<String>> {
    use std::sync::Arc;
    let setup = |e: String| vec![format!("setup: {e}")];
    model.validate().map_err(setup)?;
    let cost = crate::planner::CostModel::default();
    let plan = crate::planner::plan_with(model, &cost, lanes).map_err(|e| setup(e.to_string()))?;
    let mut trace = crate::execute::execute(model, vec![x]).map_err(|e| setup(e.to_string()))?;
    let mut inst = trace.instances(model);
    tweak(&mut trace, &mut inst);
    let circuit =
        crate::ModelCircuit::new(Arc::new(model.clone()), plan.clone()).with_trace(Arc::new(trace));
    let prover =
        MockProver::run(plan.k, &circuit, vec![inst]).map_err(|e| setup(format!("{e:?}")))?;
    // MockProver panics while *describing* a failed constraint on row 0 whose gate reads the
    // row before (a blinding row it cannot print); that is a failure like any other.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| prover.verify()))
        .map_err(|_| vec!["a constraint failed on row 0".to_string()])?
        .map_err(|f| failure_names(&f))
}

/// Makes real KZG keys (k = 6) from `keys_from` (an honest circuit), creates a real SHPLONK
/// proof of `proven` (same fixed columns, possibly another witness) and verifies it. True if
/// the verifier accepts; a prover that refuses to finish counts as rejected. Unlike
/// MockProver this runs the actual argument, with challenges drawn from the transcript.
pub fn real_proof_accepts<C: Circuit<Fr>>(keys_from: &C, proven: &C) -> bool {
    use halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
    use halo2_proofs::plonk::{create_proof, keygen_pk, keygen_vk, verify_proof};
    use halo2_proofs::poly::kzg::commitment::{KZGCommitmentScheme, ParamsKZG};
    use halo2_proofs::poly::kzg::multiopen::{ProverSHPLONK, VerifierSHPLONK};
    use halo2_proofs::poly::kzg::strategy::SingleStrategy;
    use halo2_proofs::transcript::{
        Blake2bRead, Blake2bWrite, Challenge255, TranscriptReadBuffer, TranscriptWriterBuffer,
    };
    use rand::{rngs::StdRng, SeedableRng};

    let mut rng = StdRng::seed_from_u64(7);
    let params = ParamsKZG::<Bn256>::setup(6, &mut rng);
    let vk = keygen_vk(&params, keys_from).expect("vk");
    let pk = keygen_pk(&params, vk.clone(), keys_from).expect("pk");
    let mut transcript = Blake2bWrite::<_, G1Affine, Challenge255<_>>::init(vec![]);
    let proved = create_proof::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, _, _, _, _>(
        &params,
        &pk,
        std::slice::from_ref(proven),
        &[&[&[]]],
        &mut rng,
        &mut transcript,
    );
    if proved.is_err() {
        return false;
    }
    let proof = transcript.finalize();
    let mut reader = Blake2bRead::<_, G1Affine, Challenge255<_>>::init(proof.as_slice());
    verify_proof::<KZGCommitmentScheme<Bn256>, VerifierSHPLONK<'_, Bn256>, _, _, _>(
        &params,
        &vk,
        SingleStrategy::new(&params),
        &[&[&[]]],
        &mut reader,
    )
    .is_ok()
}

/// A model of one node: `op` reading `reads` (tensor ids; 0 is the input), over one private
/// input of `shape` at `scale` with domain `[-2^bits, 2^bits)`, with output shape `out` at
/// `out_scale`. The node is named `name`.
pub struct OneNode<'a> {
    pub name: &'a str,
    pub op: crate::ops::Op,
    pub reads: Vec<usize>,
    pub shape: Vec<usize>,
    pub scale: u32,
    pub bits: u32,
    pub out: Vec<usize>,
    pub out_scale: u32,
}

impl OneNode<'_> {
    /// The model.
    pub fn model(self) -> crate::Model {
        use crate::ir::{Domain, InputSpec, Node, MODEL_VERSION};
        crate::Model {
            version: MODEL_VERSION,
            source_sha256: String::new(),
            inputs: vec![InputSpec {
                name: "x".into(),
                shape: self.shape,
                scale: self.scale,
                domain: Domain::symmetric(self.bits),
            }],
            nodes: vec![Node {
                name: self.name.into(),
                op_type: self.name.into(),
                op: self.op,
                inputs: self.reads,
                shape: self.out,
                scale: self.out_scale,
            }],
            outputs: vec![1],
            public_input: false,
            fixed_inputs: vec![],
        }
    }
}
