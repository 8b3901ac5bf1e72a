"""A self-conditioned (``clustered``) GAN exports as an unconditional ``z -> image`` generator:
its cluster choice runs inside both formats, which agree with Keras on the recipe latents."""

from __future__ import annotations

import json

import keras
import keras_gan.export as kx
import numpy as np
import onnxruntime as ort
from keras_gan.serving import Sampler
from keras_gan.serving.latent import latent

from keras_gan.models import build

PRIOR = [0.2, 0.5, 0.3]


def test_export_verifies_and_onnx_draws_the_clusters_keras_draws(tmp_path):
    keras.utils.set_random_seed(0)
    gan = build(
        "clustered", image_shape=(8, 8, 1), latent_dim=4, width=4, seed=0, cluster_prior=PRIOR
    )
    # Random weights large enough that each cluster's embedding moves the images.
    rng = np.random.default_rng(0)
    for variable in gan.generator.weights:
        if "embedding" in variable.path:
            variable.assign(rng.normal(0.0, 3.0, variable.shape).astype("float32"))
    report = kx.export_and_verify(gan, tmp_path / "export", formats=("saved_model", "onnx"))
    metadata = json.loads((report.path / "assets" / "keras_gan.json").read_text())
    assert metadata.get("num_classes") is None and metadata["latent_dim"] == 4
    session = ort.InferenceSession(str(report.path / "model.onnx"))
    assert [i.name for i in session.get_inputs()] == ["z"]
    # z0 spread over the three clusters; the rest of z the same for every row.
    z = np.repeat(latent(1, 5, 4), 6, axis=0)
    z[:, 0] = [-2.0, -1.0, -0.5, 0.0, 0.8, 2.0]
    expected = np.asarray(gan.generator(z, training=False))
    onnx = session.run(None, {"z": z})[0]
    np.testing.assert_allclose(onnx, expected, atol=1e-5)
    assert not np.allclose(expected[0], expected[-1])  # different clusters, different images
    sampled = Sampler(report.path).sample(5, seed=3)
    keras_uint8 = np.clip(np.round((gan.generate(5, seed=3) + 1) * 127.5), 0, 255)
    assert np.abs(sampled.astype(int) - keras_uint8.astype(int)).max() <= 1
