//! The ONNX backend conformance cases (`../shared/conformance/onnx-backend`): every case is
//! compiled, proven, verified and compared with its expected output within 1% of the
//! largest expected magnitude. No case may give a wrong output or a panic.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use zkonnx_cli::conformance::{run_all, run_case, Category, Outcome, Report};

/// The repository root (this crate is `cli/`).
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A fresh temporary directory.
fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zkonnx-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every failed case with its reason: a wrong output or a panic.
fn wrong_outputs(report: &Report) -> Vec<String> {
    report
        .cases
        .iter()
        .filter_map(|c| match &c.outcome {
            Outcome::Fail { reason } => Some(format!("{}: {reason}", c.case)),
            _ => None,
        })
        .collect()
}

#[test]
fn conformance_cases_pass_or_are_refused_clearly() {
    let root = root().join("../shared/conformance/onnx-backend");
    if !root.is_dir() {
        panic!(
            "conformance data not found at {} (CI lays out ../shared beside the repo)",
            root.display()
        );
    }
    let work = temp_dir("conformance");
    let report = run_all(&root, &work, 19, |_| {});
    let failed = wrong_outputs(&report);
    println!(
        "{} pass, {} fail, {} refused, {} unsupported",
        report.pass, report.fail, report.refused, report.unsupported
    );
    assert!(failed.is_empty(), "wrong outputs or panics: {failed:#?}");
    assert!(report.pass >= 115, "only {} cases pass", report.pass);
}

/// The ONNX node suite (`../shared/conformance/onnx-node`, 1,855 cases from onnx 1.23.2's
/// generators) at `--max-k 14`: no wrong output, no panic, every other case refused in a
/// counted category, and at least as many passes as the README states.
#[test]
fn node_suite_has_no_wrong_output() {
    let root = root().join("../shared/conformance/onnx-node");
    assert!(root.is_dir(), "node suite not found at {}", root.display());
    let work = temp_dir("node-suite");
    let report = run_all(&root, &work, 14, |_| {});
    let failed = wrong_outputs(&report);
    println!(
        "{} pass, {} fail, {} refused, {} unsupported; {:?}",
        report.pass, report.fail, report.refused, report.unsupported, report.categories
    );
    assert!(failed.is_empty(), "wrong outputs or panics: {failed:#?}");
    let categorized: usize = report.categories.values().sum();
    assert_eq!(categorized, report.refused + report.unsupported);
    assert!(
        report.pass >= NODE_SUITE_PASS,
        "only {} cases pass",
        report.pass
    );
    let not_passing: Vec<_> = (MUST_PASS.iter())
        .filter(|name| {
            !(report.cases.iter()).any(|c| c.case == **name && matches!(c.outcome, Outcome::Pass))
        })
        .collect();
    assert!(not_passing.is_empty(), "these must pass: {not_passing:?}");
}

