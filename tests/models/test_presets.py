"""Every variant preset (gan, dcgan, wgan, wgan_gp): the recipe it promises, the freeze property
of both updates (weights AND batch-norm statistics), critic steps per generator step, w_distance,
TTUR and the EMA generator, on images and on 2-D points, all through the one ``GAN.train_step``."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_gan.losses as L
from keras_gan.data import mixture_of_gaussians
from keras_gan.models import GAN, PRESETS, build

VARIANTS = ("gan", "dcgan", "resize_conv", "wgan", "wgan_gp")
SHAPE = (8, 8, 1)


def _build(name: str, shape: tuple[int, ...] = SHAPE, **kwargs) -> GAN:
    keras.utils.set_random_seed(0)
    kwargs.setdefault("latent_dim", 4)
    return build(name, image_shape=shape, width=4, hidden=(8, 8), seed=0, **kwargs)


def _images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, (n, *SHAPE)).astype("float32")


def _snapshot(*models: keras.Model | None) -> dict[str, np.ndarray]:
    """Every variable (trainable or not) of the models, keyed by a unique name."""
    out = {}
    for model in models:
        if model is None:
            continue
        for i, variable in enumerate(model.weights):
            out[f"{model.name}/{i}/{variable.path}"] = np.array(variable)
    return out


def _changed(before: dict[str, np.ndarray], after: dict[str, np.ndarray]) -> list[str]:
    assert before.keys() == after.keys()
    return [key for key in before if not np.array_equal(before[key], after[key])]


def _norm_for(name: str) -> str:
    # Batch norm wherever the variant allows it, so its moving statistics are under test too;
    # WGAN-GP's critic must not have it and keeps its preset's layer norm.
    return "layer" if name == "wgan_gp" else "batch"


@pytest.mark.parametrize("name", VARIANTS)
def test_generator_update_changes_no_discriminator_variable(name):
    gan = _build(name, critic_norm=_norm_for(name), ema_decay=0.9)
    d_vars = gan.discriminator.weights
    if name != "wgan_gp":
        assert any("moving_mean" in v.path for v in d_vars)  # otherwise the test is weaker
    with tf.GradientTape() as tape:
        fake = gan.generator(tf.random.stateless_normal((8, 4), seed=[1, 2]), training=True)
    d_before = _snapshot(gan.discriminator)
    g_before = _snapshot(gan.generator, gan.ema_generator)
    gan.generator_update(tape, fake)
    assert _changed(d_before, _snapshot(gan.discriminator)) == []
    assert gan.discriminator.trainable  # restored after the update
    moved = _changed(g_before, _snapshot(gan.generator, gan.ema_generator))
    trainable = {v.path for v in gan.generator.trainable_variables}
    assert {key.split("/", 2)[2] for key in moved if key.startswith("generator/")} >= trainable
    assert any(key.startswith(gan.ema_generator.name) for key in moved)  # the EMA followed


@pytest.mark.parametrize("name", VARIANTS)
def test_discriminator_update_changes_no_generator_variable(name):
    gan = _build(name, critic_norm=_norm_for(name), ema_decay=0.9)
    real = tf.constant(_images(8))
    fake = gan.generator(tf.random.stateless_normal((8, 4), seed=[1, 2]), training=True)
    g_before = _snapshot(gan.generator, gan.ema_generator)
    d_before = _snapshot(gan.discriminator)
    stats = gan.discriminator_update(real, fake, tf.constant([0, 1], tf.int64))
    assert _changed(g_before, _snapshot(gan.generator, gan.ema_generator)) == []
    moved = _changed(d_before, _snapshot(gan.discriminator))
    for variable in gan.discriminator.trainable_variables:
        if gan.loss_pair.reports_distance and variable.path == "logit/bias":
            continue  # f(fake) - f(real): the output bias cancels, its gradient is exactly 0
        assert any(key.endswith(variable.path) for key in moved), variable.path
    if name != "wgan_gp":
        assert any("moving_mean" in key for key in moved)  # real/fake batches updated BN stats
    assert set(stats) >= {"d_loss", "d_real", "d_fake", "w_distance"}
    assert ("penalty" in stats) == (name == "wgan_gp")


@pytest.mark.parametrize("name", VARIANTS)
def test_critic_steps_per_generator_step_and_logged_metrics(name):
    gan = _build(name)
    k = PRESETS[name].discriminator_steps
    steps = 3
    history = gan.fit(_images(4 * k * steps), batch_size=4 * k, epochs=1, verbose=0)
    assert int(gan.g_optimizer.iterations) == steps
    assert int(gan.d_optimizer.iterations) == k * steps
    logs = set(history.history)
    assert {"d_loss", "g_loss", "d_real", "d_fake"} <= logs
    assert ("w_distance" in logs) == name.startswith("wgan")
    assert ("penalty" in logs) == (name == "wgan_gp")
    assert all(np.isfinite(v).all() for v in history.history.values())
    # Every variant is the same trainer: no preset overrides the step or its hooks.
    assert type(gan).train_step is GAN.train_step
    assert type(gan).discriminator_update is GAN.discriminator_update
    assert type(gan).generator_update is GAN.generator_update


def test_discriminator_steps_override():
    gan = _build("gan", discriminator_steps=3)
    gan.fit(_images(24), batch_size=12, epochs=1, verbose=0)
    assert (int(gan.d_optimizer.iterations), int(gan.g_optimizer.iterations)) == (6, 2)


def _layer_types(model: keras.Model) -> set[str]:
    return {type(layer).__name__ for layer in model._flatten_layers()}


def test_presets_follow_their_papers():
    gan = _build("gan", compile=True)
    assert "Conv2D" not in _layer_types(gan.discriminator)  # the MLP pair of Goodfellow 2014
    assert "Conv2DTranspose" not in _layer_types(gan.generator)
    assert isinstance(gan.loss_pair, L.NonSaturatingLoss)

    dcgan = _build("dcgan")
    assert "Conv2D" in _layer_types(dcgan.discriminator)
    assert "Conv2DTranspose" in _layer_types(dcgan.generator)
    assert float(dcgan.d_optimizer.learning_rate) == pytest.approx(2e-4)
    assert float(dcgan.d_optimizer.beta_1) == pytest.approx(0.5)

    fast = build("resize_conv", image_shape=(28, 28, 1), seed=0)
    # Artefact-free upsampling: resize then convolve (no transposed convolution), and every
    # strided discriminator kernel a multiple of its stride.
    assert "Conv2DTranspose" not in _layer_types(fast.generator)
    assert "UpSampling2D" in _layer_types(fast.generator)
    for layer in fast.discriminator.layers:
        if isinstance(layer, keras.layers.Conv2D):
            assert layer.kernel_size[0] % layer.strides[0] == 0
    assert fast.latent_dim == 64 and fast.generator.get_layer("conv1").filters == 16
    assert fast.discriminator.get_layer("conv0").filters == 32
    assert isinstance(fast.loss_pair, L.NonSaturatingLoss) and fast.ema_generator is None
    tutorial = build("dcgan", image_shape=(28, 28, 1), compile=False)
    assert fast.generator.count_params() < tutorial.generator.count_params() / 4

    wgan = _build("wgan")
    assert isinstance(wgan.loss_pair, L.WassersteinLoss)
    assert isinstance(wgan.d_optimizer, keras.optimizers.RMSprop)
    # Images: ten times the paper's rate (docs/metrics.md); 2-D points: the paper's 5e-5; an
    # explicit rate wins over both.
    assert float(wgan.d_optimizer.learning_rate) == pytest.approx(5e-4)
    assert float(wgan.g_optimizer.learning_rate) == pytest.approx(5e-4)
    points = _build("wgan", shape=(2,))
    assert float(points.d_optimizer.learning_rate) == pytest.approx(5e-5)
    assert float(points.g_optimizer.learning_rate) == pytest.approx(5e-5)
    chosen = _build("wgan", d_lr=1e-4)
    assert float(chosen.d_optimizer.learning_rate) == pytest.approx(1e-4)
    assert float(chosen.g_optimizer.learning_rate) == pytest.approx(5e-4)
    assert wgan.discriminator_steps == 5 and wgan.penalty is None
    assert wgan.constraint.clip_value == pytest.approx(0.01)
    last = wgan.discriminator.layers[-1]
    assert "Conv2D" in _layer_types(wgan.discriminator)  # convolutional critic
    # The resize_conv generator: upsampling then convolving, no transposed convolution.
    assert "Conv2DTranspose" not in _layer_types(wgan.generator)
    assert PRESETS["wgan"].latent_dim == PRESETS["wgan_gp"].latent_dim == 64
    assert last.get_config()["activation"] == "linear"  # a score, no sigmoid

    gp = _build("wgan_gp")
    assert isinstance(gp.loss_pair, L.WassersteinLoss)
    assert isinstance(gp.d_optimizer, keras.optimizers.Adam)
    for optimizer in (gp.d_optimizer, gp.g_optimizer):
        assert float(optimizer.learning_rate) == pytest.approx(1e-4)
        assert float(optimizer.beta_1) in (0.0, 0.5) and float(optimizer.beta_2) == 0.9
    assert gp.discriminator_steps == 5 and gp.constraint is None
    assert isinstance(gp.penalty, L.GradientPenalty) and gp.penalty.weight == 10.0
    assert "BatchNormalization" not in _layer_types(gp.discriminator)
    with pytest.raises(ValueError, match="batch normalisation"):
        _build("wgan_gp", critic_norm="batch")


def test_networks_override_builds_the_other_pair_with_its_width():
    dcgan_gp = build("wgan_gp", image_shape=SHAPE, networks="dcgan", compile=False)
    assert "Conv2DTranspose" in _layer_types(dcgan_gp.generator)
    assert "Conv2DTranspose" not in _layer_types(build("wgan_gp", SHAPE, compile=False).generator)
    assert isinstance(dcgan_gp.penalty, L.GradientPenalty)  # the recipe is unchanged
    # The DCGAN pair's default width (64), not the resize_conv presets' 16.
    assert (
        max(layer.filters for layer in dcgan_gp.generator.layers if hasattr(layer, "filters")) >= 64
    )
    with pytest.raises(ValueError, match=r"networks must be one of .*'vgg'"):
        build("wgan", image_shape=SHAPE, networks="vgg", compile=False)


def test_two_time_scale_learning_rates_and_loss_override():
    gan = _build("gan", d_lr=4e-4, g_lr=1e-4, loss="hinge")
    assert float(gan.d_optimizer.learning_rate) == pytest.approx(4e-4)
    assert float(gan.g_optimizer.learning_rate) == pytest.approx(1e-4)
    assert gan.d_optimizer is not gan.g_optimizer
    assert isinstance(gan.loss_pair, L.HingeLoss)


@pytest.mark.parametrize("name", VARIANTS)
def test_every_variant_trains_on_2d_points_with_an_ema_generator(name):
    gan = _build(name, shape=(2,), latent_dim=None, ema_decay=0.9, run_eagerly=True)
    assert gan.latent_dim == 2
    assert gan.generator.layers[-1].get_config()["activation"] == "linear"  # unbounded points
    assert "Conv2D" not in _layer_types(gan.discriminator)
    k = gan.discriminator_steps
    points = mixture_of_gaussians("grid", n=16 * k, seed=0)
    ema_before = _snapshot(gan.ema_generator)
    gan.fit(points, batch_size=16 * k, epochs=1, verbose=0)
    assert int(gan.d_optimizer.iterations) == k and int(gan.g_optimizer.iterations) == 1
    assert _changed(ema_before, _snapshot(gan.ema_generator))
    samples = gan.generate(5, seed=0)
    assert samples.shape == (5, 2) and np.isfinite(samples).all()
    np.testing.assert_allclose(
        samples, gan.ema_generator(gan.latent(5, seed=0), training=False), rtol=1e-6
    )


@pytest.mark.parametrize(
    "name", ["clustered", "resize_conv", "dcgan", "cgan", "acgan", "wgan", "wgan_gp"]
)
def test_every_image_preset_builds_at_every_size(name):
    """28 to 128 pixels, 1 or 3 channels: the generator makes that shape, the critic scores it."""
    import numpy as np

    for side in (28, 32, 64, 128):
        for channels in (1, 3):
            extra = {"cluster_prior": [0.5, 0.5]} if name == "clustered" else {}
            gan = build(name, image_shape=(side, side, channels), seed=0, compile=False, **extra)
            assert gan.generator.output_shape[1:] == (side, side, channels), (side, channels)
            images = gan.generate(2, labels=[0, 1] if gan.num_classes else None, seed=0)
            assert images.shape == (2, side, side, channels) and np.all(np.abs(images) <= 1)
