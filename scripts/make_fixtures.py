#!/usr/bin/env python3
"""Builds the example ONNX models and inputs in fixtures/ from data that ships with
scikit-learn (8x8 digits, diabetes). Deterministic: rerunning gives the same files.

    pip install onnx numpy scikit-learn && python3 scripts/make_fixtures.py
"""
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_diabetes, load_digits
from sklearn.linear_model import LinearRegression
from sklearn.neural_network import MLPClassifier

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")


def save(name, graph, inputs):
    d = os.path.join(ROOT, name)
    os.makedirs(d, exist_ok=True)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="zkonnx-fixtures")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(d, "model.onnx"))
    for i, x in enumerate(inputs):
        with open(os.path.join(d, f"input_{i}.json"), "w") as f:
            json.dump({"input_data": [[round(float(v), 6) for v in x]]}, f)
    print(f"wrote fixtures/{name}: {len(inputs)} inputs")


def digits_mlp():
    x, y = load_digits(return_X_y=True)
    clf = MLPClassifier(hidden_layer_sizes=(32,), activation="relu", max_iter=300, random_state=0)
    clf.fit(x[:1500], y[:1500])
    print(f"digits MLP 64-32-10 held-out accuracy: {clf.score(x[1500:], y[1500:]):.3f}")
    w1, w2 = clf.coefs_
    b1, b2 = clf.intercepts_
    inits = [
        numpy_helper.from_array(w1.T.astype(np.float32), "fc1.weight"),
        numpy_helper.from_array(b1.astype(np.float32), "fc1.bias"),
        numpy_helper.from_array(w2.T.astype(np.float32), "fc2.weight"),
        numpy_helper.from_array(b2.astype(np.float32), "fc2.bias"),
    ]
    nodes = [
        helper.make_node("Gemm", ["input", "fc1.weight", "fc1.bias"], ["h"], name="fc1", transB=1),
        helper.make_node("Relu", ["h"], ["h_relu"], name="relu1"),
        helper.make_node("Gemm", ["h_relu", "fc2.weight", "fc2.bias"], ["logits"], name="fc2", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "digits_mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 64])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])],
        inits,
    )
    save("digits_mlp", graph, x[1500:1510])


def linreg():
    x, y = load_diabetes(return_X_y=True)
    reg = LinearRegression().fit(x[:400], y[:400])
    inits = [
        numpy_helper.from_array(reg.coef_.reshape(10, 1).astype(np.float32), "w"),
        numpy_helper.from_array(np.array([reg.intercept_], dtype=np.float32), "b"),
    ]
    nodes = [
        helper.make_node("MatMul", ["input", "w"], ["xw"], name="matmul"),
        helper.make_node("Add", ["xw", "b"], ["prediction"], name="add_bias"),
    ]
    graph = helper.make_graph(
        nodes, "linreg",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 10])],
        [helper.make_tensor_value_info("prediction", TensorProto.FLOAT, [1, 1])],
        inits,
    )
    save("linreg", graph, x[400:410])


def unsupported():
    w = numpy_helper.from_array(np.eye(4, dtype=np.float32), "w")
    nodes = [
        helper.make_node("MatMul", ["input", "w"], ["h"], name="proj"),
        helper.make_node("Sign", ["h"], ["out"], name="signum"),
    ]
    graph = helper.make_graph(
        nodes, "unsupported",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 4])],
        [w],
    )
    save("unsupported", graph, [np.array([0.5, -1.0, 2.0, 0.0])])


if __name__ == "__main__":
    np.random.seed(0)
    digits_mlp()
    linreg()
    unsupported()
