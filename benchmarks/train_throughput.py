"""DCGAN training throughput: ``GAN.fit`` against hand-written ``tf.function`` loops, side by side.

Three loops train the same two networks (the DCGAN preset's) on the same batches with the same
optimizers (Adam 2e-4, beta_1 0.5) and the same non-saturating loss:

- ``ours``: ``keras_gan.GAN.fit`` (alternating updates: discriminator, then generator scored by
  the updated discriminator with the discriminator frozen);
- ``plain_alternating``: a hand-written ``tf.function`` step doing exactly that maths;
- ``plain_tutorial``: the TensorFlow DCGAN tutorial's step (two tapes around ONE forward pass,
  simultaneous updates), which skips the second discriminator pass.

Rounds alternate between the loops after a warm-up, and the median images/s of each is printed
with the ratios ours/plain, plus the achieved FLOP/s (analytic count of each step's convolutions
and dense layers) as a fraction of a float32 matmul's FLOP/s measured in the same run.

Example:
    $ python benchmarks/train_throughput.py --batch-size 256 --steps 20 --rounds 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf

from keras_gan.models import build


def forward_macs(model: keras.Model) -> int:
    """Multiply-accumulates of one sample's forward pass through Dense/Conv2D/Conv2DTranspose."""
    total = 0
    for layer in model._flatten_layers(include_self=False):
        inner = getattr(layer, "layer", layer)  # SpectralNormalization wraps a layer
        if isinstance(inner, keras.layers.Dense):
            total += int(inner.kernel.shape[0]) * int(inner.kernel.shape[1])
        elif isinstance(inner, keras.layers.Conv2DTranspose):
            h, w, cin = (int(d) for d in inner.input.shape[1:])
            kh, kw, cout, _ = (int(d) for d in inner.kernel.shape)
            total += h * w * kh * kw * cin * cout
        elif isinstance(inner, keras.layers.Conv2D):
            h, w, cout = (int(d) for d in inner.output.shape[1:])
            kh, kw, cin, _ = (int(d) for d in inner.kernel.shape)
            total += h * w * kh * kw * cin * cout
    return total


def matmul_flops(n: int = 2048, repeats: int = 10) -> float:
    """FLOP/s of a float32 n x n matmul on this machine."""
    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    f = tf.function(lambda: tf.reduce_sum(tf.matmul(a, b)))
    f().numpy()
    started = time.perf_counter()
    for _ in range(repeats):
        f().numpy()
    return 2.0 * n**3 * repeats / (time.perf_counter() - started)


