"""BatchStatNormalization: batch statistics always (frozen or not), float32 maths, saving, and
the critics that use it (``norm="batch_stats"``)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from keras_gan.losses import GradientPenalty
from keras_gan.networks import strided_discriminator
from keras_gan.networks.common import BatchStatNormalization, check_norm


def _batch(seed: int = 0, shape: tuple[int, ...] = (6, 4, 4, 3)) -> np.ndarray:
    """A batch of three channels."""
    rng = np.random.default_rng(seed)
    # Channels on different scales and offsets, so a per-channel normalisation is visible.
    return (rng.normal(size=shape) * [1.0, 5.0, 0.1] + [0.0, 3.0, -2.0]).astype("float32")


def _reference(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    axes = tuple(range(x.ndim - 1))
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def test_each_channel_is_normalised_over_batch_and_space_then_scaled_and_shifted():
    x = _batch()
    layer = BatchStatNormalization(epsilon=1e-6)
    layer.build(x.shape)
    layer.gamma.assign([1.0, 2.0, 0.5])
    layer.beta.assign([0.0, -1.0, 4.0])
    out = np.asarray(layer(x))
    np.testing.assert_allclose(
        out, _reference(x, np.array([1.0, 2.0, 0.5]), np.array([0.0, -1.0, 4.0]), 1e-6), atol=1e-4
    )
    # Per channel: mean beta, standard deviation gamma (epsilon is negligible here).
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), [0.0, -1.0, 4.0], atol=1e-5)
    np.testing.assert_allclose(out.std(axis=(0, 1, 2)), [1.0, 2.0, 0.5], rtol=0.02)


@pytest.mark.parametrize("training", [True, False])
def test_a_frozen_layer_still_uses_the_batch_statistics(training):
    # Keras' BatchNormalization switches to its moving statistics when frozen; this layer has
    # none, so a frozen critic normalises the batch it scores.
    x = _batch(1) + 10.0
    layer = BatchStatNormalization()
    model = keras.Sequential([keras.Input(x.shape[1:]), layer])
    model.trainable = False
    out = np.asarray(model(x, training=training))
    np.testing.assert_allclose(out, _reference(x, 1.0, 0.0, 1e-3), atol=1e-4)
    assert model.trainable_weights == [] and len(model.non_trainable_weights) == 2
    keras_bn = keras.Sequential([keras.Input(x.shape[1:]), keras.layers.BatchNormalization()])
    keras_bn.trainable = False
    # The contrast: frozen Keras batch norm leaves the +10 offset in (moving mean 0, variance 1).
    assert np.asarray(keras_bn(x, training=training)).mean() > 5.0


def test_gradients_match_tensorflow_s_batch_normalisation():
    import tensorflow as tf

    x = tf.constant(_batch(2))
    layer = BatchStatNormalization(epsilon=0.01)
    layer.build(x.shape)
    layer.gamma.assign([0.5, 1.5, -2.0])
    layer.beta.assign([0.1, 0.0, 0.3])
    # Per-element weights: with one weight per channel the true gradients would vanish.
    weights = tf.constant(np.random.default_rng(3).normal(size=x.shape).astype("float32"))
    gamma, beta = tf.constant([0.5, 1.5, -2.0]), tf.constant([0.1, 0.0, 0.3])

    def reference(x, gamma, beta):
        mean, variance = tf.nn.moments(x, axes=[0, 1, 2], keepdims=True)
        return tf.nn.batch_normalization(x, mean, variance, beta, gamma, 0.01)

    with tf.GradientTape(persistent=True) as tape:
        tape.watch([x, gamma, beta])
        ours = tf.reduce_sum(layer(x) * weights)
        theirs = tf.reduce_sum(reference(x, gamma, beta) * weights)
    got = tape.gradient(ours, [x, layer.gamma.value, layer.beta.value])
    want = tape.gradient(theirs, [x, gamma, beta])
    for g, w in zip(got, want, strict=True):
        assert np.abs(np.asarray(w)).max() > 1e-2  # a gradient that is really there
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-4, atol=1e-5)


def test_mixed_bfloat16_keeps_the_statistics_and_weights_in_float32():
    x = _batch(4)
    rounded = np.asarray(keras.ops.cast(keras.ops.cast(x, "bfloat16"), "float32"))
    reference = BatchStatNormalization()
    reference.build(x.shape)
    reference.gamma.assign([1.0 + 2**-12, 1.0, 1.0])
    expected = np.asarray(reference(rounded))
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        layer = BatchStatNormalization()
        layer.build(x.shape)
        layer.gamma.assign([1.0 + 2**-12, 1.0, 1.0])
        out = layer(keras.ops.cast(x, "bfloat16"))
        # What ``call`` reads inside the layer's autocast scope: float32, unrounded (a bfloat16
        # read would round 1 + 2**-12 to 1).
        with keras.src.backend.AutocastScope("bfloat16"):
            gamma = keras.ops.convert_to_tensor(layer.gamma)
    finally:
        keras.config.set_dtype_policy(previous)
    assert keras.backend.standardize_dtype(out.dtype) == "bfloat16"
    assert keras.backend.standardize_dtype(gamma.dtype) == "float32"
    assert float(np.asarray(gamma)[0]) == 1.0 + 2**-12
    # Against float32 maths on the same (rounded) inputs: only the output's bfloat16 rounding
    # (8 bits of mantissa, at most 2**-6 for |out| < 4) separates them.
    np.testing.assert_allclose(np.asarray(keras.ops.cast(out, "float32")), expected, atol=2**-6)


def test_a_critic_with_it_saves_and_reloads_its_weights_and_config(tmp_path):
    keras.utils.set_random_seed(0)
    critic = strided_discriminator((8, 8, 1), width=4, norm="batch_stats")
    norm = next(x for x in critic.layers if isinstance(x, BatchStatNormalization))
    rng = np.random.default_rng(6)
    norm.gamma.assign(rng.normal(size=norm.gamma.shape).astype("float32"))
    norm.beta.assign(rng.normal(size=norm.beta.shape).astype("float32"))
    norm.epsilon = 0.5  # large enough to change the outputs
    x = np.random.default_rng(5).uniform(-1, 1, (5, 8, 8, 1)).astype("float32")
    path = tmp_path / "critic.keras"
    critic.save(path)
    loaded = keras.models.load_model(path)
    twin = loaded.get_layer(norm.name)
    assert isinstance(twin, BatchStatNormalization) and twin.epsilon == 0.5
    np.testing.assert_array_equal(np.asarray(twin.gamma), np.asarray(norm.gamma))
    np.testing.assert_array_equal(np.asarray(twin.beta), np.asarray(norm.beta))
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(critic(x)), atol=1e-6)


def test_the_gradient_penalty_refuses_a_critic_with_it():
    critic = strided_discriminator((8, 8, 1), width=4, norm="batch_stats")
    with pytest.raises(ValueError, match="batch normalisation"):
        GradientPenalty().check_discriminator(critic)


def test_bad_options_name_the_value():
    assert check_norm("batch_stats") == "batch_stats"
    with pytest.raises(ValueError, match="batch_stat"):
        check_norm("batch_stat")
    for bad in (0, -1e-3, float("inf"), True, "1e-3"):
        with pytest.raises(ValueError, match=rf"positive finite.*epsilon={bad!r}"):
            BatchStatNormalization(epsilon=bad)
    assert BatchStatNormalization(epsilon=np.float32(1e-5)).epsilon == pytest.approx(1e-5)
    with pytest.raises(ValueError, match=r"known channel.*\(None, None\)"):
        BatchStatNormalization().build((None, None))
    with pytest.raises(ValueError, match=r"rank 2 or more.*\(3,\)"):
        BatchStatNormalization().build((3,))


def test_a_clipped_wgan_with_a_batch_statistics_critic_trains():
    from keras_gan.models import build

    gan = build(
        "wgan", image_shape=(8, 8, 1), latent_dim=4, width=4, seed=0, critic_norm="batch_stats"
    )
    norm = [
        layer for layer in gan.discriminator.layers if isinstance(layer, BatchStatNormalization)
    ]
    assert len(norm) == 1
    z = np.random.default_rng(0).normal(size=(4, 4)).astype("float32")
    before = np.asarray(gan.generator(z))
    x = np.random.default_rng(1).uniform(-1, 1, (40, 8, 8, 1)).astype("float32")
    history = gan.fit(x, batch_size=20, epochs=2, verbose=0).history
    assert all(np.isfinite(values).all() for values in history.values())
    # Weight clipping bounds the norm's scale and offset too (as the paper's code clamps all
    # critic parameters), and the generator has moved.
    for weight in (norm[0].gamma, norm[0].beta):
        assert np.abs(np.asarray(weight)).max() <= 0.01 + 1e-7
    assert np.abs(np.asarray(gan.generator(z)) - before).max() > 0


def test_upsampling_stages_follow_the_image_size():
    import pytest

    from keras_gan.networks.common import upsampling_stages

    assert [upsampling_stages(n, n) for n in (28, 32, 64, 96, 128)] == [2, 2, 3, 4, 4]
    assert upsampling_stages(44, 44) == 2  # 11 is odd: no third stage
    with pytest.raises(ValueError, match=r"multiples of 4.*Received: height=30, width=30"):
        upsampling_stages(30, 30)


def test_networks_grow_a_stage_per_doubling_and_keep_28_as_it_was():
    from keras_gan.networks import dcgan_discriminator, dcgan_generator, resize_conv_generator

    def names(model, kind):
        return [layer.name for layer in model.layers if type(layer).__name__ == kind]

    for side, stages in ((28, 2), (64, 3), (128, 4)):
        g = dcgan_generator(4, (side, side, 3), width=2)
        assert g.output_shape == (None, side, side, 3)
        assert names(g, "Conv2DTranspose")[:-1] == [f"deconv{i}" for i in range(stages)]
        assert g.get_layer("project").units == (side >> stages) ** 2 * (2 << stages)
        r = resize_conv_generator(4, (side, side, 1), width=2)
        assert names(r, "UpSampling2D") == [f"up{i}" for i in range(stages)]
        d = dcgan_discriminator((side, side, 3), width=2)
        convs = [layer for layer in d.layers if type(layer).__name__ == "Conv2D"]
        assert [c.filters for c in convs] == [2 << i for i in range(stages)]
    g28 = dcgan_generator(100, (28, 28, 1), width=64)
    assert g28.count_params() == 2_330_945  # the DCGAN pair at 28x28 is unchanged
    assert dcgan_discriminator((28, 28, 1), width=64).count_params() == 213_377
