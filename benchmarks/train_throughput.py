"""Training throughput: ``GAN.fit`` against hand-written ``tf.function`` loops, and each dtype
policy against float32, side by side in one run.

For each preset (``clustered``, the default image preset, and ``dcgan`` by default) three loops
train the same two networks on the same batches with the preset's optimizers and loss (for
``clustered`` the batches are ``(images, cluster_ids)`` from k-means on the timed images, and
every loop judges each image against its cluster: real ones against their k-means cluster,
fakes against the cluster their latent drew):

- ``ours``: ``keras_gan.GAN.fit`` (alternating updates: discriminator, then generator scored by
  the updated discriminator with the discriminator frozen, then the generator EMA if the preset
  keeps one);
- ``plain_alternating``: a hand-written ``tf.function`` step doing EXACTLY that maths: the same
  stateless latent draws, the discriminator called with ``training=True`` in both updates (its
  dropout is active in the generator update too, as in ``fit``; freezing it only keeps its
  variables out of the generator's gradient), the same per-sample losses and reductions, the
  same EMA, and it returns the values ``fit`` logs each step (``d_loss``, ``g_loss`` and the
  discriminator's mean scores on real and fake images);
- ``plain_tutorial``: the TensorFlow DCGAN tutorial's step (two tapes around ONE forward pass,
  simultaneous updates), which skips the second discriminator pass: less work, other maths.

Then ``fit`` of the default preset under each Keras dtype policy (``float32``,
``mixed_bfloat16``, ``mixed_float16``), with the speed ratio against float32.

Every loop is timed at its steady rate: a hand-written round runs ``--steps`` steps on an
iterator that is already running, and a ``fit`` round is one ``fit`` call whose ``--steps``
middle steps are timed by a callback (one graph call before them starts the call's data
iterator, one after them ends the span). What each ``fit`` call costs beyond its steps (its
setup and the start of its iterator, paid once per call, so once per training run) is printed
beside it as ``fit() setup``.

Rounds alternate between the loops after a warm-up, and the median images/s of each is printed
with the ratios, plus the achieved FLOP/s (analytic count of each step's convolutions and dense
layers) as a fraction of a float32 matmul's FLOP/s measured in the same run.

Example:
    $ python benchmarks/train_throughput.py --batch-size 256 --steps 20 --rounds 5
    $ python benchmarks/train_throughput.py --models resize_conv --precisions float32
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

from keras_gan.losses import reduce_per_sample
from keras_gan.models import PRESETS, build
from keras_gan.networks.clustered import latent_classes

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")


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


def make_plain_steps(reference, batch: int) -> dict:
    """The two hand-written loops over fresh copies of ``reference``'s networks and optimizers."""
    loss = reference.loss_pair

    def copies():
        generator = keras.models.clone_model(reference.generator)
        generator.set_weights(reference.generator.get_weights())
        discriminator = keras.models.clone_model(reference.discriminator)
        discriminator.set_weights(reference.discriminator.get_weights())
        g_opt = reference.g_optimizer.__class__.from_config(reference.g_optimizer.get_config())
        d_opt = reference.d_optimizer.__class__.from_config(reference.d_optimizer.get_config())
        g_opt.build(generator.trainable_variables)
        d_opt.build(discriminator.trainable_variables)
        return generator, discriminator, g_opt, d_opt

    generator, discriminator, g_opt, d_opt = copies()

    edges = reference._cluster_edges  # None unless the generator draws a cluster from z

    def judge(network, x, ids):
        """The discriminator's logits: on the images alone, or on images and cluster ids."""
        return network(x if edges is None else [x, ids], training=True)

    def fake_ids(noise):
        return None if edges is None else latent_classes(noise, edges)

    @tf.function
    def tutorial(batch_data):
        images, ids = batch_data
        noise = tf.random.normal([batch, reference.latent_dim])
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = generator(noise, training=True)
            real_out = judge(discriminator, images, ids)
            fake_out = judge(discriminator, fake, fake_ids(noise))
            g_loss = tf.reduce_mean(loss.generator_loss(fake_out))
            d_loss = tf.reduce_mean(loss.discriminator_loss(real_out, fake_out))
        g_grads = g_tape.gradient(g_loss, generator.trainable_variables)
        d_grads = d_tape.gradient(d_loss, discriminator.trainable_variables)
        g_opt.apply(g_grads, generator.trainable_variables)
        d_opt.apply(d_grads, discriminator.trainable_variables)
        return g_loss, d_loss

    gen2, disc2, g_opt2, d_opt2 = copies()
    ema = None
    if reference.ema_generator is not None:
        ema = keras.models.clone_model(gen2)
        ema.set_weights(gen2.get_weights())
    decay = reference.ema_decay
    seed = reference.seed

    @tf.function
    def alternating(batch_data):
        images, ids = batch_data
        step = tf.cast(g_opt2.iterations, tf.int64)
        noise = tf.random.stateless_normal(
            [tf.shape(images)[0], reference.latent_dim],
            seed=tf.stack([tf.constant(seed, tf.int64), step * 64]),
        )
        with tf.GradientTape() as g_tape:
            fake = gen2(noise, training=True)
            drawn = fake_ids(noise)
        with tf.GradientTape() as d_tape:
            real_out = judge(disc2, images, ids)
            fake_out = judge(disc2, tf.stop_gradient(fake), drawn)
            d_loss = reduce_per_sample(loss.discriminator_loss(real_out, fake_out))
        d_grads = d_tape.gradient(d_loss, disc2.trainable_variables)
        d_opt2.apply(d_grads, disc2.trainable_variables)
        with g_tape:
            disc2.trainable = False  # as fit does: only the generator's variables move
            try:
                g_loss = reduce_per_sample(loss.generator_loss(judge(disc2, fake, drawn)))
            finally:
                disc2.trainable = True
        g_grads = g_tape.gradient(g_loss, gen2.trainable_variables)
        g_opt2.apply(g_grads, gen2.trainable_variables)
        if ema is not None:
            trainable = {id(v) for v in gen2.trainable_variables}
            for average, value in zip(ema.weights, gen2.weights, strict=True):
                if id(value) in trainable:
                    average.assign(decay * average + (1.0 - decay) * value)
                else:
                    average.assign(value)
        # The values fit logs each step (it keeps their running means in metrics).
        d_real = tf.reduce_mean(loss.score(real_out))
        d_fake = tf.reduce_mean(loss.score(fake_out))
        return g_loss, d_loss, d_real, d_fake

    return {"plain_alternating": alternating, "plain_tutorial": tutorial}


