#!/usr/bin/env python3
"""Builds zkonnx's own conformance-style cases in fixtures/cases/: model.onnx plus
test_data_set_0/{input,output}_0.pb, the layout of the ONNX node suite, so that the same
harness (`zkonnx conformance`) runs them. Deterministic: rerunning gives the same files.

    pip install onnx numpy && python3 scripts/make_cases.py
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "cases")


def hardswish(x):
    return x * np.clip(x / 6.0 + 0.5, 0.0, 1.0)


def unary_case(name, op, x, y):
    """One node `op` over an input shaped like `x`, with the expected output `y`."""
    d = os.path.join(ROOT, name)
    os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
    node = helper.make_node(op, ["x"], ["y"], name=f"{op.lower()}_0")
    graph = helper.make_graph(
        [node],
        name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(y.shape))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)], producer_name="zkonnx-cases")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(d, "model.onnx"))
    for kind, v, n in (("input", x, "x"), ("output", y, "y")):
        with open(os.path.join(d, "test_data_set_0", f"{kind}_0.pb"), "wb") as f:
            f.write(numpy_helper.from_array(v.astype(np.float32), n).SerializeToString())
    print(f"wrote fixtures/cases/{name}")


# HardSwish across its three pieces: 0 below -3, the quadratic between, x above 3.
x = np.linspace(-5.0, 5.0, 24, dtype=np.float32).reshape(2, 12)
unary_case("hardswish", "HardSwish", x, hardswish(x.astype(np.float64)).astype(np.float32))
