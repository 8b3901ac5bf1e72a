"""The classes of a class-conditional generator, and the one check of the labels asked for.

``ClassLabels`` turns what a user asks for (a class name, an index, or one index per row) into
the int32 labels a conditional generator takes, and refuses anything else with a message that
names the bad value and lists the classes. ``GAN.generate``, the loader behind ``keras-gan
evaluate``, the onnxruntime ``Sampler``, ``keras-gan sample`` and the REST server all check
labels here. numpy only.

Example:
    >>> classes = ClassLabels(3, ("top", "Sneaker", "bag"), source="cgan")
    >>> classes.index("sneaker"), classes.array(2, 3).tolist()
    (1, [2, 2, 2])
    >>> ClassLabels(None, None, source="gan").array(None, 3) is None
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["ClassLabels"]


def _shown(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class ClassLabels:
    """The classes of a generator (none for an unconditional one) and the label checks.

    Args:
        num_classes: the number of classes, or None for an unconditional generator.
        class_names: their names (compared without regard to case), or None: the indices
            then stand for themselves.
        source: what the generator is, for messages (a file, a model name).

    Example:
        >>> ClassLabels(2, None, source="g").describe()
        '0 0, 1 1'
    """

    def __init__(
        self,
        num_classes: int | None,
        class_names: Sequence[str] | None = None,
        source: str = "this generator",
    ) -> None:
        self.num_classes = None if num_classes is None else int(num_classes)
        if class_names is None and self.num_classes is not None:
            class_names = [str(index) for index in range(self.num_classes)]
        self.class_names = None if class_names is None else tuple(str(n) for n in class_names)
        self.source = str(source)
        names = self.class_names or ()
        self._by_name = {name.casefold(): index for index, name in enumerate(names)}

    @property
    def conditional(self) -> bool:
        """Whether the generator takes labels.

        Example:
            >>> ClassLabels(None).conditional
            False
        """
        return self.num_classes is not None

    def describe(self) -> str:
        """The classes as ``index name`` pairs, for messages: ``"0 top, 1 trouser, ..."``.

        Example:
            >>> ClassLabels(None).describe()
            'none (unconditional)'
        """
        if self.class_names is None:
            return "none (unconditional)"
        return ", ".join(f"{index} {name}" for index, name in enumerate(self.class_names))

    def _expected(self) -> str:
        return (
            f"a class name or an index in [0, {self.num_classes}); the classes are "
            f"{self.describe()}"
        )

    def index(self, label: int | str | None) -> int:
        """The class index of one ``label``: a class name (without regard to case) or an index
        in ``[0, num_classes)``; a string of digits that is no class name is an index.

        Raises:
            ValueError: ``label`` missing for a conditional generator, given to an
                unconditional one, naming no class or out of range; the message lists the
                classes.

        Example:
            >>> ClassLabels(3, ("top", "Sneaker", "bag")).index("7")
            Traceback (most recent call last):
                ...
            ValueError: Class index 7 is out of range: expected a class name or an index in [0, 3); the classes are 0 top, 1 Sneaker, 2 bag.
        """  # noqa: E501
        if not self.conditional:
            raise ValueError(
                f"{self.source} is an unconditional generator: it takes no label. "
                f"Received: label={_shown(label)}"
            )
        if label is None:
            raise ValueError(
                f"{self.source} is a class-conditional generator: pass a label, {self._expected()}."
            )
        if isinstance(label, str):
            found = self._by_name.get(label.strip().casefold())
            if found is not None:
                return found
            text = label.strip()
            if not (text.isascii() and text.isdigit()):
                raise ValueError(f"Unknown class {label!r}: expected {self._expected()}.")
            label = int(text)
        if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)):
            raise ValueError(f"label must be {self._expected()}. Received: label={_shown(label)}")
        if not 0 <= label < self.num_classes:  # type: ignore[operator]
            raise ValueError(
                f"Class index {int(label)} is out of range: expected {self._expected()}."
            )
        return int(label)

    def array(self, labels: Any, rows: int) -> np.ndarray | None:
        """The int32 labels of ``rows`` rows: one label (name or index) for all, or one per row.

        Args:
            labels: None (unconditional generators only), a class name or index for every
                row, or a sequence of ``rows`` class indices.
            rows: the number of rows.

        Returns:
            int32 array ``(rows,)``, or None for an unconditional generator.

        Raises:
            ValueError: labels missing, given to an unconditional generator, of the wrong
                length or type, or outside ``[0, num_classes)``; the message names the value
                and lists the classes.

        Example:
            >>> ClassLabels(3).array([0, 2], 2).tolist()
            [0, 2]
        """
        if not self.conditional:
            if labels is not None:
                raise ValueError(
                    f"{self.source} is an unconditional generator: it takes no labels. "
                    f"Received: labels={_shown(labels)}"
                )
            return None
        if labels is None or isinstance(labels, (str, int, np.integer)):
            return np.full((rows,), self.index(labels), np.int32)
        array = np.asarray(labels)
        if array.dtype.kind not in "iu" or array.shape != (rows,):
            raise ValueError(
                f"labels must be one class or {rows} integer class indices (one per row). "
                f"Received: labels={_shown(labels)} ({array.dtype} array of shape "
                f"{tuple(array.shape)})"
            )
        bad = (array < 0) | (array >= self.num_classes)
        if bad.any():
            raise ValueError(
                f"Class index {int(array[bad][0])} is out of range: expected indices in "
                f"[0, {self.num_classes}); the classes are {self.describe()}."
            )
        return array.astype(np.int32)
