"""Load an export back and check that it does what its metadata says.

``verify(path)`` accepts a version directory (SavedModel and/or ``model.onnx``), a model base
path (its newest version is checked), a SavedModel directory or a ``.onnx`` file. For each
runtime present it runs both entry points and checks names, dtypes, shapes and value ranges,
that ``sample(n, seed)`` repeats exactly and equals the ``z -> images`` entry point applied to the
recipe's ``z`` (``keras_gan.serving.latent``, numpy); for a SavedModel + ONNX pair it also
measures their largest difference on the same ``z``.

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
        results["saved_model"] = _run_saved_model(saved_model_dir, z, n, seed)
    if onnx_path is not None or sample_onnx_path is not None:
        results["onnx"] = _run_onnx(onnx_path, sample_onnx_path, z, n, seed)
    for runtime, out in results.items():
        _check_runtime(runtime, out, shape, (low, high), atol, report)
    if len(results) == 2 and all("images" in r for r in results.values()):
        a, b = results["saved_model"]["images"], results["onnx"]["images"]
        report.max_abs_difference = float(np.max(np.abs(a - b)))
        if not report.max_abs_difference <= atol:
            raise VerificationError(
                f"SavedModel and ONNX images differ by up to {report.max_abs_difference:.3g} on "
                f"the same z; expected at most atol={atol:g}."
            )
        report.checks.append(
            f"SavedModel vs ONNX images on the same z: max |diff| "
            f"{report.max_abs_difference:.3g} <= {atol:g}"
        )
    if len(results) == 2 and all("sample" in r for r in results.values()):
        a, b = results["saved_model"]["sample"], results["onnx"]["sample"]
        reference = results["saved_model"].get("images")
        report.sample_mismatches = _compare_samples(a, b, reference, atol, "SavedModel vs ONNX")
        report.checks.append(
            f"SavedModel vs ONNX sample(n={n}, seed={seed}): "
            f"{report.sample_mismatches} of {a.size} values differ (rounding boundaries only)"
        )
    return report


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


def _run_saved_model(directory: Path, z: np.ndarray, n: int, seed: int) -> dict[str, np.ndarray]:
    import tensorflow as tf

    loaded = tf.saved_model.load(str(directory))
    signatures = loaded.signatures
    for name, inputs in (("serving_default", {"z"}), ("sample", {"n", "seed"})):
        if name not in signatures:
            raise VerificationError(
                f"The SavedModel lacks the {name!r} signature. Found: {sorted(signatures)}"
            )
        found = set(signatures[name].structured_input_signature[1])
        outputs = set(signatures[name].structured_outputs)
        if found != inputs or outputs != {"images"}:
            raise VerificationError(
                f"SavedModel signature {name!r} maps {sorted(found)} -> {sorted(outputs)}; "
                f"expected {sorted(inputs)} -> ['images']."
            )

    def sample(s: int) -> np.ndarray:
        out = signatures["sample"](n=tf.constant(n, tf.int32), seed=tf.constant(s, tf.int64))
        return out["images"].numpy()

    return {
        "images": signatures["serving_default"](z=tf.constant(z))["images"].numpy(),
        "sample": sample(seed),
        "sample_again": sample(seed),
        "sample_other": sample(seed + 1),
    }


def _run_onnx(
    onnx_path: Path | None, sample_path: Path | None, z: np.ndarray, n: int, seed: int
) -> dict[str, np.ndarray]:
    import onnxruntime as ort

    out: dict[str, np.ndarray] = {}
    if onnx_path is not None:
        session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
        _check_names(session, ["z"], onnx_path)
        out["images"] = session.run(["images"], {"z": z})[0]
    if sample_path is not None:
        session = ort.InferenceSession(str(sample_path), providers=["CPUExecutionProvider"])
        _check_names(session, ["n", "seed"], sample_path)

        def sample(s: int) -> np.ndarray:
            feed = {"n": np.array(n, np.int32), "seed": np.array(s, np.int64)}
            return session.run(["images"], feed)[0]

        out.update(sample=sample(seed), sample_again=sample(seed), sample_other=sample(seed + 1))
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
        report.checks.append(f"{runtime} z -> images: float32 {shape} in [{low}, {high}]")
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
    if images is not None:
        _compare_samples(sample, _reference_sample(images, image_like), images, atol, runtime)
    distinct = not np.array_equal(sample, out["sample_other"])
    report.checks.append(
        f"{runtime} sample(n, seed): {np.dtype(dtype).name} {shape}, repeatable"
        + (", equal to z -> images on the recipe's z" if images is not None else "")
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
