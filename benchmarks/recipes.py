"""Recipe screen: variants of the default image preset, same minutes each, side by side.

Each variant of ``resize_conv`` trains on Fashion-MNIST for ``--minutes`` of wall-clock
training (evaluation excluded) on the batches ``keras-gan train`` feeds
(:func:`keras_gan.data.resumable.resumable_dataset`), one after another in ONE run, then is
scored by :func:`keras_gan.evaluation.evaluate` with the same classifier, reference set (the
test split), sample count and latent seed. The table prints every variant beside the floor
with its steps, so a variant that wins by taking more steps per minute shows it. Grids and
reports go to ``--out/<variant>/``; ``--out/recipes.json`` keeps the rows, and ``--resume``
skips the variants already measured (a long screen can run in parts).

Variants (all on the ``resize_conv`` networks, batch 128, seed 0, unless stated):

- ``baseline``: the preset as it ships (float32, non-saturating loss).
- ``bf16``: the same under the ``mixed_bfloat16`` dtype policy.
- ``hinge_sn``: hinge loss with a spectrally normalised discriminator (Miyato et al. 2018).
- ``batch64``: batch 64.
- ``wgan``, ``wgan_gp``: those presets as they ship (the ``resize_conv`` networks, 5 critic
  steps of 128 images per generator step); ``wgan_dcgan``, ``wgan_gp_dcgan``: the same recipes
  on the DCGAN pair (``build(..., networks="dcgan")``).
- ``wgan_layer``: ``wgan`` with a layer-normalised critic (``critic_norm="layer"``, as
  ``wgan_gp``'s; the paper's DCGAN critic was batch-normalised, which Keras'
  ``BatchNormalization`` does not keep when frozen in the generator update; ``wgan_batch``
  below does); clipping also applies to the norms' scales and offsets.
- ``wgan_rms2e-4``: ``wgan`` with RMSprop at 2e-4 instead of the paper's 5e-5;
  ``wgan_layer_rms2e-4``: both changes; ``wgan_rms5e-4``, ``wgan_rms1e-3``: RMSprop at 5e-4
  and 1e-3; ``wgan_rms2e-4_ema``: RMSprop 2e-4 and sampling from an EMA (0.99) of the
  generator's weights; ``wgan_rms2e-4_c2``: RMSprop 2e-4 and 2 critic steps per generator step.
- ``wgan_batch``: ``wgan`` with a batch-normalised critic that keeps normalising by the scored
  batch's statistics when frozen (``critic_norm="batch_stats"``), as the paper's DCGAN critic
  did in both updates; ``wgan_batch_rms5e-4``: the same with RMSprop at 5e-4.
- ``clusters<K>``: the ``clustered`` preset on K k-means clusters of the train images (no
  labels; the generator draws its cluster from ``z[:, 0]`` with the clusters' frequencies).
  The clustering is not counted in the minutes (``cluster_seconds`` in the record says what it
  took).

Example:
    $ python benchmarks/recipes.py --minutes 5 --variants baseline bf16 clusters20
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from _machine import cpu_description, load_average
from quality import TimeBudget

from keras_gan._atomic import write_json

#: The WGAN variants: (preset, build options).
WGAN_VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "wgan": ("wgan", {}),
    "wgan_gp": ("wgan_gp", {}),
    "wgan_dcgan": ("wgan", {"networks": "dcgan"}),
    "wgan_gp_dcgan": ("wgan_gp", {"networks": "dcgan"}),
    "wgan_layer": ("wgan", {"critic_norm": "layer"}),
    "wgan_rms2e-4": ("wgan", {"d_lr": 2e-4, "g_lr": 2e-4}),
    "wgan_layer_rms2e-4": ("wgan", {"critic_norm": "layer", "d_lr": 2e-4, "g_lr": 2e-4}),
    "wgan_rms5e-4": ("wgan", {"d_lr": 5e-4, "g_lr": 5e-4}),
    "wgan_rms1e-3": ("wgan", {"d_lr": 1e-3, "g_lr": 1e-3}),
    "wgan_rms2e-4_ema": ("wgan", {"d_lr": 2e-4, "g_lr": 2e-4, "ema_decay": 0.99}),
    "wgan_rms2e-4_c2": ("wgan", {"d_lr": 2e-4, "g_lr": 2e-4, "discriminator_steps": 2}),
    "wgan_batch": ("wgan", {"critic_norm": "batch_stats"}),
    "wgan_batch_rms5e-4": ("wgan", {"critic_norm": "batch_stats", "d_lr": 5e-4, "g_lr": 5e-4}),
}
VARIANTS = (
    "baseline",
    "bf16",
    "hinge_sn",
    "batch64",
    "clusters10",
    "clusters20",
    "clusters50",
    *WGAN_VARIANTS,
)


def build_variant(name: str, seed: int) -> tuple[Any, Any, int, dict[str, Any]]:
    """``(gan, dataset, batch, info)`` for a variant; the dataset repeats its epochs."""
    from keras_gan.data import load_arrays, scale_images
    from keras_gan.data.resumable import resumable_dataset
    from keras_gan.mixture import image_clusters
    from keras_gan.models import build

    batch = 64 if name == "batch64" else 128
    info: dict[str, Any] = {"batch_size": batch}
    images, _ = load_arrays("fashion_mnist", "train")
    if name.startswith("clusters"):
        k = int(name[len("clusters") :])
        started = time.perf_counter()
        clusters = image_clusters(images, k, seed=seed)
        info.update(clusters=k, cluster_seconds=time.perf_counter() - started)
        gan = build("clustered", image_shape=(28, 28, 1), seed=seed, cluster_prior=clusters.prior)
        data = resumable_dataset(
            (images, clusters.labels), batch, seed=seed, transform=scale_images
        )
        return gan, data, batch, info
    if name in WGAN_VARIANTS:
        preset, options = WGAN_VARIANTS[name]
        gan = build(preset, image_shape=(28, 28, 1), seed=seed, **options)
        step_batch = batch * gan.discriminator_steps
        info["step_batch_size"] = step_batch
        data = resumable_dataset(images, step_batch, seed=seed, transform=scale_images)
        return gan, data, batch, info
    kwargs: dict[str, Any] = {}
    if name == "bf16":
        kwargs["precision"] = "mixed_bfloat16"
    if name == "hinge_sn":
        kwargs.update(loss="hinge", critic_norm="spectral")
    gan = build("resize_conv", image_shape=(28, 28, 1), seed=seed, **kwargs)
    return gan, resumable_dataset(images, batch, seed=seed, transform=scale_images), batch, info


def sampler_for(name: str, gan: Any) -> Any:
    """The variant's sampling generator as an unconditional
    :class:`~keras_gan.runs.LoadedGenerator` (a clustered one draws its clusters from z)."""
    from keras_gan.runs import LoadedGenerator

    generator = gan.sampling_generator
    return LoadedGenerator(
        lambda z: np.asarray(generator(z, training=False)), gan.latent_dim, "keras", name
    )


def main(argv: list[str] | None = None) -> int:
    """Train and score each variant, print the table.

    Example:
        >>> main(["--minutes", "0.2", "--variants", "baseline"])  # doctest: +SKIP
        0
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--num-samples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/recipes")
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)
    if not args.minutes > 0:
        parser.error(f"--minutes must be positive, got {args.minutes}")

    import keras

    from keras_gan.evaluation import Reference, evaluate, format_table, load_classifier
    from keras_gan.metrics import compute_metrics

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    record_path = out / "recipes.json"
    if record_path.is_file() and not args.resume:
        raise SystemExit(f"{record_path} exists: pass --resume to continue it, or another --out")
    record = json.loads(record_path.read_text()) if record_path.is_file() else {"rows": {}}
    classifier = load_classifier("fashion_mnist", verbose=2)
    reference = Reference.build(classifier, "fashion_mnist", args.num_samples, seed=args.seed)
    floor = compute_metrics(
        reference.features, reference.probs, reference.train_features, reference.train_probs
    )
    record.update(minutes=args.minutes, num_samples=args.num_samples, cpu=cpu_description())
    for name in args.variants:
        if name in record["rows"]:
            print(f"{name}: measured", flush=True)
            continue
        keras.utils.set_random_seed(args.seed)
        gan, dataset, _, info = build_variant(name, args.seed)
        budget = TimeBudget(args.minutes * 60)
        print(f"{name}: training {args.minutes:g} min", flush=True)
        gan.fit(dataset, epochs=10_000, verbose=0, callbacks=[budget.callback])
        steps = int(gan.g_optimizer.iterations.numpy())
        report = evaluate(
            sampler_for(name, gan),
            "fashion_mnist",
            args.num_samples,
            out / name,
            classifier=classifier,
            reference=reference,
            seed=args.seed,
            floor=False,
        )
        record["rows"][name] = {
            **{k: float(v) for k, v in report["metrics"].items()},
            **info,
            "steps": steps,
            "train_seconds": budget.seconds_trained,
            "load_average": load_average(),
        }
        write_json(record_path, record)
        print(f"  {name}: {steps} steps, FID {report['metrics']['fid']:.2f}", flush=True)
    columns = {n: r for n, r in record["rows"].items()}
    columns["floor (real train)"] = {k: float(v) for k, v in floor.items()}
    print(f"{args.minutes:g} min each, {args.num_samples} samples; {record['cpu']}")
    print(format_table(columns))
    for n, r in record["rows"].items():
        print(f"{n}: {r['steps']} steps, load average {r['load_average']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