def make_plain_steps(generator, discriminator, latent_dim, batch):
    """The two hand-written loops (fresh optimizers per loop)."""
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    def d_loss_fn(real_out, fake_out):
        return bce(tf.ones_like(real_out), real_out) + bce(tf.zeros_like(fake_out), fake_out)

    def g_loss_fn(fake_out):
        return bce(tf.ones_like(fake_out), fake_out)

    g_opt, d_opt = keras.optimizers.Adam(2e-4, beta_1=0.5), keras.optimizers.Adam(2e-4, beta_1=0.5)
    g_opt.build(generator.trainable_variables)
    d_opt.build(discriminator.trainable_variables)

    @tf.function
    def tutorial(images):
        noise = tf.random.normal([batch, latent_dim])
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = generator(noise, training=True)
            real_out = discriminator(images, training=True)
            fake_out = discriminator(fake, training=True)
            g_loss = g_loss_fn(fake_out)
            d_loss = d_loss_fn(real_out, fake_out)
        g_grads = g_tape.gradient(g_loss, generator.trainable_variables)
        d_grads = d_tape.gradient(d_loss, discriminator.trainable_variables)
        g_opt.apply(g_grads, generator.trainable_variables)
        d_opt.apply(d_grads, discriminator.trainable_variables)
        return g_loss, d_loss

    g_opt2, d_opt2 = (
        keras.optimizers.Adam(2e-4, beta_1=0.5),
        keras.optimizers.Adam(2e-4, beta_1=0.5),
    )
    g_opt2.build(generator.trainable_variables)
    d_opt2.build(discriminator.trainable_variables)

    @tf.function
    def alternating(images):
        noise = tf.random.normal([batch, latent_dim])
        with tf.GradientTape() as g_tape:
            fake = generator(noise, training=True)
        with tf.GradientTape() as d_tape:
            real_out = discriminator(images, training=True)
            fake_out = discriminator(tf.stop_gradient(fake), training=True)
            d_loss = d_loss_fn(real_out, fake_out)
        d_grads = d_tape.gradient(d_loss, discriminator.trainable_variables)
        d_opt2.apply(d_grads, discriminator.trainable_variables)
        with g_tape:
            g_loss = g_loss_fn(discriminator(fake, training=False))
        g_grads = g_tape.gradient(g_loss, generator.trainable_variables)
        g_opt2.apply(g_grads, generator.trainable_variables)
        return g_loss, d_loss

    return {"plain_tutorial": tutorial, "plain_alternating": alternating}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=20, help="training steps per timed round")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per loop")
    args = parser.parse_args()
    batch = args.batch_size

    rng = np.random.default_rng(0)
    try:
        from keras_gan.data import load_arrays

        images = load_arrays("fashion_mnist")[0][: batch * args.steps]
        data = images.astype(np.float32) / 127.5 - 1.0
        source = "Fashion-MNIST"
    except Exception:  # no data installed: the timing does not depend on pixel values
        data = rng.uniform(-1, 1, (batch * args.steps, 28, 28, 1)).astype(np.float32)
        source = "uniform noise"
    # No .cache(): the arrays are already in memory, and on TensorFlow 2.21 deleting an iterator
    # whose in-memory cache has completed (each fit() call deletes its own) stalled for up to
    # tens of seconds here, charged to the fit() round.
    dataset = tf.data.Dataset.from_tensor_slices(data).batch(batch, drop_remainder=True)
    dataset = dataset.repeat().prefetch(tf.data.AUTOTUNE)

    ours = build("dcgan", image_shape=(28, 28, 1), seed=0)
    # Separate copies of the same networks for the plain loops, so optimizer states stay apart.
    plain = build("dcgan", image_shape=(28, 28, 1), seed=0, compile=False)
    steps = make_plain_steps(plain.generator, plain.discriminator, plain.latent_dim, batch)
    iterator = iter(dataset)

    def run_ours() -> float:
        started = time.perf_counter()
        ours.fit(dataset, steps_per_epoch=args.steps, epochs=1, verbose=0, shuffle=False)
        return time.perf_counter() - started

    def run_plain(step) -> float:
        started = time.perf_counter()
        for _ in range(args.steps):
            out = step(next(iterator))
        float(out[0])
        return time.perf_counter() - started

    loops = {"ours": run_ours, **{k: (lambda s=s: run_plain(s)) for k, s in steps.items()}}
    for run in loops.values():  # warm-up: tracing and first-touch allocations
        run()
    seconds: dict[str, list[float]] = {name: [] for name in loops}
    for _ in range(args.rounds):
        for name, run in loops.items():
            seconds[name].append(run())
    peak = matmul_flops()

    g, d = forward_macs(ours.generator), forward_macs(ours.discriminator)
    # Training FLOPs per image, forward = 1x, backward = 2x the forward's multiply-adds:
    # ours / alternating: G fwd+bwd, D fwd+bwd on real and fake, D fwd+input-bwd for the G step.
    # tutorial: the same without the second D pass (its G step reuses the D forward on fakes).
    flops = {
        "ours": 2 * (3 * g + 8 * d),
        "plain_alternating": 2 * (3 * g + 8 * d),
        "plain_tutorial": 2 * (3 * g + 5 * d),
    }
    print(
        f"DCGAN on {source}, batch {batch}, {args.steps} steps x {args.rounds} rounds, "
        f"{os.cpu_count()} CPU cores, TensorFlow {tf.__version__}, Keras {keras.__version__}"
    )
    print(f"float32 matmul (2048^2): {peak / 1e9:.1f} GFLOP/s")
    rates = {}
    for name, times in seconds.items():
        rate = batch * args.steps / statistics.median(times)
        rates[name] = rate
        achieved = rate * flops[name]
        print(
            f"{name:18s} {rate:8.1f} images/s  {achieved / 1e9:6.1f} GFLOP/s "
            f"({achieved / peak:.2f} of matmul)"
        )
    same = rates["ours"] / rates["plain_alternating"]
    print(f"ratio ours/plain_alternating (same maths): {same:.3f}")
    print(
        f"ratio ours/plain_tutorial (tutorial loop): {rates['ours'] / rates['plain_tutorial']:.3f}"
    )


if __name__ == "__main__":
    main()
