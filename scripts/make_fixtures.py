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
from sklearn.linear_model import LinearRegression, LogisticRegression
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
    # An op zkonnx does not lower (the CLI and tests expect its name and the node's).
    w = numpy_helper.from_array(np.eye(4, dtype=np.float32), "w")
    nodes = [
        helper.make_node("MatMul", ["input", "w"], ["h"], name="proj"),
        helper.make_node("Det", ["h"], ["out"], name="det"),
    ]
    graph = helper.make_graph(
        nodes, "unsupported",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [4, 4])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [])],
        [w],
    )
    save("unsupported", graph, [np.arange(16, dtype=np.float32) / 8.0 - 1.0])


# --- The model zoo: CNNs, a sigmoid MLP and an attention block. No deep-learning framework
# is needed: convolution weights are fixed random filters (He initialisation, seeded) and the
# layers after them are trained by scikit-learn on the features the filters produce.


def conv2d(x, w, b):
    """x: N×C×H×W, w: O×C×kh×kw, valid padding, stride 1."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    out = np.zeros((n, o, h - kh + 1, wd - kw + 1), dtype=np.float32)
    for i in range(kh):
        for j in range(kw):
            patch = x[:, :, i:i + h - kh + 1, j:j + wd - kw + 1]
            out += np.einsum("nchw,oc->nohw", patch, w[:, :, i, j])
    return out + b.reshape(1, -1, 1, 1)


def maxpool2(x):
    n, c, h, w = x.shape
    return x[:, :, :h // 2 * 2, :w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def he(rng, shape):
    fan_in = int(np.prod(shape[1:]))
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


def conv_stack(rng, x, channels, kernel):
    """Conv → Relu → MaxPool 2 per layer; returns the features, the weights and the nodes."""
    inits, nodes, prev, c_in = [], [], "input", x.shape[1]
    for i, c_out in enumerate(channels):
        w, b = he(rng, (c_out, c_in, kernel, kernel)), np.zeros(c_out, dtype=np.float32)
        b += 0.05
        x = maxpool2(np.maximum(conv2d(x, w, b), 0))
        inits += [numpy_helper.from_array(w, f"conv{i}.weight"), numpy_helper.from_array(b, f"conv{i}.bias")]
        nodes += [
            helper.make_node("Conv", [prev, f"conv{i}.weight", f"conv{i}.bias"], [f"c{i}"], name=f"conv{i}", kernel_shape=[kernel, kernel]),
            helper.make_node("Relu", [f"c{i}"], [f"r{i}"], name=f"relu{i}"),
            helper.make_node("MaxPool", [f"r{i}"], [f"p{i}"], name=f"pool{i}", kernel_shape=[2, 2], strides=[2, 2]),
        ]
        prev, c_in = f"p{i}", c_out
    nodes.append(helper.make_node("Flatten", [prev], ["features"], name="flatten"))
    return x.reshape(len(x), -1), inits, nodes


def dense_layers(coefs, intercepts, hidden_act, prev="features"):
    inits, nodes = [], []
    for i, (w, b) in enumerate(zip(coefs, intercepts)):
        last = i == len(coefs) - 1
        inits += [numpy_helper.from_array(w.T.astype(np.float32), f"fc{i}.weight"), numpy_helper.from_array(b.astype(np.float32), f"fc{i}.bias")]
        out = "logits" if last else f"h{i}"
        nodes.append(helper.make_node("Gemm", [prev, f"fc{i}.weight", f"fc{i}.bias"], [out], name=f"fc{i}", transB=1))
        if not last:
            nodes.append(helper.make_node(hidden_act, [out], [f"a{i}"], name=f"{hidden_act.lower()}_fc{i}"))
            prev = f"a{i}"
    return inits, nodes


def digit_images(size):
    """sklearn's 8x8 digits scaled to [0, 1], resized to size×size (bilinear)."""
    x, y = load_digits(return_X_y=True)
    img = (x / 16.0).reshape(-1, 8, 8).astype(np.float32)
    if size != 8:
        src = np.linspace(0, 7, size)
        i0 = np.clip(np.floor(src).astype(int), 0, 6)
        f = (src - i0).astype(np.float32)
        rows = img[:, i0, :] * (1 - f)[None, :, None] + img[:, i0 + 1, :] * f[None, :, None]
        img = rows[:, :, i0] * (1 - f)[None, None, :] + rows[:, :, i0 + 1] * f[None, None, :]
    return img[:, None, :, :], y


