//! Whole-model MockProver tests: the honest trace verifies; a changed output instance, a
//! changed public input, and a witness whose copies disagree are rejected.

use super::*;
use crate::execute::execute;
use crate::ir::{InputSpec, Node, MODEL_VERSION};
use crate::ops::{Elementwise, Linear, Op};
use crate::planner::plan;
use crate::requant::Requant;

/// input[5] → Linear 5→3 (+ReLU) → Add constant → output.
pub(crate) fn model(public_input: bool) -> Model {
    let lin = Linear {
        in_dim: 5,
        out_dim: 3,
        weights: (0..15).map(|i| (i % 7) as i64 - 3).collect(),
        bias: vec![4, -8, 16],
        requant: Requant {
            shift: 2,
            bits: 10,
            relu: true,
        },
    };
    let add = Elementwise {
        mul: vec![1],
        constant: vec![-3, 0, 5],
        index: vec![vec![]],
        requant: Requant {
            shift: 0,
            bits: 10,
            relu: false,
        },
        product: 0,
    };
    Model {
        version: MODEL_VERSION,
        source_sha256: String::new(),
        inputs: vec![InputSpec {
            name: "x".into(),
            shape: vec![1, 5],
            scale: 2,
            domain: crate::ir::Domain::symmetric(8),
        }],
        nodes: vec![
            Node {
                name: "fc".into(),
                op_type: "Gemm".into(),
                op: Op::Linear(lin),
                inputs: vec![0],
                shape: vec![1, 3],
                scale: 2,
            },
            Node {
                name: "add".into(),
                op_type: "Add".into(),
                op: Op::Elementwise(add),
                inputs: vec![1],
                shape: vec![1, 3],
                scale: 2,
            },
        ],
        outputs: vec![2],
        public_input,
        fixed_inputs: vec![],
    }
}

use crate::ops::test_support::model_failures;
use crate::ops::test_support::run_model as run;

#[test]
fn honest_model_verifies_and_is_small() {
    let m = model(false);
    run(&m, vec![1, -2, 30, 4, 5], |_, _| {}).unwrap();
    let p = plan(&m).unwrap();
    assert!(p.k <= 8, "k = {}", p.k);
}

#[test]
fn tall_and_wide_requant_layouts_verify_and_bind_outputs() {
    // Two lanes give the tall requant shape (three advice columns, two rows per
    // requantization); four and more the wide one.
    use crate::ops::test_support::run_model_at;
    let m = model(false);
    for lanes in [2, 4, 8] {
        run_model_at(&m, Some(lanes), vec![1, -2, 30, 4, 5], |_, _| {}).unwrap();
        let f = model_failures(&m, Some(lanes), vec![1, -2, 30, 4, 5], |_, inst| {
            inst[1] += Fr::from(1u64);
        })
        .unwrap_err();
        assert!(
            f.iter().all(|f| f.ends_with("('dot')")),
            "lanes {lanes}: {f:?}"
        );
        let f = model_failures(&m, Some(lanes), vec![1, -2, 30, 4, 5], |trace, _| {
            trace.tensors[1][0] += 1;
        })
        .unwrap_err();
        // The Add rows read the changed value; the copies from the Linear row and to the
        // output's binding row fail.
        assert!(f.iter().all(|f| f == "permutation"), "lanes {lanes}: {f:?}");
    }
}

#[test]
fn rejects_changed_output_instance() {
    let m = model(false);
    let f = model_failures(&m, None, vec![1, -2, 30, 4, 5], |_, inst| {
        let last = inst.len() - 1;
        inst[last] += Fr::from(1u64);
    })
    .unwrap_err();
    assert!(f.iter().all(|f| f.ends_with("('dot')")), "{f:?}");
}

#[test]
fn public_input_is_bound() {
    let m = model(true);
    run(&m, vec![1, -2, 30, 4, 5], |_, _| {}).unwrap();
    // The second public input (MockProver cannot describe a failure on row 0).
    let f = model_failures(&m, None, vec![1, -2, 30, 4, 5], |_, inst| {
        inst[1] += Fr::from(1u64)
    })
    .unwrap_err();
    assert!(f.iter().all(|f| f.ends_with("('dot')")), "{f:?}");
}

