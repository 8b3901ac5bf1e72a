"""The GAN model: the freeze property of both updates, saving, eager/graph agreement, validation."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan.models import GAN, build
from keras_gan.networks import dcgan_discriminator, dcgan_generator


def _gan(seed: int = 0, **kwargs) -> GAN:
    keras.utils.set_random_seed(seed)
    gan = GAN(
        dcgan_generator(4, (8, 8, 1), width=4),
        dcgan_discriminator((8, 8, 1), width=4, norm="batch"),
        seed=seed,
        **kwargs,
    )
    gan.compile(keras.optimizers.Adam(1e-2), keras.optimizers.Adam(1e-2))
    return gan


def _data(n: int = 32, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, (n, 8, 8, 1)).astype("float32")


def _values(model: keras.Model) -> list[np.ndarray]:
    return [np.array(v) for v in model.weights]


def test_discriminator_update_changes_no_generator_variable():
    gan = _gan()
    real = tf.constant(_data(8))
    fake = gan.generator(tf.random.normal((8, 4)), training=True)
    g_before, d_before = _values(gan.generator), _values(gan.discriminator)
    gan.discriminator_update(real, fake, tf.constant([0, 1], tf.int64))
    for before, after in zip(g_before, _values(gan.generator), strict=True):
        np.testing.assert_array_equal(before, after)
    changed = [
        not np.array_equal(b, a) for b, a in zip(d_before, _values(gan.discriminator), strict=True)
    ]
    assert all(changed)  # every weight AND both batch-norm moving statistics moved


def test_generator_update_changes_no_discriminator_variable():
    gan = _gan()
    with tf.GradientTape() as tape:
        fake = gan.generator(tf.random.normal((8, 4)), training=True)
    d_before = _values(gan.discriminator)
    g_before = _values(gan.generator)
    moving = [v.path for v in gan.discriminator.non_trainable_variables]
    assert any("moving_mean" in p for p in moving)  # the test would be vacuous without BN
    gan.generator_update(tape, fake)
    for before, after in zip(d_before, _values(gan.discriminator), strict=True):
        np.testing.assert_array_equal(before, after)
    assert gan.discriminator.trainable  # restored after the update
    trainable_g = {id(v) for v in gan.generator.trainable_variables}
    moved = [
        not np.array_equal(b, np.array(v))
        for b, v in zip(g_before, gan.generator.weights, strict=True)
        if id(v) in trainable_g
    ]
    assert all(moved)


def test_fit_trains_both_networks_and_logs_metrics():
    gan = _gan()
    g_before, d_before = _values(gan.generator), _values(gan.discriminator)
    history = gan.fit(_data(), batch_size=8, epochs=2, verbose=0, shuffle=False)
    assert set(history.history) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert all(np.isfinite(v).all() for v in history.history.values())
    assert 0.0 < history.history["d_real"][-1] < 1.0  # a probability: sigmoid of the logit
    assert not np.array_equal(g_before[0], _values(gan.generator)[0])
    assert not np.array_equal(d_before[0], _values(gan.discriminator)[0])
    assert int(gan.g_optimizer.iterations) == 8 and int(gan.d_optimizer.iterations) == 8


def test_fit_on_a_dataset_warns_nothing_about_shuffle():
    """Keras ignores shuffle=True for a dataset and warns on every call; GAN.fit passes False."""
    import warnings

    gan = _gan()
    dataset = tf.data.Dataset.from_tensor_slices(_data()).batch(8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gan.fit(dataset, epochs=1, verbose=0)
        gan.fit(dataset, epochs=1, verbose=0, shuffle=True)  # asked for: Keras' warning stays
    messages = [str(w.message) for w in caught if "shuffle" in str(w.message)]
    assert len(messages) == 1 and "`shuffle=True` was passed" in messages[0]


def test_eager_and_graph_training_agree():
    # SGD: Adam's normalised steps would amplify float rounding differences of fused kernels.
    graph = _gan(seed=3)
    graph.compile(keras.optimizers.SGD(0.05), keras.optimizers.SGD(0.05))
    eager = _gan(seed=3)
    eager.compile(keras.optimizers.SGD(0.05), keras.optimizers.SGD(0.05), run_eagerly=True)
    before = _values(graph)
    data = _data()
    graph.fit(data, batch_size=8, epochs=1, verbose=0, shuffle=False)
    eager.fit(data, batch_size=8, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(_values(graph), _values(eager), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert not np.allclose(_values(graph)[0], before[0])


def test_keras_round_trip_then_more_training(tmp_path):
    gan = _gan(ema_decay=0.9)
    data = _data()
    gan.fit(data, batch_size=8, epochs=1, verbose=0, shuffle=False)
    path = tmp_path / "gan.keras"
    gan.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, GAN)
    assert loaded.seed == gan.seed and loaded.ema_decay == 0.9 and loaded.latent_dim == 4
    for a, b in zip(_values(gan), _values(loaded), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(gan.g_optimizer.variables, loaded.g_optimizer.variables, strict=True):
        np.testing.assert_array_equal(np.array(a), np.array(b))
    np.testing.assert_array_equal(gan.generate(4, seed=1), loaded.generate(4, seed=1))
    # Both continue identically: same optimizer state, same noise stream.
    gan.fit(data, batch_size=8, epochs=1, verbose=0, shuffle=False)
    loaded.fit(data, batch_size=8, epochs=1, verbose=0, shuffle=False)
    assert int(loaded.g_optimizer.iterations) == 8
    for a, b in zip(_values(gan), _values(loaded), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_ema_generator_is_what_generate_uses():
    gan = _gan(ema_decay=0.5)
    gan.fit(_data(), batch_size=8, epochs=1, verbose=0)
    assert gan.sampling_generator is gan.ema_generator
    z = gan.latent(3, seed=0)
    np.testing.assert_allclose(gan.generate(3, seed=0), gan.ema_generator(z, training=False))
    assert not np.allclose(gan.generate(3, seed=0), gan.generator(z, training=False))


def test_generate_is_seeded():
    gan = _gan()
    a, b, c = gan.generate(5, seed=1), gan.generate(5, seed=1), gan.generate(5, seed=2)
    assert a.shape == (5, 8, 8, 1) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    with pytest.raises(ValueError, match="n=0"):
        gan.generate(0)


def test_critic_steps_split_the_batch():
    keras.utils.set_random_seed(0)
    gan = build("wgan", image_shape=(8, 8, 1), latent_dim=4, width=4, seed=0)
    history = gan.fit(_data(40), batch_size=20, epochs=1, verbose=0)
    assert int(gan.d_optimizer.iterations) == 10 and int(gan.g_optimizer.iterations) == 2
    assert "w_distance" in history.history
    weights = np.concatenate([np.ravel(v) for v in gan.discriminator.trainable_variables])
    assert np.abs(weights).max() <= 0.01 + 1e-7
    with pytest.raises(Exception, match="multiple of discriminator_steps=5"):
        gan.fit(_data(8), batch_size=8, epochs=1, verbose=0)


def test_validation_messages():
    g, d = dcgan_generator(4, (8, 8, 1), width=4), dcgan_discriminator((8, 8, 1), width=4)
    with pytest.raises(
        ValueError, match=r"matching the generator's input \(4\). Received: latent_dim=5"
    ):
        GAN(g, d, latent_dim=5)
    with pytest.raises(ValueError, match="discriminator_steps=0"):
        GAN(g, d, discriminator_steps=0)
    with pytest.raises(ValueError, match="batch normalisation"):
        GAN(g, d, penalty="gp")
    with pytest.raises(TypeError, match=r"generator must be a keras\.Model"):
        GAN("generator", d)
    gan = GAN(g, d)
    optimizer = keras.optimizers.Adam()
    with pytest.raises(ValueError, match="two optimizer objects"):
        gan.compile(optimizer, optimizer)
    with pytest.raises(TypeError, match="not 'optimizer'"):
        gan.compile(optimizer="adam")
    with pytest.raises(ValueError, match="unknown loss"):
        gan.compile(loss="wasserstien")
    with pytest.raises(ValueError, match="Received: 'vae'"):
        build("vae")


def test_fit_under_default_strategy_scope_does_not_probe_build():
    with tf.distribute.get_strategy().scope():
        gan = build("dcgan", image_shape=(8, 8, 1), latent_dim=4, width=4, seed=0)
    gan.fit(_data(16), batch_size=8, epochs=1, verbose=0)
    assert gan.generator.input_shape == (None, 4)