def step_flops(gan) -> dict[str, float]:
    """Training FLOPs per image of each loop (forward = 1x, backward = 2x the multiply-adds).

    ours / alternating: G fwd+bwd, D fwd+bwd on real and fake, D fwd + input-bwd for the G step;
    the tutorial skips the second D pass (its G step reuses the D forward on fakes).
    """
    g, d = forward_macs(gan.generator), forward_macs(gan.discriminator)
    return {
        "ours": 2 * (3 * g + 8 * d),
        "plain_alternating": 2 * (3 * g + 8 * d),
        "plain_tutorial": 2 * (3 * g + 5 * d),
    }


class StepClock(keras.callbacks.Callback):
    """The time each graph call of a ``fit`` starts (``fit`` runs its calls synchronously)."""

    def __init__(self) -> None:
        super().__init__()
        self.marks: dict[int, float] = {}

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self.marks[batch] = time.perf_counter()

    def seconds(self, first: int, last: int) -> float:
        """Seconds from the start of step ``first`` to the start of step ``last``."""
        return self.marks[last] - self.marks[first]


def timed_rounds(loops: dict, rounds: int) -> tuple[dict[str, list[float]], float]:
    """Warm each loop up once, then time ``rounds`` rounds, alternating between the loops.

    Returns the seconds of each loop per round and the median float32 matmul FLOP/s measured
    after each round (on a shared machine the peak moves with the load, like the loops).
    """
    for run in loops.values():  # tracing and first-touch allocations
        run()
    seconds: dict[str, list[float]] = {name: [] for name in loops}
    peaks = []
    for _ in range(rounds):
        for name, run in loops.items():
            seconds[name].append(run())
        peaks.append(matmul_flops(repeats=4))
    return seconds, statistics.median(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=20, help="training steps per timed round")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per loop")
    parser.add_argument("--models", nargs="+", default=["clustered", "dcgan"])
    parser.add_argument(
        "--steps-per-execution",
        type=int,
        default=5,
        help="also time fit compiled with this steps_per_execution (1 skips it)",
    )
    parser.add_argument(
        "--precisions",
        nargs="+",
        choices=PRECISIONS,
        default=list(PRECISIONS),
        help="dtype policies timed with fit on the first --models preset",
    )
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
    # Cluster ids of the timed images, for the self-conditioned presets (zeros elsewhere: the
    # unconditional loops ignore them).
    ids = np.zeros(len(data), np.int32)
    priors: dict[int, list[float]] = {}
    for name in args.models:
        k = PRESETS[name].clusters
        if k is not None and k not in priors:
            from keras_gan.mixture import image_clusters

            clusters = image_clusters((data + 1.0) / 2.0, k, seed=0)
            ids, priors[k] = clusters.labels.astype(np.int32), clusters.prior.tolist()

    def dataset_for(gan) -> tf.data.Dataset:
        """Batches as ``fit`` takes them: images, or (images, cluster ids) when self-conditioned."""
        tensors = data if gan.clusters is None else (data, ids)
        dataset = tf.data.Dataset.from_tensor_slices(tensors).batch(batch, drop_remainder=True)
        return dataset.repeat().prefetch(tf.data.AUTOTUNE)

    def build_model(name: str, **kwargs) -> keras.Model:
        k = PRESETS[name].clusters
        prior = None if k is None else priors[k]
        return build(name, image_shape=(28, 28, 1), seed=0, cluster_prior=prior, **kwargs)

    fit_data: dict[int, tf.data.Dataset] = {}
    fit_setup: dict[str, list[float]] = {}

    def fit_round(gan, name: str) -> float:
        """Seconds of ``args.steps`` steady steps of one ``fit`` call (see StepClock).

        The call runs one graph call more at each end: the first starts the call's data
        iterator, the last ends the timed span. What the call took beyond its steps at the
        steady rate (its setup and the iterator's start) goes to ``fit_setup[name]``.
        """
        if id(gan) not in fit_data:
            fit_data[id(gan)] = dataset_for(gan)
        spe = gan.steps_per_execution
        steps = spe + args.steps + spe
        clock = StepClock()
        started = time.perf_counter()
        gan.fit(
            fit_data[id(gan)],
            steps_per_epoch=steps,
            epochs=1,
            verbose=0,
            shuffle=False,
            callbacks=[clock],
        )
        total = time.perf_counter() - started
        seconds = clock.seconds(first=spe, last=spe + args.steps)
        fit_setup.setdefault(name, []).append(total - seconds * steps / args.steps)
        return seconds

    plain_data = tf.data.Dataset.from_tensor_slices((data, ids)).batch(batch, drop_remainder=True)
    iterator = iter(plain_data.repeat().prefetch(tf.data.AUTOTUNE))

    def plain_round(step) -> float:
        started = time.perf_counter()
        for _ in range(args.steps):
            out = step(next(iterator))
        float(out[0])
        return time.perf_counter() - started

    print(
        f"{source}, batch {batch}, {args.steps} steps x {args.rounds} rounds, "
        f"{os.cpu_count()} CPU cores, TensorFlow {tf.__version__}, Keras {keras.__version__}"
    )

    def report(
        title: str, seconds: dict[str, list[float]], flops: dict[str, float], peak: float
    ) -> dict:
        print(f"{title}; float32 matmul (2048^2) {peak / 1e9:.1f} GFLOP/s")
        rates = {}
        for name, times in seconds.items():
            rate = batch * args.steps / statistics.median(times)
            rates[name] = rate
            achieved = rate * flops[name]
            setup = fit_setup.get(name)
            print(
                f"  {name:18s} {rate:8.1f} images/s  {achieved / 1e9:6.1f} GFLOP/s "
                f"({achieved / peak:.3f} of float32 matmul)"
                + ("" if not setup else f"; fit() setup {statistics.median(setup):.2f} s a call")
            )
        return rates

    for name in args.models:
        ours = build_model(name)
        steps = make_plain_steps(ours, batch)
        loops = {"ours": lambda g=ours: fit_round(g, "ours")}
        flops = step_flops(ours)
        spe = args.steps_per_execution
        if spe > 1:
            multi = build_model(name, compile=False)
            preset = PRESETS[name]
            multi.compile(
                preset.d_optimizer(None),
                preset.g_optimizer(None),
                loss=preset.loss,
                steps_per_execution=spe,
            )
            loops[f"ours_spe{spe}"] = lambda g=multi, n=f"ours_spe{spe}": fit_round(g, n)
            flops[f"ours_spe{spe}"] = flops["ours"]
        loops.update({key: (lambda s=s: plain_round(s)) for key, s in steps.items()})
        seconds, peak = timed_rounds(loops, args.rounds)
        g, d = forward_macs(ours.generator), forward_macs(ours.discriminator)
        rates = report(
            f"{name}: {g / 1e6:.1f}M generator and {d / 1e6:.1f}M discriminator multiply-adds "
            "per image",
            seconds,
            flops,
            peak,
        )
        print(
            f"  ratio ours/plain_alternating (same maths): "
            f"{rates['ours'] / rates['plain_alternating']:.3f}"
        )
        if spe > 1:
            print(
                f"  ratio ours_spe{spe}/plain_alternating (same maths, {spe} steps per call): "
                f"{rates[f'ours_spe{spe}'] / rates['plain_alternating']:.3f}"
            )
        print(
            f"  ratio ours/plain_tutorial (tutorial loop): "
            f"{rates['ours'] / rates['plain_tutorial']:.3f}"
        )

    name = args.models[0]
    loops, flops = {}, {}
    for policy in args.precisions:
        keras.config.set_dtype_policy(policy)
        try:
            gan = build_model(name)
        finally:
            keras.config.set_dtype_policy("float32")
        loops[policy] = lambda g=gan, p=policy: fit_round(g, p)
        flops[policy] = step_flops(gan)["ours"]
    seconds, peak = timed_rounds(loops, args.rounds)
    rates = report(
        f"{name} with fit under each dtype policy (FLOPs counted as float32)", seconds, flops, peak
    )
    if "float32" in rates:
        for policy, rate in rates.items():
            print(f"  ratio {policy}/float32: {rate / rates['float32']:.3f}")


if __name__ == "__main__":
    main()
