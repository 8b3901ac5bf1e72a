"""Load an export back and check that it does what its metadata says.

``verify(path)`` accepts a version directory (SavedModel and/or ``model.onnx``), a model base
path (its newest version is checked), a SavedModel directory or a ``.onnx`` file. For each
runtime present it runs both entry points and checks names, dtypes, shapes and value ranges,
that ``sample(n, seed)`` repeats exactly and equals the ``z -> images`` entry point applied to the
recipe's ``z`` (``keras_gan.serving.latent``, numpy); for a SavedModel + ONNX pair it also
measures their largest difference on the same ``z``.

A class-conditional export (``num_classes`` in its metadata) is run with labels: ``z -> images``
on the labels ``arange(n) % num_classes``, and ``sample(n, seed, label)`` with the last class,
which must equal the ``z -> images`` entry point on the recipe's ``z`` with that label for every
row.

Rounding to uint8 maps a float that lies within the runtimes' difference of a half-integer
boundary to either neighbour, so uint8 images from two runtimes may differ by one at such
pixels; a difference anywhere else fails the check.

Example:
    >>> report = verify("models/fashion_dcgan/1")  # doctest: +SKIP
    >>> print(report.summary())  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
from keras_gan.export.source import ExportError
from keras_gan.serving.latent import latent
from keras_gan.serving.layout import (
    ASSET_NAME,
    ASSETS_DIR,
    METADATA_KEY,
    ONNX_NAME,
    REQUIRED_METADATA_KEYS,
    SAMPLE_ONNX_NAME,
    SAMPLE_SUFFIX,
    SAVED_MODEL_NAME,
    metadata_path,
    sample_path_for,
)

from keras_gan._checks import check_positive_int

__all__ = ["VerificationError", "VerifyReport", "verify"]


class VerificationError(ExportError):
    """An exported artifact does not behave as its metadata says.

    Example:
        >>> raise VerificationError("sample() is not repeatable")  # doctest: +SKIP
    """


@dataclasses.dataclass
class VerifyReport:
    """What ``verify`` checked and measured.

    Attributes:
        path: the directory or file that was checked.
        formats: ``"saved_model"`` and/or ``"onnx"``, those found.
        metadata: the export's metadata.
        max_abs_difference: largest ``|SavedModel - ONNX|`` of ``images`` on the same ``z``
            (None unless both formats are present).
        sample_mismatches: uint8 pixels of ``sample(n, seed)`` that differ between the two
            runtimes (each by one, at a rounding boundary); None unless both are present.
        checks: one line per check passed.

    Example:
        >>> verify(path).formats  # doctest: +SKIP
        ('saved_model', 'onnx')
    """

    path: Path
    formats: tuple[str, ...]
    metadata: dict[str, Any]
    max_abs_difference: float | None = None
    sample_mismatches: int | None = None
    checks: list[str] = dataclasses.field(default_factory=list)

    def summary(self) -> str:
        """A few lines for a terminal.

        Example:
            >>> print(report.summary())  # doctest: +SKIP
        """
        lines = [f"verified {self.path} ({', '.join(self.formats)})"]
        lines += [f"  ok: {check}" for check in self.checks]
        if self.max_abs_difference is not None:
            lines.append(
                f"  SavedModel vs ONNX max abs difference: {self.max_abs_difference:.3g}; "
                f"sample uint8 pixels differing: {self.sample_mismatches}"
            )
        return "\n".join(lines)


def verify(path: str | os.PathLike, n: int = 8, seed: int = 0, atol: float = 1e-5) -> VerifyReport:
    """Load an export, run both entry points in every runtime present and compare.

    Args:
        path: a version directory, a base path (newest version), a SavedModel directory or a
            ``.onnx`` file (its ``<stem>.sample.onnx`` sibling is checked too when present).
        n: batch size of the test draws.
        seed: seed of the test draws (``seed + 1`` is drawn too).
        atol: largest allowed difference between the runtimes' float images, and between an
            entry point and the numpy recipe's ``z`` fed to the ``z -> images`` entry point.

    Returns:
        The ``VerifyReport``.

    Raises:
        FileNotFoundError: no export at ``path``.
        VerificationError: a check failed; the message says which and by how much.

    Example:
        >>> verify("models/fashion_dcgan").max_abs_difference  # doctest: +SKIP
        4.76837158203125e-07
    """
    check_positive_int(n, "n")
    saved_model_dir, onnx_path, sample_onnx_path, root = _locate(Path(path))
    metadata = _read_metadata(saved_model_dir, onnx_path or sample_onnx_path)
    latent_dim = int(metadata["latent_dim"])
    shape = (n, *(int(d) for d in metadata["image_shape"]))
    low, high = (float(v) for v in metadata["output_range"])
    z = latent(n, seed, latent_dim)
    labels = label = None
    num_classes = metadata.get("num_classes")
    if num_classes is not None:
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise VerificationError(
                f"The metadata num_classes must be a positive integer. Received: {num_classes!r}"
            )
        labels = (np.arange(n) % num_classes).astype(np.int32)
        label = num_classes - 1
    inputs = _Inputs(z, n, seed, labels, label)
    formats = tuple(
        name
        for name, present in (
            ("saved_model", saved_model_dir),
            ("onnx", onnx_path or sample_onnx_path),
        )
        if present
    )
    report = VerifyReport(root, formats, metadata)
    results: dict[str, dict[str, np.ndarray]] = {}
    if saved_model_dir is not None:
        results["saved_model"] = _run_saved_model(saved_model_dir, inputs)
    if onnx_path is not None or sample_onnx_path is not None:
        results["onnx"] = _run_onnx(onnx_path, sample_onnx_path, inputs)
    for runtime, out in results.items():
        label_text = f" with label {inputs.label}" if inputs.conditional else ""
        _check_runtime(runtime, out, shape, (low, high), atol, report, label_text)
    if len(results) == 2 and all("images" in r for r in results.values()):
        a, b = results["saved_model"]["images"], results["onnx"]["images"]
        report.max_abs_difference = float(np.max(np.abs(a - b)))
        if not report.max_abs_difference <= atol:
            raise VerificationError(
                f"SavedModel and ONNX images differ by up to {report.max_abs_difference:.3g} on "
                f"the same z; expected at most atol={atol:g}."
            )
        report.checks.append(
            f"SavedModel vs ONNX images on the same z{inputs.labels_text}: max |diff| "
            f"{report.max_abs_difference:.3g} <= {atol:g}"
        )
    if len(results) == 2 and all("sample" in r for r in results.values()):
        a, b = results["saved_model"]["sample"], results["onnx"]["sample"]
        reference = results["saved_model"].get("sample_images")
        report.sample_mismatches = _compare_samples(a, b, reference, atol, "SavedModel vs ONNX")
        report.checks.append(
            f"SavedModel vs ONNX sample(n={n}, seed={seed}{inputs.label_text}): "
            f"{report.sample_mismatches} of {a.size} values differ (rounding boundaries only)"
        )
    return report


@dataclasses.dataclass(frozen=True)
class _Inputs:
    """What both runtimes are fed: ``z`` (and labels), and the ``sample`` arguments."""

    z: np.ndarray
    n: int
    seed: int
    labels: np.ndarray | None = None  # conditional exports: one class per row of z
    label: int | None = None  # conditional exports: the class of sample(n, seed, label)

    @property
    def conditional(self) -> bool:
        return self.labels is not None

    @property
    def labels_text(self) -> str:
        return " and labels" if self.conditional else ""

    @property
    def label_text(self) -> str:
        return f", label={self.label}" if self.conditional else ""

    def sample_labels(self) -> np.ndarray:
        """The labels ``sample(n, seed, label)`` uses: ``label`` for every row."""
        return np.full((self.n,), self.label, np.int32)


def _locate(path: Path) -> tuple[Path | None, Path | None, Path | None, Path]:
    if path.is_file():
        if path.suffix != ".onnx":
            raise FileNotFoundError(f"Expected a .onnx file or an export directory: {path}")
        if path.name.endswith(SAMPLE_SUFFIX):
            return None, None, path, path
        sample = sample_path_for(path)
        return None, path, sample if sample.is_file() else None, path
    if not path.is_dir():
        raise FileNotFoundError(f"No export at {path}")

    def present(directory: Path) -> bool:
        names = (SAVED_MODEL_NAME, ONNX_NAME, SAMPLE_ONNX_NAME)
        return any((directory / name).is_file() for name in names)

    if not present(path):
        versions = [p for p in path.iterdir() if p.is_dir() and p.name.isdigit()]
        if not versions:
            raise FileNotFoundError(
                f"No SavedModel, {ONNX_NAME} or numeric version directory in {path}"
            )
        path = max(versions, key=lambda p: int(p.name))
        if not present(path):
            raise FileNotFoundError(f"No SavedModel or {ONNX_NAME} in {path}")
    saved_model = path if (path / SAVED_MODEL_NAME).is_file() else None
    onnx_path = path / ONNX_NAME
    sample = path / SAMPLE_ONNX_NAME
    return (
        saved_model,
        onnx_path if onnx_path.is_file() else None,
        sample if sample.is_file() else None,
        path,
    )


def _read_metadata(saved_model_dir: Path | None, onnx_path: Path | None) -> dict[str, Any]:
    text = None
    if saved_model_dir is not None and metadata_path(saved_model_dir).is_file():
        text = metadata_path(saved_model_dir).read_text(encoding="utf-8")
    elif onnx_path is not None:
        import onnx

        proto = onnx.load(str(onnx_path), load_external_data=False)
        text = next((p.value for p in proto.metadata_props if p.key == METADATA_KEY), None)
    if text is None:
        raise VerificationError(
            f"No keras_gan metadata ({ASSETS_DIR}/{ASSET_NAME} or ONNX "
            f"metadata_props[{METADATA_KEY!r}])"
            f" in {saved_model_dir or onnx_path}"
        )
    metadata = json.loads(text)
    missing = [key for key in REQUIRED_METADATA_KEYS if key not in metadata]
    if missing:
        raise VerificationError(f"The export's metadata lacks {missing}: {metadata}")
    return metadata


def _run_saved_model(directory: Path, inputs: _Inputs) -> dict[str, np.ndarray]:
    import tensorflow as tf

    loaded = tf.saved_model.load(str(directory))
    signatures = loaded.signatures
    generate_names, sample_names = _input_names(inputs.conditional)
    for name, expected in (("serving_default", generate_names), ("sample", sample_names)):
        if name not in signatures:
            raise VerificationError(
                f"The SavedModel lacks the {name!r} signature. Found: {sorted(signatures)}"
            )
        found = set(signatures[name].structured_input_signature[1])
        outputs = set(signatures[name].structured_outputs)
        if found != set(expected) or outputs != {"images"}:
            raise VerificationError(
                f"SavedModel signature {name!r} maps {sorted(found)} -> {sorted(outputs)}; "
                f"expected {sorted(expected)} -> ['images']."
            )

    def generate(labels: np.ndarray | None) -> np.ndarray:
        feed = {"z": tf.constant(inputs.z)}
        if labels is not None:
            feed["labels"] = tf.constant(labels, tf.int32)
        return signatures["serving_default"](**feed)["images"].numpy()

    def sample(s: int) -> np.ndarray:
        feed = {"n": tf.constant(inputs.n, tf.int32), "seed": tf.constant(s, tf.int64)}
        if inputs.conditional:
            feed["label"] = tf.constant(inputs.label, tf.int32)
        return signatures["sample"](**feed)["images"].numpy()

    images = generate(inputs.labels)
    return {
        "images": images,
        "sample_images": generate(inputs.sample_labels()) if inputs.conditional else images,
        "sample": sample(inputs.seed),
        "sample_again": sample(inputs.seed),
        "sample_other": sample(inputs.seed + 1),
    }


def _input_names(conditional: bool) -> tuple[list[str], list[str]]:
    """The input names of ``z -> images`` and of ``sample``, in order."""
    if conditional:
        return ["z", "labels"], ["n", "seed", "label"]
    return ["z"], ["n", "seed"]


def _run_onnx(
    onnx_path: Path | None, sample_path: Path | None, inputs: _Inputs
) -> dict[str, np.ndarray]:
    import onnxruntime as ort

    generate_names, sample_names = _input_names(inputs.conditional)
    out: dict[str, np.ndarray] = {}
    if onnx_path is not None:
        session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
        _check_names(session, generate_names, onnx_path)

        def generate(labels: np.ndarray | None) -> np.ndarray:
            feed = {"z": inputs.z} if labels is None else {"z": inputs.z, "labels": labels}
            return session.run(["images"], feed)[0]

        out["images"] = generate(inputs.labels)
        out["sample_images"] = (
            generate(inputs.sample_labels()) if inputs.conditional else out["images"]
        )
    if sample_path is not None:
        sample_session = ort.InferenceSession(str(sample_path), providers=["CPUExecutionProvider"])
        _check_names(sample_session, sample_names, sample_path)

        def sample(s: int) -> np.ndarray:
            feed = {"n": np.array(inputs.n, np.int32), "seed": np.array(s, np.int64)}
            if inputs.conditional:
                feed["label"] = np.array(inputs.label, np.int32)
            return sample_session.run(["images"], feed)[0]

        out.update(
            sample=sample(inputs.seed),
            sample_again=sample(inputs.seed),
            sample_other=sample(inputs.seed + 1),
        )
    return out


def _check_names(session: Any, inputs: list[str], path: Path) -> None:
    found = [i.name for i in session.get_inputs()]
    outputs = [o.name for o in session.get_outputs()]
    if found != inputs or outputs != ["images"]:
        raise VerificationError(
            f"{path.name} maps {found} -> {outputs}; expected {inputs} -> ['images']."
        )


def _check_runtime(
    runtime: str,
    out: dict[str, np.ndarray],
    shape: tuple[int, ...],
    output_range: tuple[float, float],
    atol: float,
    report: VerifyReport,
    label_text: str = "",
) -> None:
    low, high = output_range
    images = out.get("images")
    if images is not None:
        if images.dtype != np.float32 or images.shape != shape:
            raise VerificationError(
                f"{runtime} z -> images gave {images.dtype} {images.shape}; "
                f"expected float32 {shape}."
            )
        # tanh in onnxruntime can round to 1 + 1 ulp: allow float32 rounding at the bounds.
        slack = 4 * np.finfo(np.float32).eps * max(abs(low), abs(high), 1.0)
        if (
            not np.all(np.isfinite(images))
            or images.min() < low - slack
            or images.max() > high + slack
        ):
            raise VerificationError(
                f"{runtime} images span [{images.min():.4g}, {images.max():.4g}]; "
                f"expected values in [{low}, {high}]."
            )
        report.checks.append(
            f"{runtime} z -> images: float32 {shape} in [{low}, {high}]"
            + (" (labels cycling the classes)" if label_text else "")
        )
    sample = out.get("sample")
    if sample is None:
        return
    image_like = len(shape) >= 3
    dtype = np.uint8 if image_like else np.float32
    if sample.dtype != dtype or sample.shape != shape:
        raise VerificationError(
            f"{runtime} sample gave {sample.dtype} {sample.shape}; expected "
            f"{np.dtype(dtype).name} {shape}."
        )
    if not np.array_equal(sample, out["sample_again"]):
        raise VerificationError(f"{runtime} sample(n, seed) differs between two calls.")
    reference = out.get("sample_images")
    if reference is not None:
        _compare_samples(sample, _reference_sample(reference, image_like), reference, atol, runtime)
    distinct = not np.array_equal(sample, out["sample_other"])
    report.checks.append(
        f"{runtime} sample(n, seed{', label' if label_text else ''}): "
        f"{np.dtype(dtype).name} {shape}, repeatable"
        + (f", equal to z -> images on the recipe's z{label_text}" if reference is not None else "")
        + ("" if distinct else "; NOTE: seed + 1 gave the same output")
    )


def _reference_sample(images: np.ndarray, image_like: bool) -> np.ndarray:
    if not image_like:
        return images
    scaled = (np.clip(images, np.float32(-1), np.float32(1)) + np.float32(1)) * np.float32(127.5)
    return np.rint(scaled).astype(np.uint8)


def _compare_samples(
    a: np.ndarray, b: np.ndarray, images: np.ndarray | None, atol: float, what: str
) -> int:
    if a.dtype != np.uint8:
        difference = float(np.max(np.abs(a.astype(np.float64) - b))) if a.size else 0.0
        if difference > atol:
            raise VerificationError(f"{what}: sample values differ by {difference:.3g} > {atol:g}")
        return int(np.count_nonzero(a != b))
    differ = a != b
    count = int(np.count_nonzero(differ))
    if not count:
        return 0
    gap = np.abs(a.astype(np.int16) - b.astype(np.int16))
    explained = gap[differ].max() <= 1
    if explained and images is not None:
        scaled = (np.clip(images[differ], -1.0, 1.0).astype(np.float64) + 1.0) * 127.5
        distance = np.abs(scaled - np.floor(scaled) - 0.5)
        explained = bool(np.all(distance <= 127.5 * atol + 1e-6))
    if not explained:
        raise VerificationError(
            f"{what}: {count} of {a.size} uint8 values differ (max by {gap.max()}), not all "
            "at rounding boundaries: the two entry points do not compute the same images."
        )
    return count
