"""Name registries for loss pairs, penalties and constraints: one mechanism for all three.

A class declares its ``name`` (and optional ``aliases``) as class attributes and is added to a
:class:`Registry` with the :meth:`Registry.register` decorator. Names are matched after
normalisation (case, surrounding spaces, ``-`` read as ``_``), and an unknown name is a
``ValueError`` that lists the known ones.

Example:
    >>> SHAPES = Registry("shape")
    >>> @SHAPES.register
    ... class Square:
    ...     name = "square"
    ...     aliases = ("box",)
    >>> SHAPES.get("Box").__name__, SHAPES.names()
    ('Square', ['box', 'square'])
"""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T", bound=type)


def normalize(name: str) -> str:
    """The registry key of a name: stripped, lower case, ``-`` as ``_``.

    Example:
        >>> normalize(" Non-Saturating ")
        'non_saturating'
    """
    return name.strip().lower().replace("-", "_")


class Registry(Generic[T]):
    """Classes by name (and alias) for one kind of object.

    Args:
        kind: what the registry holds, as the argument is called (``"loss"``, ``"penalty"``,
            ``"constraint"``); errors read ``Received: {kind}=...``.

    Example:
        >>> reg = Registry("penalty")
        >>> "r1" in reg
        False
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._classes: dict[str, T] = {}

    def register(self, cls: T) -> T:
        """Class decorator: register ``cls`` under ``cls.name`` and each of ``cls.aliases``.

        Raises:
            ValueError: the class has no name, or a name is taken by another class.

        Example:
            >>> reg = Registry("thing")
            >>> @reg.register
            ... class Thing:
            ...     name = "thing"
            >>> reg.get("thing") is Thing
            True
        """
        keys = [getattr(cls, "name", ""), *getattr(cls, "aliases", ())]
        if not keys[0]:
            raise ValueError(f"a registered {self.kind} needs a name. Received: {cls!r}")
        for key in map(normalize, keys):
            if self._classes.get(key, cls) is not cls:
                raise ValueError(
                    f"{self.kind} name {key!r} is taken by {self._classes[key].__name__}. "
                    f"Received: {cls.__name__}"
                )
            self._classes[key] = cls
        return cls

    def get(self, name: str) -> T:
        """The class registered under ``name`` (or an alias of it).

        Raises:
            ValueError: ``"unknown {kind} {name!r}; expected one of [...]. Received: ..."``.

        Example:
            >>> from keras_gan.losses.base import LOSSES
            >>> LOSSES.get("wgan").__name__
            'WassersteinLoss'
        """
        key = normalize(name)
        if key not in self._classes:
            raise ValueError(
                f"unknown {self.kind} {name!r}; expected one of {self.names()}. "
                f"Received: {self.kind}={name!r}"
            )
        return self._classes[key]

    def names(self) -> list[str]:
        """The registered names and aliases, sorted.

        Example:
            >>> from keras_gan.losses.penalties import PENALTIES
            >>> PENALTIES.names()
            ['gp', 'gradient_penalty', 'r1']
        """
        return sorted(self._classes)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and normalize(name) in self._classes

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, names={self.names()})"
