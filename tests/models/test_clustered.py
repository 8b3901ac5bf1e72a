"""The self-conditioned ``clustered`` preset: trained on cluster ids, unconditional to its users."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan.models import GAN, build
from keras_gan.networks import (
    clustered_generator,
    latent_class_layer,
    mlp_discriminator,
    mlp_generator,
    projection_discriminator,
)
from keras_gan.networks.clustered import latent_classes

SHAPE = (8, 8, 1)
PRIOR = [0.5, 0.25, 0.25]


def _small(**kwargs) -> GAN:
    keras.utils.set_random_seed(0)
    options = {"image_shape": SHAPE, "latent_dim": 4, "width": 4, "seed": 3}
    return build("clustered", cluster_prior=PRIOR, **{**options, **kwargs})


def _data(rows: int = 32) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    images = rng.uniform(-1, 1, (rows, *SHAPE)).astype("float32")
    return images, (np.arange(rows) % len(PRIOR)).astype("int32")


def _dataset(images, ids, batch: int = 8) -> tf.data.Dataset:
    return tf.data.Dataset.from_tensor_slices((images, ids)).batch(batch, drop_remainder=True)


def test_the_preset_is_unconditional_outside_and_conditioned_on_clusters_inside():
    gan = _small()
    assert gan.clusters == 3 and gan.num_classes is None and not gan.conditional
    assert [t.name for t in gan.generator.inputs] == ["z"]
    assert [t.name for t in gan.discriminator.inputs] == ["images", "labels"]
    assert gan.generate(5, seed=0).shape == (5, *SHAPE)
    with pytest.raises(ValueError, match="labels"):
        gan.generate(2, labels=0, seed=0)


def test_training_on_cluster_ids_moves_both_networks_with_finite_losses():
    gan = _small()
    before = {
        name: [np.array(v) for v in net.weights]
        for name, net in (("g", gan.generator), ("d", gan.discriminator))
    }
    history = gan.fit(_dataset(*_data()), epochs=1, verbose=0)
    assert all(np.isfinite(history.history[k][-1]) for k in ("d_loss", "g_loss"))
    moved = {
        name: any(
            not np.allclose(b, np.array(a)) for b, a in zip(before[name], net.weights, strict=True)
        )
        for name, net in (("g", gan.generator), ("d", gan.discriminator))
    }
    assert moved == {"g": True, "d": True}


def test_the_real_cluster_ids_reach_the_discriminator():
    gan = _small()
    gan.fit(_dataset(*_data()), epochs=1, verbose=0)
    images, ids = _data(8)
    same = gan.evaluate(_dataset(images, ids), verbose=0, return_dict=True)
    other = gan.evaluate(_dataset(images, (ids + 1) % 3), verbose=0, return_dict=True)
    assert same["d_real"] != pytest.approx(other["d_real"], abs=1e-7)


def test_the_fakes_are_scored_with_the_clusters_their_z_drew():
    seen = []

    class Recording(keras.Model):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def call(self, inputs, training=None):
            seen.append(inputs[1])
            return self.inner(inputs, training=training)

    keras.utils.set_random_seed(0)
    generator = clustered_generator(lambda d: mlp_generator(d, (2,), hidden=(8,)), PRIOR, 3)
    inner = projection_discriminator(mlp_discriminator((2,), hidden=(8,)), 3)
    gan = GAN(generator, inner, seed=5)
    gan.discriminator = Recording(inner)
    gan._discriminator_takes_labels = True
    gan.compile("adam", "adam", loss="non_saturating", run_eagerly=True)
    real = np.zeros((6, 2), "float32")
    gan.train_step((tf.constant(real), tf.constant(np.arange(6) % 3, tf.int32)))
    # Step 0's latents: the stateless draw seeded by (seed, step 0, latent stream 0).
    expected = latent_classes(
        tf.random.stateless_normal([6, 3], seed=tf.constant([5, 0], tf.int64)),
        latent_class_layer(generator).edges,
    )
    # Call order: real, fake (discriminator update), then fake (generator update).
    np.testing.assert_array_equal(np.asarray(seen[0]), np.arange(6) % 3)
    np.testing.assert_array_equal(np.asarray(seen[1]), np.asarray(expected))
    np.testing.assert_array_equal(np.asarray(seen[2]), np.asarray(expected))


def test_batches_without_cluster_ids_are_refused():
    gan = _small()
    images, _ = _data()
    with pytest.raises(ValueError, match="cluster_ids"):
        gan.fit(tf.data.Dataset.from_tensor_slices(images).batch(8), epochs=1, verbose=0)


def test_the_preset_needs_its_prior_and_the_others_refuse_one():
    with pytest.raises(ValueError, match="needs cluster_prior"):
        build("clustered", image_shape=SHAPE, compile=False)
    with pytest.raises(ValueError, match=r"takes no cluster_prior.*Received: cluster_prior=\[1\]"):
        build("resize_conv", image_shape=SHAPE, cluster_prior=[1], compile=False)


def test_a_clustered_generator_needs_a_discriminator_that_takes_cluster_ids():
    generator = clustered_generator(lambda d: mlp_generator(d, (2,), hidden=(8,)), PRIOR, 3)
    with pytest.raises(ValueError, match="takes \\[images, cluster_ids\\]"):
        GAN(generator, mlp_discriminator((2,), hidden=(8,)))
    with pytest.raises(ValueError, match="leave num_classes None"):
        GAN(generator, projection_discriminator(mlp_discriminator((2,)), 3), num_classes=3)


def test_a_keras_file_keeps_the_clusters_and_the_samples(tmp_path):
    gan = _small(ema_decay=0.9)
    gan.fit(_dataset(*_data()), epochs=1, verbose=0)
    path = tmp_path / "gan.keras"
    gan.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.clusters == 3 and loaded.ema_generator is not None
    np.testing.assert_allclose(loaded.generate(4, seed=2), gan.generate(4, seed=2), atol=1e-6)
    loaded.fit(_dataset(*_data()), epochs=1, verbose=0)  # keeps training
