"""Loss pairs (golden values on fixed logits), the gradient penalty against a linear critic, R1,
weight clipping, selection/serialization, and loss scaling under a two-replica strategy."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_gan.losses as L
from keras_gan.models import build

REAL = np.array([-2.0, -0.5, 0.0, 1.5, 3.0], np.float32)
FAKE = np.array([-3.0, -1.0, 0.0, 0.5, 2.0], np.float32)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x.astype(np.float64)))


def _per_sample(tensor: tf.Tensor) -> np.ndarray:
    array = np.asarray(tensor, np.float64)
    assert array.shape == (len(REAL),)
    return array


# Expected values written from each paper's formula on probabilities (not on logits, as the
# library does), so a wrong sign or a swapped softplus shows up.
def _log_d(x: np.ndarray) -> np.ndarray:
    return np.log(_sigmoid(x))


def _log_1md(x: np.ndarray) -> np.ndarray:
    return np.log(1.0 - _sigmoid(x))


GOLDEN = {
    "minimax": (-_log_d(REAL) - _log_1md(FAKE), _log_1md(FAKE)),
    "non_saturating": (-_log_d(REAL) - _log_1md(FAKE), -_log_d(FAKE)),
    "wasserstein": (FAKE - REAL, -FAKE),
    "hinge": (np.maximum(0, 1 - REAL) + np.maximum(0, 1 + FAKE), -FAKE),
    "least_squares": (0.5 * (REAL - 1) ** 2 + 0.5 * FAKE**2, 0.5 * (FAKE - 1) ** 2),
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_values_on_fixed_logits(name):
    pair = L.get(name)
    expected_d, expected_g = GOLDEN[name]
    # (batch, 1) logits, as a discriminator returns them.
    d_loss = pair.discriminator_loss(REAL[:, None], FAKE[:, None])
    g_loss = pair.generator_loss(FAKE[:, None])
    np.testing.assert_allclose(_per_sample(d_loss), expected_d, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_per_sample(g_loss), expected_g, rtol=1e-5, atol=1e-6)


def test_golden_numbers_written_out():
    # A few values by hand: at logit 0, D = 1/2, so -log D = log 2.
    log2 = np.log(2.0)
    np.testing.assert_allclose(L.minimax_discriminator_loss([[0.0]], [[0.0]]), [2 * log2], 1e-6)
    np.testing.assert_allclose(L.minimax_generator_loss([[0.0]]), [-log2], 1e-6)
    np.testing.assert_allclose(L.non_saturating_generator_loss([[0.0]]), [log2], 1e-6)
    np.testing.assert_allclose(L.hinge_discriminator_loss([[0.25]], [[-0.5]]), [1.25], 1e-6)
    np.testing.assert_allclose(L.wasserstein_discriminator_loss([[3.0]], [[1.0]]), [-2.0])
    np.testing.assert_allclose(L.least_squares_discriminator_loss([[0.0]], [[2.0]]), [2.5])


def test_pair_classes_match_their_functions():
    real, fake = REAL[:, None], FAKE[:, None]
    functions = {
        L.MinimaxLoss: (L.minimax_discriminator_loss, L.minimax_generator_loss),
        L.NonSaturatingLoss: (L.non_saturating_discriminator_loss, L.non_saturating_generator_loss),
        L.WassersteinLoss: (L.wasserstein_discriminator_loss, L.wasserstein_generator_loss),
        L.HingeLoss: (L.hinge_discriminator_loss, L.hinge_generator_loss),
        L.LeastSquaresLoss: (L.least_squares_discriminator_loss, L.least_squares_generator_loss),
    }
    for cls, (d_fn, g_fn) in functions.items():
        pair = cls()
        np.testing.assert_array_equal(pair.discriminator_loss(real, fake), d_fn(real, fake))
        np.testing.assert_array_equal(pair.generator_loss(fake), g_fn(fake))


def test_one_sided_label_smoothing():
    t = 0.9
    expected = -(t * _log_d(REAL) + (1 - t) * _log_1md(REAL)) - _log_1md(FAKE)
    loss = L.MinimaxLoss(label_smoothing=0.1).discriminator_loss(REAL, FAKE)
    np.testing.assert_allclose(_per_sample(loss), expected, rtol=1e-5)
    with pytest.raises(ValueError, match=r"label_smoothing=0\.5"):
        L.MinimaxLoss(label_smoothing=0.5)


def test_probabilistic_losses_are_stable_at_extreme_logits():
    # A discriminator that is sure and right costs ~0, sure and wrong costs ~|logit|; no inf/nan.
    big = np.array([[80.0]], np.float32)
    np.testing.assert_allclose(L.minimax_discriminator_loss(big, -big), [0.0], atol=1e-6)
    np.testing.assert_allclose(L.minimax_discriminator_loss(-big, big), [160.0], rtol=1e-6)
    np.testing.assert_allclose(L.non_saturating_generator_loss(-big), [80.0], rtol=1e-6)
    np.testing.assert_allclose(L.minimax_generator_loss(big), [-80.0], rtol=1e-6)


def test_selection_by_name_alias_and_object_and_serialization():
    assert set(GOLDEN) <= set(L.available())
    assert isinstance(L.get("Non-Saturating"), L.NonSaturatingLoss)
    assert isinstance(L.get("lsgan"), L.LeastSquaresLoss)
    pair = L.MinimaxLoss(label_smoothing=0.2)
    assert L.get(pair) is pair
    for original in (pair, L.WassersteinLoss(), L.HingeLoss(), L.NonSaturatingLoss(0.1)):
        config = keras.saving.serialize_keras_object(original)
        restored = L.get(config)
        assert type(restored) is type(original) and restored == original
    for extra in (L.GradientPenalty(5.0), L.R1Penalty(0.5), L.WeightClip(0.02)):
        restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(extra))
        assert type(restored) is type(extra) and restored.get_config() == extra.get_config()
    with pytest.raises(ValueError, match="Received: loss='wasserstien'"):
        L.get("wasserstien")
    with pytest.raises(ValueError, match="Received: penalty='gpp'"):
        L.get_penalty("gpp")


# ---------------------------------------------------------------- gradient penalty and R1


def _linear_critic(w: np.ndarray, b: float, shape: tuple[int, ...]) -> keras.Model:
    """f(x) = w . flatten(x) + b: its input gradient is w everywhere."""
    inputs = keras.Input(shape)
    x = keras.layers.Flatten()(inputs)
    dense = keras.layers.Dense(1)
    critic = keras.Model(inputs, dense(x))
    dense.kernel.assign(w.reshape(-1, 1))
    dense.bias.assign([b])
    return critic


def test_gradient_penalty_of_a_linear_critic_is_exact():
    # Inputs of shape (4, 3): the norm runs over BOTH non-batch axes.
    rng = np.random.default_rng(0)
    w = rng.normal(size=(4, 3)).astype(np.float32)
    critic = _linear_critic(w, 0.3, (4, 3))
    real = rng.normal(size=(6, 4, 3)).astype(np.float32)
    fake = rng.normal(size=(6, 4, 3)).astype(np.float32)
    expected = 10.0 * (np.linalg.norm(w.astype(np.float64)) - 1.0) ** 2
    for seed in ([0, 1], [7, 3]):  # whatever alpha is drawn
        values = L.GradientPenalty()(critic, real, fake, tf.constant(seed, tf.int64))
        assert values.shape == (6,)
        np.testing.assert_allclose(values, np.full(6, expected), rtol=1e-5)
    unit = _linear_critic(w / np.linalg.norm(w), 0.0, (4, 3))
    np.testing.assert_allclose(
        L.GradientPenalty(10.0)(unit, real, fake, tf.constant([0, 1], tf.int64)), 0.0, atol=1e-5
    )
    r1 = L.R1Penalty(weight=2.0)(critic, real, fake, tf.constant([0, 1], tf.int64))
    np.testing.assert_allclose(r1, np.full(6, 0.5 * 2.0 * np.sum(w.astype(np.float64) ** 2)), 1e-5)


def test_gradient_penalty_is_safe_where_the_gradient_vanishes():
    critic = _linear_critic(np.zeros((2,), np.float32), 0.0, (2,))
    real = tf.ones((4, 2))
    fake = tf.zeros((4, 2))
    with tf.GradientTape() as tape:
        values = L.GradientPenalty(10.0)(critic, real, fake, tf.constant([0, 1], tf.int64))
        loss = tf.reduce_mean(values)
    kernel = critic.layers[-1].kernel
    (grad,) = tape.gradient(loss, [kernel])  # the bias does not enter the input gradient
    np.testing.assert_allclose(values, 10.0, rtol=1e-5)  # (0 - 1)^2 * 10
    assert grad is not None and np.isfinite(np.asarray(grad)).all()


class _Recorder(keras.Model):
    """A linear critic that keeps the inputs it is called with (eager calls only)."""

    def __init__(self) -> None:
        super().__init__()
        self.dense = keras.layers.Dense(1)
        self.flatten = keras.layers.Flatten()
        self.seen: list[np.ndarray] = []

    def call(self, x):
        self.seen.append(np.asarray(x))
        return self.dense(self.flatten(x))


def test_alpha_is_drawn_once_per_sample_uniform_in_unit_interval():
    rng = np.random.default_rng(1)
    n = 256
    real = rng.normal(size=(n, 3, 2)).astype(np.float32)
    fake = rng.normal(size=(n, 3, 2)).astype(np.float32) + 5.0  # far apart: alpha identifiable
    critic = _Recorder()
    critic(real[:1])
    critic.seen.clear()
    L.GradientPenalty()(critic, real, fake, tf.constant([3, 4], tf.int64))
    (interpolates,) = critic.seen
    # x_hat = a x + (1 - a) G(z)  =>  a = (x_hat - G(z)) / (x - G(z)), one a per sample.
    alpha = (interpolates - fake) / (real - fake)
    per_sample = alpha.reshape(n, -1)
    np.testing.assert_allclose(per_sample, per_sample[:, :1].repeat(6, axis=1), atol=1e-4)
    a = per_sample[:, 0]
    assert a.min() >= -1e-5 and a.max() <= 1 + 1e-5
    assert 0.4 < a.mean() < 0.6 and a.std() > 0.2  # uniform on [0, 1]: mean 1/2, std 0.29
    # Reproducible for a seed, different for another.
    critic.seen.clear()
    L.GradientPenalty()(critic, real, fake, tf.constant([3, 4], tf.int64))
    L.GradientPenalty()(critic, real, fake, tf.constant([3, 5], tf.int64))
    np.testing.assert_array_equal(critic.seen[0], interpolates)
    assert not np.allclose(critic.seen[1], interpolates)


def test_gradient_penalty_rejects_a_batch_norm_critic():
    gan = build(
        "wgan", (8, 8, 1), latent_dim=4, width=4, critic_norm="batch", seed=0, compile=False
    )
    with pytest.raises(ValueError, match="batch normalisation"):
        L.GradientPenalty().check_discriminator(gan.discriminator)


# ---------------------------------------------------------------- weight clipping


@pytest.mark.parametrize("clip", [0.01, 0.05])
def test_clipping_bounds_hold_after_a_critic_update(clip):
    gan = build("wgan", image_shape=(8, 8, 1), latent_dim=4, width=4, seed=0, compile=False)
    gan.constraint = L.WeightClip(clip)
    # A large learning rate so the unclipped update would leave the box.
    gan.compile(keras.optimizers.SGD(10.0), keras.optimizers.SGD(10.0), loss="wasserstein")
    real = tf.random.stateless_uniform((8, 8, 8, 1), seed=[0, 1], minval=-1, maxval=1)
    fake = gan.generator(tf.random.stateless_normal((8, 4), seed=[0, 2]), training=False)
    gan.discriminator_update(real, fake, tf.constant([0, 1], tf.int64))
    weights = np.concatenate([np.ravel(v) for v in gan.discriminator.trainable_variables])
    assert np.abs(weights).max() <= clip + 1e-7
    assert np.isclose(np.abs(weights), clip, rtol=1e-5).mean() > 0.1  # clipping did act
    with pytest.raises(ValueError, match="clip_value=-1"):
        L.WeightClip(-1)


# ---------------------------------------------------------------- distribution


_REPLICA_SCRIPT = textwrap.dedent(
    """
    import numpy as np, tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from keras_gan.losses import get, reduce_per_sample

    real = tf.constant(np.linspace(-2, 2, 8, dtype=np.float32)[:, None])
    fake = tf.constant(np.linspace(-1, 3, 8, dtype=np.float32)[:, None])
    pair = get("non_saturating")

    def loss_and_grad(r, f):
        w = tf.constant(1.5)
        with tf.GradientTape() as tape:
            tape.watch(w)
            loss = reduce_per_sample(pair.discriminator_loss(w * r, w * f))
        return loss, tape.gradient(loss, w)

    single_loss, single_grad = loss_and_grad(real, fake)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    dataset = tf.data.Dataset.from_tensor_slices((real, fake)).batch(8)
    (r, f), = list(strategy.experimental_distribute_dataset(dataset))
    loss, grad = strategy.run(loss_and_grad, args=(r, f))
    summed_loss = strategy.reduce("SUM", loss, axis=None)
    summed_grad = strategy.reduce("SUM", grad, axis=None)
    print(strategy.num_replicas_in_sync, float(single_loss), float(summed_loss),
          float(single_grad), float(summed_grad))
    """
)


def test_losses_scale_by_the_global_batch_under_two_replicas():
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run(
        [sys.executable, "-c", _REPLICA_SCRIPT],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    replicas, single_loss, summed_loss, single_grad, summed_grad = map(
        float, result.stdout.split()[-5:]
    )
    assert replicas == 2
    # Summed over replicas (what the optimizer does with gradients) = the single-device mean.
    assert summed_loss == pytest.approx(single_loss, rel=1e-5)
    assert summed_grad == pytest.approx(single_grad, rel=1e-5)
