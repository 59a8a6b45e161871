"""Registries of named plug-ins (metrics, systems, tables, backends).

Entries are ``"package.module:Attr"`` strings loaded lazily on first use, so
registering a plug-in imports nothing. Duplicate names are an error and an
unknown name raises :class:`UnknownName` with "did you mean" suggestions.
"""

from __future__ import annotations

import importlib
from typing import Any, Generic, Iterator, TypeVar

from ttsf.names import UnknownName

T = TypeVar("T")


def load_object(target: str) -> Any:
    """Import ``"package.module:Attr"`` and return ``Attr``."""
    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        raise ValueError(f"plug-in target must look like 'package.module:Attr', got {target!r}")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


class Registry(Generic[T]):
    """Name → lazily imported object."""

    def __init__(self, kind: str):
        self.kind = kind
        self._targets: dict[str, str] = {}
        self._loaded: dict[str, T] = {}

    def register(self, name: str, target: str) -> None:
        if name in self._targets:
            raise ValueError(f"duplicate {self.kind} name {name!r} ({self._targets[name]} and {target})")
        self._targets[name] = target

    def get(self, name: str) -> T:
        if name not in self._targets:
            raise UnknownName(self.kind, name, list(self._targets))
        if name not in self._loaded:
            self._loaded[name] = load_object(self._targets[name])
        return self._loaded[name]

    def target(self, name: str) -> str:
        if name not in self._targets:
            raise UnknownName(self.kind, name, list(self._targets))
        return self._targets[name]

    def names(self) -> list[str]:
        return sorted(self._targets)

    def __contains__(self, name: object) -> bool:
        return name in self._targets

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
