"""The latent recipe keras_gan.latent.v1: numpy, TensorFlow and onnxruntime agree bit for bit."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
import tensorflow as tf
from keras_gan.export import latent as tf_recipe
from keras_gan.export.onnx import _convert
from keras_gan.serving import latent as np_latent

SEEDS = [0, 1, -1, 42, 2**32, 2**32 - 1, 123456789012345, 2**63 - 1, -(2**63)]


def tf_latent(n: int, seed: int, latent_dim: int) -> np.ndarray:
    return tf_recipe.tf_latent(
        tf.constant(n, tf.int32), tf.constant(seed, tf.int64), latent_dim
    ).numpy()


@pytest.fixture(scope="module")
def onnx_latent():
    """The recipe alone, converted by the same path as the exported sample models."""
    latent_dim = 64

    def fn(n, seed):
        return {"images": tf_recipe.tf_latent(n, seed, latent_dim)}

    spec = [tf.TensorSpec([], tf.int32, name="n"), tf.TensorSpec([], tf.int64, name="seed")]
    proto = _convert(fn, spec, 18, "latent")
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])

    def run(n: int, seed: int) -> np.ndarray:
        return session.run(None, {"n": np.array(n, np.int32), "seed": np.array(seed, np.int64)})[0]

    return run, latent_dim, proto


def test_mix32_golden_values():
    # MurmurHash3 fmix32 reference values (from the C reference implementation).
    assert int(np_latent.mix32(np.uint64(0))) == 0
    assert int(np_latent.mix32(np.uint64(1))) == 0x514E28B7
    assert int(np_latent.mix32(np.uint64(0xFFFFFFFF))) == 0x81F16F39


def test_numpy_recipe_golden_values():
    # Pins the recipe: a change here breaks every client that rebuilds z.
    z = np_latent.latent(2, seed=0, latent_dim=3)
    u1, u2 = np_latent.uniforms(2, 0, 3)
    expected = np.sqrt(-2.0 * np.log(u1)) * np.cos(u2 * np_latent.TWO_PI)
    np.testing.assert_array_equal(z, expected.astype(np.float32))
    key = np_latent.seed_key(0)
    h1 = np_latent.absorb(np_latent.absorb(key, np.uint64(1)), np.uint64(2 * 2))
    assert u1[1, 2] == (2 * (int(h1) >> 9) + 1) * 2.0**-24
    assert np_latent.seed_key(-1) == np_latent.absorb(
        np_latent.absorb(np.uint64(0), np.uint64(0xFFFFFFFF)), np.uint64(0xFFFFFFFF)
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_tensorflow_equals_numpy(seed):
    for n in (0, 1, 37):
        a, b = tf_latent(n, seed, 16), np_latent.latent(n, seed, 16)
        assert a.shape == b.shape == (n, 16)
        np.testing.assert_array_equal(a, b)


def test_onnxruntime_equals_tensorflow_and_numpy(onnx_latent):
    run, latent_dim, _ = onnx_latent
    total = 0
    for seed in SEEDS:
        for n in (0, 1, 500):
            a = run(n, seed)
            assert a.dtype == np.float32 and a.shape == (n, latent_dim)
            np.testing.assert_array_equal(a, tf_latent(n, seed, latent_dim))
            np.testing.assert_array_equal(a, np_latent.latent(n, seed, latent_dim))
            total += a.size
    assert total > 250_000


def test_onnx_graph_keeps_log_in_float64(onnx_latent):
    # tf2onnx rounds float64 Log through float32; the export removes that detour.
    proto = onnx_latent[2]
    log = next(node for node in proto.graph.node if node.op_type == "Log")
    producers = {out: node for node in proto.graph.node for out in node.output}
    assert producers[log.input[0]].op_type != "Cast"


def test_standard_normal_statistics():
    z = np_latent.latent(4000, seed=7, latent_dim=64).astype(np.float64).ravel()
    assert abs(z.mean()) < 0.01
    assert abs(z.std() - 1.0) < 0.01
    assert abs(np.mean(np.abs(z) > 1.959964) - 0.05) < 0.003
    assert abs(np.mean(z**4) - 3.0) < 0.05  # kurtosis of a normal
    assert np.abs(z).max() <= np_latent.Z_BOUND
    # Columns and rows are uncorrelated.
    grid = z.reshape(4000, 64)
    correlation = np.corrcoef(grid[:, :8], rowvar=False)
    assert np.abs(correlation - np.eye(8)).max() < 0.06


def test_rows_are_a_prefix_and_seeds_differ():
    big = np_latent.latent(64, seed=3, latent_dim=8)
    np.testing.assert_array_equal(np_latent.latent(8, seed=3, latent_dim=8), big[:8])
    other = np_latent.latent(64, seed=4, latent_dim=8)
    assert not np.any(big == other)
    # Adjacent seeds that share a low word (2**32 apart) are unrelated too.
    far = np_latent.latent(64, seed=3 + 2**32, latent_dim=8)
    assert not np.any(big == far)


def test_numpy_recipe_rejects_bad_arguments():
    with pytest.raises(ValueError, match="n=-1"):
        np_latent.latent(-1, 0, 4)
    with pytest.raises(ValueError, match="latent_dim=0"):
        np_latent.latent(1, 0, 0)
    with pytest.raises(ValueError, match="seed=18446744073709551615"):
        np_latent.latent(1, 2**64 - 1, 4)
    with pytest.raises(TypeError, match=r"seed=1\.5"):
        np_latent.latent(1, 1.5, 4)


def test_serving_latent_does_not_import_tensorflow():
    import subprocess
    import sys

    code = (
        "import sys; import keras_gan.serving.latent as l; l.latent(2, 0, 4); "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
