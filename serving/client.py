"""``Client``: a TF Serving REST client (standard library only) for exported generators.

The same calls work against ``keras-gan serve`` and a real TF Serving (``tensorflow/serving``)
serving the SavedModel of the same export: both speak TF Serving's REST API and the export has
the signatures ``serving_default`` (``z`` -> ``images``) and ``sample`` (``n``, ``seed`` ->
uint8 ``images``).

Example:
    >>> from keras_gan.serving import Client
    >>> client = Client("http://127.0.0.1:8501", "dcgan")
    >>> images = client.sample(16, seed=0)  # doctest: +SKIP
    >>> images.shape, images.dtype  # doctest: +SKIP
    ((16, 28, 28, 1), dtype('uint8'))
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import numpy as np

__all__ = ["Client", "ServingError"]


class ServingError(RuntimeError):
    """An error answer of the server (``{"error": ...}``) or a failed connection.

    Attributes:
        status: the HTTP status, or None when the server could not be reached.
        message: the server's ``error`` message (or the connection error).

    Example:
        >>> str(ServingError(404, "Servable not found for request: Latest(x)"))
        'HTTP 404: Servable not found for request: Latest(x)'
    """

    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}" if status is not None else message)
        self.status = status
        self.message = message


class Client:
    """REST client for one model of a TF Serving-compatible server.

    Args:
        url: the server, e.g. ``http://127.0.0.1:8501``.
        model: the model name.
        version: pin a version (``/versions/{v}``); None uses the served (latest) one.
        timeout: seconds per request.

    Example:
        >>> client = Client("http://127.0.0.1:8501", "dcgan")
        >>> client.status()[0]["state"]  # doctest: +SKIP
        'AVAILABLE'
    """

    def __init__(
        self, url: str, model: str, version: int | None = None, timeout: float = 60.0
    ) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"url must be http(s)://host:port. Received: url={url!r}")
        if not model or any(c in model for c in "/:?#%\\") or ".." in model:
            raise ValueError(f"Invalid model name {model!r}")
        self.url = url.rstrip("/")
        self.model = model
        self.version = version
        self.timeout = timeout
        self._latent_dim: int | None = None

    @property
    def model_url(self) -> str:
        """``{url}/v1/models/{model}[/versions/{version}]``."""
        base = f"{self.url}/v1/models/{self.model}"
        return base if self.version is None else f"{base}/versions/{int(self.version)}"

    def _request(self, url: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            url, data=data, headers={"Content-Type": "application/json"} if data else {}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as error:
            body = error.read()
            try:
                message = json.loads(body)["error"]
            except (ValueError, KeyError, TypeError):
                message = body.decode("utf-8", "replace")[:500]
            raise ServingError(error.code, message) from None
        except (urllib.error.URLError, OSError) as error:
            raise ServingError(None, f"Cannot reach {url}: {error}") from None
        return json.loads(body)

    def status(self) -> list[dict[str, Any]]:
        """``GET /v1/models/{model}``: the ``model_version_status`` list.

        Example:
            >>> client.status()[0]["state"]  # doctest: +SKIP
            'AVAILABLE'
        """
        return self._request(self.model_url)["model_version_status"]

    def metadata(self) -> dict[str, Any]:
        """``GET /v1/models/{model}/metadata``: ``model_spec`` and ``metadata``.

        Example:
            >>> client.metadata()["model_spec"]["version"]  # doctest: +SKIP
            '1'
        """
        return self._request(f"{self.model_url}/metadata")

    def wait_until_available(self, timeout: float = 30.0, interval: float = 0.2) -> str:
        """Poll the status until a version is ``AVAILABLE``; returns that version.

        Raises:
            ServingError: nothing became available within ``timeout`` seconds.

        Example:
            >>> client.wait_until_available(timeout=10)  # doctest: +SKIP
            '1'
        """
        deadline, last = time.monotonic() + timeout, None
        while True:
            try:
                for entry in self.status():
                    if entry.get("state") == "AVAILABLE":
                        return str(entry["version"])
            except ServingError as error:
                last = error
            if time.monotonic() >= deadline:
                raise ServingError(
                    getattr(last, "status", None),
                    f"{self.model_url} not available after {timeout} s"
                    + (f": {last.message}" if last else ""),
                )
            time.sleep(interval)

    @property
    def latent_dim(self) -> int:
        """``z``'s length, read once from the ``serving_default`` signature's metadata."""
        if self._latent_dim is None:
            signatures = self.metadata()["metadata"]["signature_def"]["signature_def"]
            dims = signatures["serving_default"]["inputs"]["z"]["tensor_shape"]["dim"]
            self._latent_dim = int(dims[1]["size"])
        return self._latent_dim

    def predict(self, payload: dict[str, Any]) -> dict[str, Any]:
        """``POST {model_url}:predict`` with a raw TF Serving request body; the raw answer.

        Example:
            >>> client.predict({"instances": [[0.0] * 100]})["predictions"]  # doctest: +SKIP
        """
        return self._request(f"{self.model_url}:predict", payload)

    def generate(self, z: np.ndarray, labels: Any = None, row_format: bool = False) -> np.ndarray:
        """Images for latent vectors (signature ``serving_default``).

        Args:
            z: ``(N, latent_dim)`` finite numbers.
            labels: for a class-conditional model, ``N`` class indices (one per row of ``z``);
                None for an unconditional model.
            row_format: send ``{"instances": ...}`` instead of the columnar ``{"inputs": ...}``.

        Returns:
            float32 array ``(N, *image_shape)`` in [-1, 1].

        Example:
            >>> client.generate(np.zeros((2, client.latent_dim))).shape  # doctest: +SKIP
            (2, 28, 28, 1)
            >>> client.generate(np.zeros((2, 4)), labels=[0, 7]).shape  # doctest: +SKIP
            (2, 28, 28, 1)
        """
        rows = np.asarray(z, np.float32).tolist()
        classes = None if labels is None else [int(label) for label in np.asarray(labels)]
        if row_format:
            if classes is None:
                instances: list[Any] = rows
            else:
                instances = [{"z": r, "labels": c} for r, c in zip(rows, classes, strict=True)]
            values = self.predict({"instances": instances})["predictions"]
        else:
            inputs: dict[str, Any] = {"z": rows}
            if classes is not None:
                inputs["labels"] = classes
            values = self.predict({"inputs": inputs})["outputs"]
        return np.asarray(values, np.float32)

    def sample(self, n: int, seed: int, label: int | str | None = None) -> np.ndarray:
        """``n`` samples for ``seed`` (signature ``sample``, columnar format).

        Args:
            n: number of samples.
            seed: signed 64-bit seed.
            label: for a class-conditional model, the class of every sample (a name or an
                index); None for an unconditional model.

        Returns:
            uint8 array ``(n, *image_shape)`` (float32 for flat outputs), equal to
            ``Sampler(path).sample(n, seed, label)`` of the same export.

        Example:
            >>> client.sample(4, seed=0).dtype  # doctest: +SKIP
            dtype('uint8')
            >>> client.sample(16, seed=0, label="sneaker").shape  # doctest: +SKIP
            (16, 28, 28, 1)
        """
        inputs: dict[str, Any] = {"n": int(n), "seed": int(seed)}
        if label is not None:
            inputs["label"] = label if isinstance(label, str) else int(label)
        values = self.predict({"signature_name": "sample", "inputs": inputs})
        array = np.asarray(values["outputs"])
        return array.astype(np.uint8) if array.dtype.kind in "iu" else array.astype(np.float32)