#[test]
fn rejects_witness_that_breaks_a_copy() {
    // The first layer's output, as the Add rows read it, is altered, and everything after it
    // (the Add rows and the output instances) is recomputed honestly from the altered value.
    // Every gate then holds; only the copy from the Linear row's output to the Add row's
    // input is broken, and it alone must fail.
    let m = model(false);
    let failures = model_failures(&m, None, vec![1, -2, 30, 4, 5], |trace, inst| {
        trace.tensors[1][0] += 1;
        let add = m.nodes[1].op.operator();
        trace.tensors[2] = add.reference("add", &[&trace.tensors[1]]).unwrap();
        *inst = trace.instances(&m);
    })
    .unwrap_err();
    assert!(
        failures.iter().all(|f| f == "permutation"),
        "only the copy may fail: {failures:?}"
    );
}

#[test]
fn rejects_input_outside_domain() {
    let m = model(false);
    let err = crate::execute::quantize_inputs(&m, &[vec![0.0, 0.0, 1000.0, 0.0, 0.0]]).unwrap_err();
    assert!(err.to_string().contains("'x'"), "{err}");
}

/// input[4] → SparseDot (2 outputs over chosen inputs) → Gather (reversed, duplicated).
fn sparse_model() -> Model {
    use crate::ops::{Gather, SparseDot};
    let dot = SparseDot {
        terms: vec![
            vec![(0, 0, 3), (0, 3, -2), (0, 1, 1), (0, 2, 5), (0, 0, 1)],
            vec![],
        ],
        bias: vec![8, -12],
        requant: Requant {
            shift: 1,
            bits: 10,
            relu: false,
        },
    };
    let gather = Gather {
        sources: vec![(0, 1), (0, 0), (0, 1)],
    };
    Model {
        version: MODEL_VERSION,
        source_sha256: String::new(),
        inputs: vec![InputSpec {
            name: "x".into(),
            shape: vec![4],
            scale: 1,
            domain: crate::ir::Domain::symmetric(8),
        }],
        nodes: vec![
            Node {
                name: "conv".into(),
                op_type: "Conv".into(),
                op: Op::SparseDot(dot),
                inputs: vec![0],
                shape: vec![2],
                scale: 1,
            },
            Node {
                name: "t".into(),
                op_type: "Transpose".into(),
                op: Op::Gather(gather),
                inputs: vec![1],
                shape: vec![3],
                scale: 1,
            },
        ],
        outputs: vec![2],
        public_input: false,
        fixed_inputs: vec![],
    }
}

#[test]
fn sparse_dot_and_gather_verify_and_bind_outputs() {
    let m = sparse_model();
    run(&m, vec![7, -3, 2, 9], |_, _| {}).unwrap();
    let trace = execute(&m, vec![vec![7, -3, 2, 9]]).unwrap();
    // (8 + 21 + 18·-1 … ) computed by the reference; the gather reverses and repeats.
    let out = &trace.tensors[2];
    assert_eq!(out[0], trace.tensors[1][1]);
    assert_eq!(out[1], trace.tensors[1][0]);
    let f = model_failures(&m, None, vec![7, -3, 2, 9], |_, inst| {
        inst[1] += Fr::from(1u64)
    })
    .unwrap_err();
    assert!(f.iter().all(|f| f.ends_with("('dot')")), "{f:?}");
    // Another input than the instance's outputs were computed from.
    let f = model_failures(&m, None, vec![7, -3, 2, 9], |t, _| t.tensors[0][3] += 1).unwrap_err();
    // The rows follow the changed input, so the outputs no longer equal the values their
    // binding rows hold: those copies fail.
    assert!(f.iter().all(|f| f == "permutation"), "{f:?}");
}

#[test]
fn product_of_activations_verifies_and_binds_outputs() {
    let mul = Elementwise {
        mul: vec![0, 0],
        constant: vec![],
        index: vec![vec![0, 1, 2], vec![2, 1, 0]],
        requant: Requant {
            shift: 2,
            bits: 12,
            relu: false,
        },
        product: 1,
    };
    let m = crate::ops::test_support::OneNode {
        name: "mul",
        op: Op::Elementwise(mul),
        reads: vec![0, 0],
        shape: vec![3],
        scale: 1,
        bits: 8,
        out: vec![3],
        out_scale: 2,
    }
    .model();
    run(&m, vec![9, -4, 30], |_, _| {}).unwrap();
    let out = &execute(&m, vec![vec![9, -4, 30]]).unwrap().tensors[1];
    assert_eq!(out[0], (9 * 30 + 2) >> 2);
    let f = model_failures(&m, None, vec![9, -4, 30], |_, inst| {
        inst[1] += Fr::from(1u64)
    })
    .unwrap_err();
    assert!(f.iter().all(|f| f.ends_with("('dot')")), "{f:?}");
}
