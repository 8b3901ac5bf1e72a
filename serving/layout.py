"""The export layout: the names of an export's files and of its metadata, defined once.

``keras_gan.export`` writes these names and ``keras_gan.serving`` reads them, so both take them
from here (standard library only: no numpy, no TensorFlow). One model base path holds numeric
version directories (TF Serving's layout); each version directory holds::

    <version>/
      saved_model.pb  variables/      the SavedModel (SAVED_MODEL_NAME)
      assets/keras_gan.json           the metadata JSON (ASSETS_DIR / ASSET_NAME)
      model.onnx                      z -> images (ONNX_NAME)
      model.sample.onnx               (n, seed) -> images (SAMPLE_ONNX_NAME)

Each ONNX file carries the same metadata JSON in its ``metadata_props`` under ``METADATA_KEY``.
The metadata's keys are ``METADATA_KEYS`` (``docs/export.md`` says what each holds); a reader
needs ``REQUIRED_METADATA_KEYS`` at least. Both entry points exist in both formats under the
names ``SIGNATURES``. A class-conditional export also has ``CLASS_METADATA_KEYS``
(``num_classes``, ``class_names``); its entry points take ``labels`` (``z -> images``) and
``label`` (``sample``).

Example:
    >>> from pathlib import Path
    >>> metadata_path(Path("models/dcgan/1")).as_posix()
    'models/dcgan/1/assets/keras_gan.json'
    >>> sample_path_for("models/dcgan/1/model.onnx").name == SAMPLE_ONNX_NAME
    True
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "ASSETS_DIR",
    "ASSET_NAME",
    "CLASS_METADATA_KEYS",
    "FORMAT_VERSION",
    "METADATA_KEY",
    "METADATA_KEYS",
    "ONNX_NAME",
    "REQUIRED_METADATA_KEYS",
    "SAMPLE_ONNX_NAME",
    "SAMPLE_SUFFIX",
    "SAVED_MODEL_NAME",
    "SIGNATURES",
    "metadata_path",
    "sample_path_for",
]

#: The ``z -> images`` ONNX model inside a version directory.
ONNX_NAME = "model.onnx"
#: How the ``(n, seed) -> images`` ONNX model's name ends, beside its ``z -> images`` sibling.
SAMPLE_SUFFIX = ".sample.onnx"
#: The ``(n, seed) -> images`` ONNX model inside a version directory.
SAMPLE_ONNX_NAME = ONNX_NAME[: -len(".onnx")] + SAMPLE_SUFFIX
#: The SavedModel's graph file; its presence makes a directory a SavedModel.
SAVED_MODEL_NAME = "saved_model.pb"
#: The SavedModel's assets directory, which holds the metadata file.
ASSETS_DIR = "assets"
#: File name of the metadata JSON inside ``ASSETS_DIR``.
ASSET_NAME = "keras_gan.json"
#: Key of the metadata JSON string in an ONNX model's ``metadata_props``.
METADATA_KEY = "keras_gan"
#: Version of this layout and metadata, recorded as ``format_version``.
FORMAT_VERSION = 1
#: The keys of every export's metadata (callers may add more).
METADATA_KEYS = (
    "format_version",
    "model_kind",
    "latent_dim",
    "image_shape",
    "output_range",
    "dataset",
    "epochs",
    "keras_gan_version",
    "tensorflow_version",
    "keras_version",
    "latent_recipe",
    "evaluation",
    "sample_dtype",
    "signatures",
    "created",
)
#: The keys of a class-conditional export's metadata: an int, and a list of that many names.
#: Absent (or ``num_classes`` null) in an unconditional export.
CLASS_METADATA_KEYS = ("num_classes", "class_names")
#: The keys a reader of the metadata cannot do without.
REQUIRED_METADATA_KEYS = (
    "format_version",
    "model_kind",
    "latent_dim",
    "image_shape",
    "output_range",
)
#: The entry points of every export: SavedModel signatures, and what the two ONNX files hold.
SIGNATURES = ("serving_default", "sample")


def metadata_path(version_dir: str | os.PathLike) -> Path:
    """Where the metadata JSON of a version (or SavedModel) directory lives.

    Args:
        version_dir: a version directory (it need not exist).

    Returns:
        ``version_dir / "assets" / "keras_gan.json"``.

    Example:
        >>> metadata_path("models/g/2").as_posix()
        'models/g/2/assets/keras_gan.json'
    """
    return Path(version_dir) / ASSETS_DIR / ASSET_NAME


def sample_path_for(path: str | os.PathLike) -> Path:
    """The path of the ``sample`` model beside ``path``: ``<stem>.sample.onnx``.

    Args:
        path: the ``z -> images`` model's path.

    Returns:
        The sibling path.

    Example:
        >>> sample_path_for("out/model.onnx").as_posix()
        'out/model.sample.onnx'
    """
    path = Path(path)
    return path.with_name(path.stem + SAMPLE_SUFFIX)
