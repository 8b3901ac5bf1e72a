"""Two replicas compute what one device computes: K steps of MirroredStrategy over two logical
CPUs against the default strategy, same global batch, same seeds (non-saturating DCGAN-like with
batch norm in the generator, WGAN-GP with two critic steps per generator step, and a clipped
WGAN whose critic normalises by batch statistics).

The logical devices must be configured before TensorFlow initialises, so the comparison runs in a
fresh subprocess; it prints the differences as JSON and the test checks them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import json, os
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    import numpy as np
    from keras_gan import distribute
    from keras_gan.data.resumable import resumable_dataset
    from keras_gan.models import GAN, build
    from keras_gan.networks import dcgan_discriminator, dcgan_generator

    STEPS = 3

    def make(kind):
        keras.utils.set_random_seed(0)
        if kind == "non_saturating":
            gan = GAN(
                dcgan_generator(4, (8, 8, 1), width=4),  # batch norm: synchronized below
                dcgan_discriminator((8, 8, 1), width=4, norm=None),
                seed=3,
            )
            gan.compile(
                keras.optimizers.Adam(1e-3, beta_1=0.5),
                keras.optimizers.Adam(1e-3, beta_1=0.5),
                loss="non_saturating",
            )
            return gan
        if kind == "wgan_batch_stats":
            return build(
                "wgan", image_shape=(8, 8, 1), latent_dim=4, width=4, seed=3,
                d_lr=1e-3, g_lr=1e-3, discriminator_steps=2, critic_norm="batch_stats",
            )
        return build(
            "wgan_gp", image_shape=(8, 8, 1), latent_dim=4, width=4, seed=3,
            d_lr=1e-3, g_lr=1e-3, discriminator_steps=2,
        )

    def train(kind, strategy):
        gan = distribute.build_in_scope(strategy, make, kind)
        distribute.synchronize_batch_norm(gan)
        start = [w.numpy() for w in gan.weights]
        x = np.random.default_rng(1).uniform(-1, 1, (64, 8, 8, 1)).astype("float32")
        batch = 8 * gan.discriminator_steps
        ds = resumable_dataset(x, batch, seed=0, total_steps=STEPS)
        history = gan.fit(ds, epochs=1, steps_per_epoch=STEPS, verbose=0)
        logs = {k: float(v[-1]) for k, v in history.history.items()}
        steps = int(gan.g_optimizer.iterations.numpy())
        return start, [w.numpy() for w in gan.weights], logs, steps

    report = {}
    for kind in ("non_saturating", "wgan_gp", "wgan_batch_stats"):
        s1, w1, l1, n1 = train(kind, distribute.get_strategy("default"))
        two = distribute.get_strategy("mirrored", ["/cpu:0", "/cpu:1"])
        s2, w2, l2, n2 = train(kind, two)
        report[kind] = {
            "replicas": two.num_replicas_in_sync,
            "steps": [n1, n2],
            "start_diff": max(float(np.abs(a - b).max()) for a, b in zip(s1, s2)),
            "moved": max(float(np.abs(a - b).max()) for a, b in zip(s1, w1)),
            "weight_diff": max(float(np.abs(a - b).max()) for a, b in zip(w1, w2)),
            "log_keys": sorted(l1) == sorted(l2),
            "log_diff": max(abs(l1[k] - l2[k]) for k in l1),
            "logs": l1,
        }
    print("REPORT " + json.dumps(report))
    """
)


def test_two_replicas_equal_one_device():
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("REPORT ")]
    assert result.returncode == 0 and lines, result.stderr[-3000:]
    report = json.loads(lines[-1][len("REPORT ") :])
    for kind, r in report.items():
        assert r["replicas"] == 2, kind
        assert r["steps"] == [3, 3], kind
        assert r["start_diff"] == 0.0, kind  # same initial weights
        assert r["moved"] > 1e-3, kind  # training changed the weights well beyond the tolerance
        assert r["weight_diff"] < 1e-5, (kind, r)
        # Logged metrics are the global values, not per-replica fractions.
        assert r["log_keys"] and r["log_diff"] < 1e-5, (kind, r)
    assert {"penalty", "w_distance"} <= set(report["wgan_gp"]["logs"])
    assert set(report) == {"non_saturating", "wgan_gp", "wgan_batch_stats"}
