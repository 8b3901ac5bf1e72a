"""Mixed precision: every dtype policy trains with finite losses, float16 scales both losses,
the gradient penalty stays float32, and exports take and return float32 (tiny shapes, CPU)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan.models import build
from keras_gan.models.presets import precision_policy

POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")


@pytest.fixture
def policy(request):
    """Set the global dtype policy for one test and restore float32 afterwards."""
    keras.config.set_dtype_policy(request.param)
    yield request.param
    keras.config.set_dtype_policy("float32")


def _data(n: int = 32, batch: int = 8) -> tf.data.Dataset:
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (n, 8, 8, 1)).astype("float32")
    return tf.data.Dataset.from_tensor_slices(images).batch(batch, drop_remainder=True)


def _tiny(name: str) -> keras.Model:
    return build(name, image_shape=(8, 8, 1), latent_dim=4, width=4, seed=0)


@pytest.mark.parametrize(
    ("name", "policy"),
    [("resize_conv", p) for p in POLICIES] + [("wgan_gp", "mixed_float16")],
    indirect=["policy"],
)
def test_each_policy_trains_with_finite_losses_and_moving_weights(policy, name):
    gan = _tiny(name)
    compute = "float32" if policy == "float32" else policy.split("_")[1]
    hidden = gan.generator.get_layer("conv0")  # both presets build the resize_conv generator
    assert hidden.compute_dtype == compute
    before_g = [w.numpy().copy() for w in gan.generator.trainable_weights]
    before_d = [w.numpy().copy() for w in gan.discriminator.trainable_weights]
    history = gan.fit(_data(40, 10 if name == "wgan_gp" else 8), epochs=2, verbose=0)
    for key, values in history.history.items():
        assert np.all(np.isfinite(values)), (key, values)
    after_g = gan.generator.trainable_weights
    assert any(not np.allclose(a, b.numpy()) for a, b in zip(before_g, after_g, strict=True))
    assert any(
        not np.allclose(a, b.numpy())
        for a, b in zip(before_d, gan.discriminator.trainable_weights, strict=True)
    )
    # Variables stay float32; samples and discriminator outputs come back in float32.
    assert {w.dtype for w in gan.generator.weights} == {"float32"}
    assert gan.generate(3, seed=0).dtype == np.float32
    assert gan.discriminator(np.zeros((2, 8, 8, 1), "float32")).dtype == "float32"
    wrapped = isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer) and isinstance(
        gan.d_optimizer, keras.optimizers.LossScaleOptimizer
    )
    assert wrapped == (policy == "mixed_float16")
    if wrapped:
        # Overflowing steps halve the scale (from 2**15); a penalty computed in float16 drives
        # it below 1, where the scaled gradients underflow and training stops.
        assert float(gan.d_optimizer.dynamic_scale.numpy()) >= 1.0


@pytest.mark.parametrize("policy", ["mixed_float16"], indirect=True)
def test_float16_scaling_survives_save_and_reload(policy, tmp_path):
    gan = _tiny("resize_conv")
    gan.fit(_data(), epochs=1, verbose=0)
    gan.save(tmp_path / "gan.keras")
    reloaded = keras.models.load_model(tmp_path / "gan.keras")
    assert isinstance(reloaded.g_optimizer, keras.optimizers.LossScaleOptimizer)
    assert isinstance(reloaded.d_optimizer, keras.optimizers.LossScaleOptimizer)
    reloaded.fit(_data(), epochs=1, verbose=0)


@pytest.mark.parametrize("policy", ["mixed_float16"], indirect=True)
def test_auto_scale_loss_false_leaves_the_optimizers_alone(policy):
    gan = build("resize_conv", image_shape=(8, 8, 1), latent_dim=4, width=4, compile=False)
    gan.compile(keras.optimizers.Adam(), keras.optimizers.Adam(), auto_scale_loss=False)
    assert not isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer)


def test_precision_policy_names_the_bad_value():
    assert precision_policy("mixed_bfloat16") == "mixed_bfloat16"
    with pytest.raises(ValueError, match="bfloat8"):
        precision_policy("bfloat8")


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"], indirect=True)
def test_export_takes_and_returns_float32_and_agrees_with_keras(policy, tmp_path):
    """Exported under a mixed policy, the graphs are float32 at both ends and agree with the
    Keras model within 2e-2 (bfloat16 keeps 8 bits of mantissa, float16 11; images are in
    [-1, 1])."""
    import onnxruntime as ort
    from keras_gan.export import export

    gan = _tiny("resize_conv")
    gan.fit(_data(), epochs=1, verbose=0)
    z = np.random.default_rng(1).standard_normal((5, 4)).astype("float32")
    expected = np.asarray(gan.sampling_generator(z, training=False))
    version = export(gan, tmp_path / "export")
    session = ort.InferenceSession(str(version / "model.onnx"), providers=["CPUExecutionProvider"])
    (inp,) = session.get_inputs()
    assert inp.type == "tensor(float)" and session.get_outputs()[0].type == "tensor(float)"
    onnx_images = session.run(None, {inp.name: z})[0]
    assert onnx_images.dtype == np.float32
    np.testing.assert_allclose(onnx_images, expected, atol=2e-2)
    loaded = tf.saved_model.load(str(version))
    out = loaded.signatures["serving_default"](tf.constant(z))
    (images,) = out.values()
    assert images.dtype == tf.float32
    np.testing.assert_allclose(images.numpy(), expected, atol=2e-2)