/// Node-suite cases of the proven comparisons (on activations, booleans and integers), the
/// logic and `Where` built on them, N-D and broadcast `MatMul`, an attention block that uses
/// all of these, LayerNorm/RMSNorm with every output, and the `Attention` op (3-D and 4-D,
/// grouped heads, the key/value cache, float and boolean masks, causal and sliding-window
/// frontiers, padding, fully masked rows, every `qk_matmul_output` mode) and an expanded
/// attention whose causal mask is a constant `-inf`, and the ops lowered as function bodies
/// or constant-weight copies since (recurrent layers, Resize, ArgMax by pairwise comparison,
/// the Reduce family, scatters, parameters given as graph inputs): each must be proven and
/// right, not merely counted.
const MUST_PASS: &[&str] = &[
    "test_greater",
    "test_greater_equal_bcast",
    "test_less_equal",
    "test_less_int8",
    "test_equal",
    "test_equal_bcast",
    "test_and2d",
    "test_or_bcast3v1d",
    "test_xor4d",
    "test_not_2d",
    "test_where_example",
    "test_where_long_example",
    "test_matmul_3d",
    "test_matmul_4d",
    "test_matmul_bcast",
    "test_matmul_1d_3d",
    "test_attention_4d_expanded",
    "test_attention_3d_expanded",
    "test_layer_normalization_4d_axis_negative_1",
    "test_layer_normalization_2d_axis0",
    "test_rms_normalization_default_axis",
    "test_attention_3d",
    "test_attention_3d_softcap",
    "test_attention_4d_attn_mask_bool",
    "test_attention_4d_attn_mask_3d_causal",
    "test_attention_4d_causal_nonpad_batch_prefill",
    "test_attention_23_fullymasked_qk_matmul_output_mode3_zero",
    "test_attention_4d_with_qk_matmul_bias",
    "test_attention_local_window_with_past",
    "test_attention_local_window_gqa_rank4_mask",
    "test_attention_4d_causal_expanded",
    "test_lstm_with_peepholes",
    "test_gru_seq_length",
    "test_simple_rnn_batchwise",
    "test_resize_upsample_scales_cubic",
    "test_resize_downsample_sizes_linear_antialias",
    "test_resize_tf_crop_and_resize_extrapolation_value",
    "test_argmax_negative_axis_keepdims_random_select_last_index",
    "test_argmin_no_keepdims_random",
    "test_hardmax_axis_0",
    "test_reduce_log_sum_exp_keepdims_random",
    "test_reduce_l2_do_not_keepdims_random",
    "test_cumsum_1d_reverse_exclusive",
    "test_triu_neg",
    "test_scatternd_add",
    "test_gather_elements_negative_indices",
    "test_onehot_negative_indices",
    "test_basic_conv_with_padding",
    "test_clip_default_max",
    "test_convtranspose_autopad_same",
    "test_constant_pad_negative_axes",
];

/// Node-suite passes at `--max-k 14`, as the README states.
const NODE_SUITE_PASS: usize = 869;

/// The table functions added after the backend suite, on their ONNX node-suite cases and on
/// zkonnx's own cases (`fixtures/cases`, made by `scripts/make_cases.py`): each must be
/// proven, verified and within the harness's tolerance of the expected output.
#[test]
fn added_table_functions_pass_their_cases() {
    let node_suite = root().join("../shared/conformance/onnx-node");
    let cases = [
        node_suite.join("test_hardswish"),
        root().join("fixtures/cases/hardswish"),
    ];
    let work = temp_dir("added-table-fns");
    for case in cases {
        let (outcome, _) = run_case(&case, &work, 14);
        assert!(
            matches!(outcome, Outcome::Pass),
            "{}: {outcome:?}",
            case.display()
        );
    }
}

/// Node-suite cases zkonnx once proved wrong: each is now proven right or refused clearly,
/// in the category the report counts it under.
#[test]
fn node_suite_cases_once_wrong_are_right_or_refused() {
    let node_suite = root().join("../shared/conformance/onnx-node");
    let refused = |c| Some(c);
    let cases = [
        // Pad's constant value was proven as 0.
        ("test_constant_pad", None),
        // MaxPool ignored auto_pad = SAME_UPPER (4 values instead of 9).
        ("test_maxpool_2d_precomputed_same_upper", None),
        // Integer division truncates; the float quotient is not its result.
        ("test_div_int32_trunc", refused(Category::UnsupportedUse)),
        // An empty slice passed compile and setup, then broke the vk.
        (
            "test_slice_start_out_of_bounds",
            refused(Category::UnsupportedUse),
        ),
        // uint8 and int8 tensors could not be read.
        ("test_add_uint8", None),
        ("test_maxpool_2d_uint8", None),
        ("test_mul_int8", None),
        // float8 is a storage type zkonnx does not read: refused by name.
        (
            "test_cast_FLOAT_to_FLOAT8E4M3FN",
            refused(Category::OutOfScope),
        ),
        // Random numbers are not a function to prove.
        ("test_bernoulli", refused(Category::OutOfScope)),
        (
            "test_nonzero_example",
            refused(Category::DataDependentShape),
        ),
    ];
    let work = temp_dir("node-fixes");
    for (name, want) in cases {
        let (outcome, _) = run_case(&node_suite.join(name), &work, 14);
        match want {
            None => assert!(matches!(outcome, Outcome::Pass), "{name}: {outcome:?}"),
            Some(c) => assert_eq!(outcome.category(), Some(c), "{name}: {outcome:?}"),
        }
    }
}
