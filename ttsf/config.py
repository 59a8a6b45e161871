"""Frozen-dataclass configs from mappings and YAML: the one way every config is read.

- :func:`from_dict` builds a dataclass from a mapping, recursing into fields whose type is
  itself a dataclass; an unknown key is an error that names the valid ones and suggests the
  closest ("did you mean").
- :func:`read_yaml` reads a YAML mapping; ``base: other.yaml`` (relative to the file) is
  deep-merged underneath, so an experiment file states only what it changes.
- :func:`parse_overrides` / :func:`apply_overrides`: ``--set section.key=value`` pairs
  (values parsed as YAML) written into the raw mapping before it is validated.

Used by the model configs (:class:`ttsf.face.config.FaceConfig`, ...) and by the loader of
the three training stages (:func:`ttsf.train.config.load_stage_config`).
"""

from __future__ import annotations

import dataclasses
import difflib
import typing
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, TypeVar

T = TypeVar("T")

#: How many ``base:`` files may be chained.
MAX_BASE_DEPTH = 5


def unknown_keys_error(what: str, unknown: Iterable[str], known: Iterable[str]) -> ValueError:
    """``ValueError("unknown <what> [...] (did you mean ...); known [...]")``."""
    unknown, known = sorted(unknown), sorted(known)
    hints = []
    for key in unknown:
        close = difflib.get_close_matches(key, known, n=1)
        if close:
            hints.append(f"{key!r} -> {close[0]!r}")
    hint = f" (did you mean {', '.join(hints)}?)" if hints else ""
    return ValueError(f"unknown {what} {unknown}{hint}; known {known}")


def _field_types(cls) -> dict:
    try:
        return typing.get_type_hints(cls)
    except (NameError, TypeError):  # an annotation that cannot be resolved: no recursion for it
        return {}


def from_dict(cls: type[T], data: Mapping[str, Any], what: Optional[str] = None) -> T:
    """``cls(**data)`` for a dataclass ``cls``, after refusing keys that are not its fields.

    A field whose annotated type is a dataclass and whose value is a mapping is built by
    :func:`from_dict` too (its errors name the field). ``what`` names the keys in the error
    message (default ``"<ClassName> keys"``).
    """
    if not isinstance(data, Mapping):
        raise ValueError(f"{what or cls.__name__}: expected a mapping, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(data) - set(fields)
    if unknown:
        raise unknown_keys_error(what or f"{cls.__name__} keys", unknown, fields)
    types = _field_types(cls)
    values = {}
    for key, value in data.items():
        sub = types.get(key)
        if isinstance(sub, type) and dataclasses.is_dataclass(sub) and isinstance(value, Mapping):
            value = from_dict(sub, value, f"{key} keys")
        values[key] = value
    return cls(**values)


class DictConfig:
    """Mixin for frozen config dataclasses: ``cls.from_dict(d)`` (:func:`from_dict`) and
    ``obj.to_dict()`` (:func:`dataclasses.asdict`)."""

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]):
        return from_dict(cls, d)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def deep_merge(base: Mapping, over: Mapping) -> dict:
    """``over`` on top of ``base``; mappings present in both are merged key by key."""
    out = dict(base)
    for k, v in over.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, Mapping) and isinstance(out.get(k), Mapping) else v
    return out


def read_yaml(path, depth: int = 0) -> dict:
    """A YAML mapping; ``base: other.yaml`` (relative to the file) is deep-merged underneath."""
    import yaml

    path = Path(path)
    if depth > MAX_BASE_DEPTH:
        raise ValueError(f"{path}: 'base:' chain too deep")
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping")
    base = data.pop("base", None)
    if base is None:
        return data
    return deep_merge(read_yaml((path.parent / base).resolve(), depth + 1), data)


def parse_overrides(pairs: Iterable[str]) -> dict:
    """``["train.steps=10", ...]`` -> ``{"train.steps": 10}`` (values parsed as YAML)."""
    import yaml

    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"--set expects section.key=value, got {pair!r}")
        out[key] = yaml.safe_load(value)
    return out


def apply_overrides(data: Mapping[str, Any], overrides: Optional[Mapping[str, Any]],
                    sections: Iterable[str]) -> dict:
    """``data`` with every ``{"section.key[.subkey...]": value}`` written in (a copy; the
    mappings on the way are created when absent). ``section`` must be one of ``sections``."""
    sections = tuple(sections)
    out = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in data.items()}
    for key, value in (overrides or {}).items():
        parts = key.split(".")
        if len(parts) < 2 or parts[0] not in sections:
            raise ValueError(f"override {key!r} must look like section.key (sections: {', '.join(sections)})")
        node = out
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = {}
            elif not isinstance(child, Mapping):
                raise ValueError(f"override {key!r}: {part!r} is not a mapping")
            node[part] = child = dict(child)
            node = child
        node[parts[-1]] = value
    return out