def cnn(name, size, channels, kernel, hidden):
    rng = np.random.default_rng(1)
    x, y = digit_images(size)
    feats, inits, nodes = conv_stack(rng, x, channels, kernel)
    if hidden:
        clf = MLPClassifier(hidden_layer_sizes=hidden, activation="relu", max_iter=400, random_state=0)
        clf.fit(feats[:1500], y[:1500])
        coefs, intercepts = clf.coefs_, clf.intercepts_
    else:
        clf = LogisticRegression(max_iter=2000, C=0.5).fit(feats[:1500], y[:1500])
        coefs, intercepts = [clf.coef_.T], [clf.intercept_]
    print(f"{name} held-out accuracy: {clf.score(feats[1500:], y[1500:]):.3f}")
    i2, n2 = dense_layers(coefs, intercepts, "Relu")
    graph = helper.make_graph(
        nodes + n2, name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, size, size])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])],
        inits + i2,
    )
    save(name, graph, x[1500:1510].reshape(10, -1))


def sigmoid_mlp():
    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    clf = MLPClassifier(hidden_layer_sizes=(32,), activation="logistic", max_iter=800, random_state=0)
    clf.fit(x[:1500], y[:1500])
    print(f"sigmoid MLP 64-32-10 held-out accuracy: {clf.score(x[1500:], y[1500:]):.3f}")
    inits, nodes = dense_layers(clf.coefs_, clf.intercepts_, "Sigmoid", prev="input")
    graph = helper.make_graph(
        nodes, "sigmoid_mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 64])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])],
        inits,
    )
    save("sigmoid_mlp", graph, x[1500:1510])


def attention(t=4, d=8):
    """One-head self-attention: softmax(Q·Kᵀ/√d)·V, then an output projection."""
    rng = np.random.default_rng(2)
    w = {k: (rng.standard_normal((d, d)) / np.sqrt(d)).astype(np.float32) for k in ["wq", "wk", "wv", "wo"]}
    bo = (0.1 * rng.standard_normal(d)).astype(np.float32)
    scale = np.array(1.0 / np.sqrt(d), dtype=np.float32)
    inits = [numpy_helper.from_array(v, k) for k, v in w.items()]
    inits += [numpy_helper.from_array(bo, "bo"), numpy_helper.from_array(scale, "scale")]
    nodes = [
        helper.make_node("MatMul", ["input", "wq"], ["q"], name="q_proj"),
        helper.make_node("MatMul", ["input", "wk"], ["k"], name="k_proj"),
        helper.make_node("MatMul", ["input", "wv"], ["v"], name="v_proj"),
        helper.make_node("Transpose", ["k"], ["kt"], name="k_transpose", perm=[1, 0]),
        helper.make_node("MatMul", ["q", "kt"], ["scores"], name="scores"),
        helper.make_node("Mul", ["scores", "scale"], ["scaled"], name="scale"),
        helper.make_node("Softmax", ["scaled"], ["weights"], name="softmax", axis=-1),
        helper.make_node("MatMul", ["weights", "v"], ["mixed"], name="mix"),
        helper.make_node("MatMul", ["mixed", "wo"], ["projected"], name="out_proj"),
        helper.make_node("Add", ["projected", "bo"], ["output"], name="out_bias"),
    ]
    graph = helper.make_graph(
        nodes, "attention",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [t, d])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [t, d])],
        inits,
    )
    save("attention", graph, rng.standard_normal((10, t * d)))


if __name__ == "__main__":
    np.random.seed(0)
    digits_mlp()
    linreg()
    unsupported()
    cnn("digits_cnn", 8, [8], 3, None)
    cnn("lenet5", 28, [6, 16], 5, (120, 84))
    sigmoid_mlp()
    attention()
