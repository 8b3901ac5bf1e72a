"""2-D training speed: generator steps per second of the ``gan`` preset's maths on mixture points.

Every configuration trains the ``gan`` preset's networks for 2-D points (MLP 128x3 pair) with
its loss and optimizers (non-saturating, Adam 2e-4 with beta_1 0.5) on the ring mixture, batch
512 per step; they differ only in how the steps are executed:

- ``fit_before``: ``GAN.fit`` with the pipeline the 2-D training used before (one sample per
  tf.data element, batched by ``Dataset.batch``), one step per call, no XLA: the baseline;
- ``fit_batched``: the same with the batch-level pipeline of
  :func:`keras_gan.data.resumable.resumable_dataset` (each epoch gathered once, cut by a reshape);
- ``fit_xla``: and ``jit_compile=True``;
- ``fit_fused_graph``: the batch-level pipeline and 15 steps per call (below) without XLA;
- ``fit_fused``: and 15 steps per call (``steps_per_call=15`` of ``resumable_dataset``, a
  ``(batch, 15, 2)`` element that ``GAN.train_step`` runs as 15 steps in one XLA call): what
  ``keras-gan train --model points`` does (195 steps an epoch, 15 per call);
- ``hand_xla``: a hand-written ``tf.function(jit_compile=True)`` step with exactly the same
  maths (the discriminator update, then the generator update scored by the updated
  discriminator, on the fakes of one generator pass), called once per step from Python on the
  same batches: what a user would write by hand.

Rounds alternate between the configurations after a warm-up (which traces and compiles), and
the median steps/s of each is printed with its ratio to ``fit_before`` and to ``hand_xla``.
The CPU (model, AVX-512 and AVX512_BF16 flags) and the load average are printed with them.

Beside them it prints the step's arithmetic (an analytic count of its multiply-adds) and a
ceiling: the steps/s the step would reach if all of its arithmetic ran at the rate that a loop
of matmuls of the step's own shapes reaches on this machine (``512 x 128`` by ``128 x 128``:
the forward, weight-gradient and input-gradient products of a hidden layer; the faster of
XLA's and TensorFlow's matmuls), with nothing else (no activations, losses, optimizer updates
or calls). A target above the ceiling cannot be met by running the same maths faster.

Example:
    $ python benchmarks/points_throughput.py --steps 1950 --rounds 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf
from _machine import cpu_description, load_average
from train_throughput import step_flops

from keras_gan.data import mixture_of_gaussians
from keras_gan.data.resumable import resumable_dataset
from keras_gan.models import GAN, build

BATCH = 512
PER_CALL = 15
HIDDEN = 128  # the gan preset's MLP width for points


def _before_pipeline(points: np.ndarray, seed: int) -> tf.data.Dataset:
    """One sample per element, then ``batch``: the 2-D pipeline before the batch-level one."""
    return (
        tf.data.Dataset.from_tensor_slices(points)
        .repeat()
        .shuffle(len(points), seed=seed)
        .batch(BATCH, drop_remainder=True)
        .prefetch(2)
    )


def _gan(jit_compile: bool) -> GAN:
    keras.utils.set_random_seed(0)
    gan = build("gan", image_shape=(2,), seed=0, compile=False)
    gan.compile(
        keras.optimizers.Adam(2e-4, beta_1=0.5),
        keras.optimizers.Adam(2e-4, beta_1=0.5),
        loss="non_saturating",
        jit_compile=jit_compile,
    )
    return gan


def fit_runner(pipeline: str, jit_compile: bool, per_call: int) -> Callable[[int], float]:
    """A function ``run(steps) -> seconds`` training one model with ``fit``.

    Example:
        >>> run = fit_runner("batched", jit_compile=True, per_call=15)  # doctest: +SKIP
    """
    gan = _gan(jit_compile)
    points = mixture_of_gaussians("ring", 100_000, seed=0)
    if pipeline == "before":
        dataset = _before_pipeline(points, seed=0)
    else:
        dataset = resumable_dataset(points, BATCH, seed=0, steps_per_call=per_call).repeat()
    iterator_owner = {"dataset": dataset}

    def run(steps: int) -> float:
        started = time.perf_counter()
        gan.fit(iterator_owner["dataset"], steps_per_epoch=steps // per_call, epochs=1, verbose=0)
        return time.perf_counter() - started

    return run


def hand_runner() -> Callable[[int], float]:
    """A hand-written XLA step with the GAN's maths, called once per step from Python.

    Example:
        >>> run = hand_runner()  # doctest: +SKIP
    """
    reference = _gan(jit_compile=False)
    generator, discriminator = reference.generator, reference.discriminator
    g_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
    d_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
    g_opt.build(generator.trainable_variables)
    d_opt.build(discriminator.trainable_variables)
    softplus = tf.math.softplus

    @tf.function(jit_compile=True)
    def step(real: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
        z = tf.random.stateless_normal([BATCH, 2], seed=seed)
        with tf.GradientTape() as g_tape:
            fake = generator(z, training=True)
        with tf.GradientTape() as d_tape:
            real_out = discriminator(real, training=True)
            fake_out = discriminator(tf.stop_gradient(fake), training=True)
            d_loss = tf.reduce_mean(softplus(-real_out)) + tf.reduce_mean(softplus(fake_out))
        d_vars = discriminator.trainable_variables
        d_opt.apply(d_tape.gradient(d_loss, d_vars), d_vars)
        with g_tape:
            g_loss = tf.reduce_mean(softplus(-discriminator(fake, training=True)))
        g_vars = generator.trainable_variables
        g_opt.apply(g_tape.gradient(g_loss, g_vars), g_vars)
        return g_loss

    points = mixture_of_gaussians("ring", 100_000, seed=0)
    iterator = iter(resumable_dataset(points, BATCH, seed=0).repeat())
    counter = [0]

    def run(steps: int) -> float:
        started = time.perf_counter()
        for _ in range(steps):
            step(next(iterator), tf.constant([0, counter[0]], tf.int64))
            counter[0] += 1
        return time.perf_counter() - started

    return run


def matmul_rate(jit_compile: bool, iterations: int = 400, repeats: int = 5) -> float:
    """Float32 FLOP/s of a loop of the step's matmul shapes on this machine (median).

    Each iteration runs a hidden layer's three products at batch ``BATCH``: forward
    ``(512, 128) @ (128, 128)``, weight gradient ``(128, 512) @ (512, 128)`` and input gradient
    ``(512, 128) @ (128, 128)^T``, each depending on the previous iteration so none is skipped.
    ``jit_compile`` picks XLA's matmuls or TensorFlow's (oneDNN) in a graph loop.

    Example:
        >>> matmul_rate(jit_compile=True, iterations=10, repeats=1) > 0  # doctest: +SKIP
        True
    """
    x0 = tf.random.normal((BATCH, HIDDEN))
    w0 = tf.random.normal((HIDDEN, HIDDEN), stddev=HIDDEN**-0.5)

    @tf.function(jit_compile=jit_compile)
    def loop(x: tf.Tensor, w: tf.Tensor) -> tf.Tensor:
        def body(i, x, w):
            y = tf.matmul(x, w)
            grad_w = tf.matmul(x, y, transpose_a=True)
            grad_x = tf.matmul(y, w, transpose_b=True)
            return i + 1, grad_x * 0.5, w - 1e-6 * grad_w

        return tf.reduce_sum(tf.while_loop(lambda i, *_: i < iterations, body, (0, x, w))[1])

    loop(x0, w0).numpy()  # trace and compile
    flops = 3 * 2.0 * BATCH * HIDDEN * HIDDEN * iterations
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        loop(x0, w0).numpy()
        rates.append(flops / (time.perf_counter() - started))
    return statistics.median(rates)


CONFIGS: dict[str, Callable[[], Callable[[int], float]]] = {
    "fit_before": lambda: fit_runner("before", jit_compile=False, per_call=1),
    "fit_batched": lambda: fit_runner("batched", jit_compile=False, per_call=1),
    "fit_xla": lambda: fit_runner("batched", jit_compile=True, per_call=1),
    "fit_fused_graph": lambda: fit_runner("batched", jit_compile=False, per_call=PER_CALL),
    "fit_fused": lambda: fit_runner("batched", jit_compile=True, per_call=PER_CALL),
    "hand_xla": hand_runner,
}


def main(argv: list[str] | None = None) -> int:
    """Time every configuration in alternating rounds and print steps/s and ratios.

    Example:
        >>> main(["--steps", "30", "--rounds", "1"])  # doctest: +SKIP
        0
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1950, help="generator steps per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    args = parser.parse_args(argv)
    if args.steps < PER_CALL or args.steps % PER_CALL:
        parser.error(f"--steps must be a positive multiple of {PER_CALL}, got {args.steps}")
    if args.rounds < 1:
        parser.error(f"--rounds must be positive, got {args.rounds}")
    print(
        f"CPU: {cpu_description()}, load average {load_average()}; "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}"
    )
    runners = {name: CONFIGS[name]() for name in args.configs}
    for run in runners.values():  # warm-up: trace and compile
        run(PER_CALL * 4)
    rates: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(args.rounds):
        for name, run in runners.items():
            rates[name].append(args.steps / run(args.steps))
    median = {name: statistics.median(values) for name, values in rates.items()}
    base, hand = median.get("fit_before"), median.get("hand_xla")
    print(f"{'config':<12} {'steps/s':>9} {'vs fit_before':>14} {'vs hand_xla':>12}")
    for name, value in median.items():
        vs_base = f"{value / base:.2f}x" if base else "-"
        vs_hand = f"{value / hand:.2f}x" if hand else "-"
        print(f"{name:<12} {value:>9.1f} {vs_base:>14} {vs_hand:>12}")
    flops = BATCH * step_flops(_gan(jit_compile=False))["ours"]  # dense multiply-adds only
    xla, graph = matmul_rate(jit_compile=True), matmul_rate(jit_compile=False)
    ceiling = max(xla, graph) / flops
    print(
        f"step arithmetic {flops / 1e6:.1f} MFLOP; matmuls of the step's shapes: "
        f"XLA {xla / 1e9:.1f} GFLOP/s, TensorFlow {graph / 1e9:.1f} GFLOP/s "
        f"-> ceiling {ceiling:.0f} steps/s"
    )
    for name, value in median.items():
        print(
            f"  {name:<16} {value * flops / 1e9:6.1f} GFLOP/s = "
            f"{value / ceiling:.2f} of the ceiling"
        )
    if base:
        print(
            f"2.5x fit_before = {2.5 * base:.0f} steps/s = "
            f"{2.5 * base / ceiling:.2f} of the ceiling"
        )
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
