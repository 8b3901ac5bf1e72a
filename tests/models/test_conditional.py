"""Class-conditional GANs: the ``cgan`` (projection) and ``acgan`` (auxiliary classifier)
presets, labels through ``train_step``, ``generate`` and the penalty, fused steps, EMA,
``.keras`` files and two replicas."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan.losses import GradientPenalty, R1Penalty, acgan_discriminator_loss
from keras_gan.models import GAN, build
from keras_gan.networks import (
    conditional_generator,
    mlp_discriminator,
    mlp_generator,
    projection_discriminator,
    resize_conv_generator,
    strided_discriminator,
)

ROOT = Path(__file__).resolve().parents[2]
CLASSES = 3
SHAPE = (8, 8, 1)


def _small(name: str, **kwargs) -> GAN:
    keras.utils.set_random_seed(0)
    options = {"image_shape": SHAPE, "latent_dim": 4, "width": 4, "seed": 3}
    return build(name, num_classes=CLASSES, **{**options, **kwargs})


def _data(rows: int = 32) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    images = rng.uniform(-1, 1, (rows, *SHAPE)).astype("float32")
    return images, (np.arange(rows) % CLASSES).astype("int32")


def _weights(gan: GAN) -> list[np.ndarray]:
    return [np.array(v) for v in gan.weights]


def _fit(gan: GAN, batch: int = 8, rows: int = 32) -> keras.callbacks.History:
    dataset = tf.data.Dataset.from_tensor_slices(_data(rows)).batch(batch, drop_remainder=True)
    return gan.fit(dataset, epochs=1, verbose=0)


def test_presets_are_listed_and_default_to_ten_classes():
    gan = build("cgan", image_shape=SHAPE, latent_dim=4, width=4, seed=0, compile=False)
    assert gan.num_classes == 10 and gan.class_names is None
    assert [t.name for t in gan.generator.inputs] == ["z", "labels"]
    assert gan.generator.inputs[1].dtype == "int32"
    assert [t.name for t in gan.discriminator.inputs] == ["images", "labels"]
    assert build("acgan", image_shape=SHAPE, compile=False).discriminator.output_shape == [
        (None, 1),
        (None, 10),
    ]


def test_labels_reach_the_generator_and_the_discriminator():
    gan = _small("cgan")
    same_z = [gan.generate(4, labels=c, seed=7) for c in range(2)]
    assert np.abs(same_z[0] - same_z[1]).max() > 1e-4
    images, _ = _data(4)
    scores = [np.asarray(gan.discriminator([images, np.full(4, c, "int32")])) for c in range(2)]
    assert np.abs(scores[0] - scores[1]).max() > 1e-5
    # The latents are the recipe's whatever the labels: the class is all that differs.
    z = gan.latent(4, seed=7)
    np.testing.assert_allclose(
        same_z[1], gan.generator([z, np.ones(4, "int32")], training=False), atol=1e-6
    )
    acgan = _small("acgan")
    assert np.abs(acgan.generate(2, labels=0, seed=1) - acgan.generate(2, labels=1, seed=1)).max()


def test_acgan_class_loss_in_the_discriminator_update_matches_hand_computation():
    gan = _small("acgan", d_lr=1e-9, g_lr=1e-9)
    real, real_labels = _data(4)
    fake = gan.generate(4, labels=[2, 1, 0, 2], seed=0)
    fake_labels = tf.constant([2, 1, 0, 2], tf.int32)
    _, real_classes = gan.discriminator(real, training=True)
    _, fake_classes = gan.discriminator(fake, training=True)

    def cross_entropy(logits, labels):
        logits = np.asarray(logits, np.float64)
        top = logits.max(axis=1)
        log_z = top + np.log(np.exp(logits - top[:, None]).sum(axis=1))
        return log_z - logits[np.arange(len(labels)), np.asarray(labels)]

    expected = np.mean(
        cross_entropy(real_classes, real_labels) + cross_entropy(fake_classes, fake_labels)
    )
    stats = gan.discriminator_update(
        tf.constant(real),
        tf.constant(fake),
        tf.constant([0, 1], tf.int64),
        real_labels=tf.constant(real_labels),
        fake_labels=fake_labels,
    )
    np.testing.assert_allclose(float(stats["d_class_loss"]), expected, rtol=1e-5)
    np.testing.assert_allclose(
        float(stats["d_class_loss"]),
        float(
            tf.reduce_mean(
                acgan_discriminator_loss(real_classes, real_labels, fake_classes, fake_labels)
            )
        ),
        rtol=1e-6,
    )


@pytest.mark.parametrize("name", ["cgan", "acgan"])
def test_a_few_steps_train_with_finite_losses_and_moving_weights(name):
    gan = _small(name, class_names=["a", "b", "c"])
    start = _weights(gan)
    history = _fit(gan)
    logs = {k: v[-1] for k, v in history.history.items()}
    assert all(np.isfinite(v) for v in logs.values()), logs
    assert int(gan.g_optimizer.iterations.numpy()) == 4
    if name == "acgan":
        assert {"d_class_loss", "g_class_loss"} <= set(logs)
    else:
        assert "d_class_loss" not in logs
    moved = [np.abs(a - b).max() for a, b in zip(start, _weights(gan), strict=True)]
    assert max(moved) > 1e-4
    embedding = gan.generator.get_layer("label_embedding").embeddings
    assert np.abs(np.array(embedding) - start[_index(gan, embedding)]).max() > 0
    assert gan.evaluate(tf.data.Dataset.from_tensor_slices(_data(8)).batch(8), verbose=0)


def _index(gan: GAN, variable: keras.Variable) -> int:
    return next(i for i, v in enumerate(gan.weights) if v is variable)


def test_wrong_labels_give_errors_that_name_the_value():
    gan = _small("cgan", compile=False)
    with pytest.raises(ValueError, match=r"class-conditional generator: pass a label.*\[0, 3\)"):
        gan.generate(2, seed=0)
    with pytest.raises(ValueError, match=r"Class index 3 is out of range.*\[0, 3\)"):
        gan.generate(2, labels=3, seed=0)
    with pytest.raises(ValueError, match=r"Class index -1 is out of range"):
        gan.generate(2, labels=[0, -1], seed=0)
    with pytest.raises(ValueError, match=r"2 integer class indices.*labels=\[0, 1, 2\]"):
        gan.generate(2, labels=[0, 1, 2], seed=0)
    with pytest.raises(ValueError, match=r"labels=\[0\.5, 1\.0\]"):
        gan.generate(2, labels=[0.5, 1.0], seed=0)
    with pytest.raises(ValueError, match=r"Unknown class 'dragon'"):
        gan.generate(2, labels="dragon", seed=0)
    plain = build("resize_conv", image_shape=SHAPE, latent_dim=4, width=4, compile=False)
    with pytest.raises(ValueError, match=r"unconditional.*labels=1"):
        plain.generate(2, labels=1, seed=0)
    with pytest.raises(ValueError, match=r"needs num_classes.*num_classes=None"):
        GAN(gan.generator, gan.discriminator)
    with pytest.raises(ValueError, match=r"class_names must hold num_classes=3.*2 names"):
        GAN(gan.generator, gan.discriminator, num_classes=3, class_names=["a", "b"])
    with pytest.raises(ValueError, match=r"no class output.*auxiliary_weight=2"):
        GAN(gan.generator, gan.discriminator, num_classes=3, auxiliary_weight=2)
    with pytest.raises(ValueError, match=r"preset is unconditional.*num_classes=3"):
        build("resize_conv", num_classes=3)
    trainable = _small("cgan")
    with pytest.raises(ValueError, match=r"\(images, labels\) batches"):
        trainable.fit(_data()[0], batch_size=8, epochs=1, verbose=0)


def _stack(images: np.ndarray, labels: np.ndarray, per_call: int, batch: int):
    """Consecutive step batches stacked on the second axis: (rows, steps, ...) and (rows, steps)."""
    steps = len(images) // batch
    x = images[: steps * batch].reshape(steps // per_call, per_call, batch, *SHAPE)
    y = labels[: steps * batch].reshape(steps // per_call, per_call, batch)
    return np.swapaxes(x, 1, 2), np.swapaxes(y, 1, 2)


@pytest.mark.parametrize("name", ["cgan", "acgan"])
def test_fused_steps_with_labels_equal_one_step_per_call(name):
    images, labels = _data(48)
    reference = _small(name, discriminator_steps=2, jit_compile=False)
    unfused = tf.data.Dataset.from_tensor_slices((images, labels)).batch(8)
    reference.fit(unfused, epochs=1, verbose=0, shuffle=False)
    fused = _small(name, discriminator_steps=2, jit_compile=False)
    fused.fit(
        tf.data.Dataset.from_tensor_slices(_stack(images, labels, per_call=3, batch=8)),
        epochs=1,
        verbose=0,
        shuffle=False,
    )
    assert int(fused.g_optimizer.iterations.numpy()) == 6
    for a, b in zip(_weights(reference), _weights(fused), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_fused_labels_must_match_the_images_steps():
    gan = _small("cgan")
    images, labels = _stack(*_data(48), per_call=3, batch=8)
    with pytest.raises(ValueError, match=r"labels must have the shape \(8, 3\).*\(8, 2\)"):
        gan.train_step((tf.constant(images[0]), tf.constant(labels[0][:, :2])))


def test_penalties_hold_the_labels_fixed():
    keras.utils.set_random_seed(0)
    critic = projection_discriminator(strided_discriminator(SHAPE, width=4, norm="layer"), 3)
    images, _ = _data(4)
    labels = tf.constant([0, 1, 2, 0], tf.int32)
    x = tf.constant(images)

    def norms(y):
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = critic([x, y])
        grads = tape.gradient(out, x)
        return tf.sqrt(tf.reduce_sum(tf.square(grads), axis=[1, 2, 3]) + 1e-12).numpy()

    seed = tf.constant([0, 1], tf.int64)
    # Real and fake equal: the interpolates are the real samples whatever the weights drawn.
    gp = GradientPenalty(10.0)(critic, x, x, seed, labels=labels).numpy()
    np.testing.assert_allclose(gp, 10.0 * (norms(labels) - 1.0) ** 2, rtol=1e-4)
    r1 = R1Penalty(1.0)(critic, x, x, seed, labels=labels).numpy()
    np.testing.assert_allclose(r1, 0.5 * norms(labels) ** 2, rtol=1e-4)
    other = R1Penalty(1.0)(critic, x, x, seed, labels=tf.constant([1, 2, 0, 1])).numpy()
    assert np.abs(other - r1).max() > 1e-6


def test_gradient_penalty_trains_a_conditional_critic():
    keras.utils.set_random_seed(0)
    gan = GAN(
        conditional_generator(resize_conv_generator(7, SHAPE, width=4, name="base"), 3, 4),
        projection_discriminator(strided_discriminator(SHAPE, width=4, norm="layer"), 3),
        num_classes=3,
        discriminator_steps=2,
        penalty="gp",
        seed=0,
    )
    gan.compile(keras.optimizers.Adam(1e-3, 0.5, 0.9), keras.optimizers.Adam(1e-3, 0.5, 0.9))
    logs = {k: v[-1] for k, v in _fit(gan, batch=16).history.items()}
    assert np.isfinite(logs["penalty"]) and logs["penalty"] > 0, logs


def test_keras_file_keeps_classes_and_generates_the_same(tmp_path):
    gan = _small("acgan", class_names=["tee", "bag", "boot"], ema_decay=0.9)
    _fit(gan, rows=16)
    path = tmp_path / "acgan.keras"
    gan.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.num_classes == 3 and loaded.class_names == ("tee", "bag", "boot")
    assert loaded.auxiliary_weight == 1.0
    np.testing.assert_allclose(
        loaded.generate(6, labels=[0, 1, 2, 0, 1, 2], seed=5),
        gan.generate(6, labels=[0, 1, 2, 0, 1, 2], seed=5),
        atol=1e-6,
    )
    _fit(loaded, rows=16)  # compiled from the file: training continues
    assert int(loaded.g_optimizer.iterations.numpy()) == 4


def test_ema_of_a_conditional_generator():
    gan = _small("cgan", ema_decay=0.5)
    assert [t.name for t in gan.ema_generator.inputs] == ["z", "labels"]
    before = [np.array(w) for w in gan.ema_generator.weights]
    _fit(gan, rows=16)
    after = [np.array(w) for w in gan.ema_generator.weights]
    assert max(np.abs(a - b).max() for a, b in zip(before, after, strict=True)) > 1e-5
    live = gan.generator([gan.latent(3, seed=1), np.zeros(3, "int32")], training=False)
    sampled = gan.generate(3, labels=0, seed=1)
    ema = gan.ema_generator([gan.latent(3, seed=1), np.zeros(3, "int32")], training=False)
    np.testing.assert_allclose(sampled, ema, atol=1e-6)
    assert np.abs(sampled - np.asarray(live)).max() > 1e-6


def test_an_unconditional_gan_ignores_labels_in_its_batches():
    keras.utils.set_random_seed(0)
    gan = GAN(mlp_generator(4, SHAPE, hidden=(8,)), mlp_discriminator(SHAPE, hidden=(8,)), seed=0)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    assert gan.num_classes is None and gan.get_config()["num_classes"] is None
    history = _fit(gan, rows=16)
    assert "d_class_loss" not in history.history


REPLICAS = textwrap.dedent(
    """
    import json
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    import numpy as np
    from keras_gan import distribute
    from keras_gan.models import build

    def make(name):
        keras.utils.set_random_seed(0)
        # clustered: the labels are cluster ids, and the fakes' come from their z
        classes = {"num_classes": 3}
        if name == "clustered":
            classes = {"cluster_prior": [0.5, 0.25, 0.25]}
        return build(
            name, image_shape=(8, 8, 1), latent_dim=4, width=4, seed=3,
            d_lr=1e-3, g_lr=1e-3, discriminator_steps=2, **classes,
        )

    def train(name, strategy):
        gan = distribute.build_in_scope(strategy, make, name)
        distribute.synchronize_batch_norm(gan)
        start = [w.numpy() for w in gan.weights]
        rng = np.random.default_rng(1)
        x = rng.uniform(-1, 1, (48, 8, 8, 1)).astype("float32")
        y = (np.arange(48) % 3).astype("int32")
        ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(16, drop_remainder=True)
        history = gan.fit(ds, epochs=1, verbose=0, shuffle=False)
        logs = {k: float(v[-1]) for k, v in history.history.items()}
        return start, [w.numpy() for w in gan.weights], logs

    report = {}
    for name in ("cgan", "acgan", "clustered"):
        s1, w1, l1 = train(name, distribute.get_strategy("default"))
        two = distribute.get_strategy("mirrored", ["/cpu:0", "/cpu:1"])
        s2, w2, l2 = train(name, two)
        report[name] = {
            "replicas": two.num_replicas_in_sync,
            "start_diff": max(float(np.abs(a - b).max()) for a, b in zip(s1, s2)),
            "moved": max(float(np.abs(a - b).max()) for a, b in zip(s1, w1)),
            "weight_diff": max(float(np.abs(a - b).max()) for a, b in zip(w1, w2)),
            "log_diff": max(abs(l1[k] - l2[k]) for k in l1),
            "logs": sorted(l1),
        }
    print("REPORT " + json.dumps(report))
    """
)


def test_two_replicas_with_labels_or_cluster_ids_equal_one_device():
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", REPLICAS],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("REPORT ")]
    assert result.returncode == 0 and lines, result.stderr[-3000:]
    report = json.loads(lines[-1][len("REPORT ") :])
    for name, r in report.items():
        assert r["replicas"] == 2, name
        assert r["start_diff"] == 0.0, name
        assert r["moved"] > 1e-3, (name, r)
        assert r["weight_diff"] < 1e-5, (name, r)
        assert r["log_diff"] < 1e-5, (name, r)
    assert "g_class_loss" in report["acgan"]["logs"]
