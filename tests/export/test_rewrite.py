"""The export-time ConvTranspose -> Conv + DepthToSpace rewrite (keras_gan.export.rewrite)
against onnxruntime's own ConvTranspose, over random strides, kernels, pads and output padding."""

from __future__ import annotations

import itertools

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from keras_gan.export.rewrite import convtranspose_to_conv
from onnx import TensorProto, helper, numpy_helper

from tests._serving_export import tiny_exports


def conv_transpose_model(x_shape, w, bias, **attributes) -> onnx.ModelProto:
    inputs = ["x", "w"] + (["b"] if bias is not None else [])
    initializers = [numpy_helper.from_array(w, "w")]
    if bias is not None:
        initializers.append(numpy_helper.from_array(bias, "b"))
    graph = helper.make_graph(
        [helper.make_node("ConvTranspose", inputs, ["y"], name="ct", **attributes)],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, None, None, None])],
        initializers,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def run(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


def test_random_configurations_match_conv_transpose():
    rng = np.random.default_rng(0)
    checked = 0
    for s, k in itertools.product((1, 2, 3), (1, 2, 3, 4, 5)):
        for _ in range(3):
            height, width = (int(v) for v in rng.integers(1, 7, 2))
            pads = [int(v) for v in rng.integers(0, k, 4)]
            output_padding = [int(v) for v in rng.integers(0, s, 2)]
            w = rng.normal(size=(3, 2, k, k)).astype(np.float32)
            bias = rng.normal(size=2).astype(np.float32) if rng.random() < 0.5 else None
            model = conv_transpose_model(
                [None, 3, height, width],
                w,
                bias,
                strides=[s, s],
                kernel_shape=[k, k],
                pads=pads,
                output_padding=output_padding,
            )
            x = rng.normal(size=(2, 3, height, width)).astype(np.float32)
            try:
                expected = run(model, x)
            except Exception:  # a configuration with an empty output: not a valid layer
                continue
            copy = onnx.ModelProto()
            copy.CopyFrom(model)
            rewritten, count = convtranspose_to_conv(copy)
            assert count == 1
            ops = [node.op_type for node in rewritten.graph.node]
            assert "ConvTranspose" not in ops and ops[0] == "Conv"
            onnx.checker.check_model(rewritten, full_check=True)
            got = run(rewritten, x)
            assert got.shape == expected.shape, (s, k, pads, output_padding)
            np.testing.assert_allclose(got, expected, atol=2e-5, rtol=0)
            checked += 1
    assert checked >= 30


@pytest.mark.parametrize(
    "attributes",
    [
        {"group": 2},
        {"dilations": [2, 2]},
        {"auto_pad": "SAME_UPPER"},
        {"strides": [1, 2]},
        {"output_shape": [5, 5]},
    ],
)
def test_unsupported_layers_are_left_alone(attributes):
    w = np.ones((2, 1, 3, 3), np.float32)
    model = conv_transpose_model([1, 2, 4, 4], w, None, kernel_shape=[3, 3], **attributes)
    rewritten, count = convtranspose_to_conv(model)
    assert count == 0
    assert [node.op_type for node in rewritten.graph.node] == ["ConvTranspose"]


def test_exports_carry_no_conv_transpose(pytestconfig, tmp_path_factory):
    version_dir = tiny_exports(pytestconfig, tmp_path_factory) / "base" / "1"
    for name in ("model.onnx", "model.sample.onnx"):
        ops = {node.op_type for node in onnx.load(version_dir / name).graph.node}
        assert "ConvTranspose" not in ops and {"Conv", "DepthToSpace"} <= ops
