"""JSONL manifests: one item per line, sorted by ``id``, paths relative to a data root.

Item schema (all keys present; ``null`` where unknown)::

    {"id": str, "dataset": str, "speaker": str|null,
     "text": str|null, "text_source": str|null,      # one of the two is set
     "source": {"path": str, "frame": int},           # the one-shot source image
     "ref_video": str|null, "ref_audio": str|null,
     "duration": float|null,
     "meta": {...}}                                   # optional, free-form

Every path is relative to the dataset's root; absolute paths, ``..`` components and
symlinks that resolve outside the root are refused (:class:`ManifestError`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path, PurePosixPath
from typing import Any, Iterable, Iterator, Optional, Union

from ttsf.atomic import atomic_write_bytes

PathLike = Union[str, os.PathLike]

REQUIRED = ("id", "dataset", "speaker", "text", "text_source", "source", "ref_video", "ref_audio", "duration")
OPTIONAL = ("meta",)
#: Longest text accepted, in characters.
MAX_TEXT_CHARS = 2000


class ManifestError(ValueError):
    """A manifest (or one of its items) that breaks the schema or path rules."""


@dataclasses.dataclass(frozen=True)
class Source:
    path: str
    frame: int = 0


@dataclasses.dataclass(frozen=True)
class Item:
    id: str
    dataset: str
    speaker: Optional[str]
    text: Optional[str]
    text_source: Optional[str]
    source: Source
    ref_video: Optional[str]
    ref_audio: Optional[str]
    duration: Optional[float]
    meta: dict = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        if not d["meta"]:
            del d["meta"]
        return d

    def paths(self) -> dict[str, str]:
        """Every media/text path the item names, by role."""
        out = {"source": self.source.path}
        for role in ("ref_video", "ref_audio", "text_source"):
            value = getattr(self, role)
            if value is not None:
                out[role] = value
        return out


def check_relpath(value: Any, what: str) -> str:
    """Validate a manifest path: relative, POSIX, no ``..``, no empty parts."""
    if not isinstance(value, str) or not value:
        raise ManifestError(f"{what}: path must be a non-empty string, got {value!r}")
    if "\\" in value or "\x00" in value:
        raise ManifestError(f"{what}: path {value!r} has a backslash or NUL")
    p = PurePosixPath(value)
    if p.is_absolute() or value.startswith("~"):
        raise ManifestError(f"{what}: absolute path {value!r} refused (paths are relative to the data root)")
    if any(part == ".." for part in p.parts):
        raise ManifestError(f"{what}: path {value!r} escapes the data root ('..')")
    return value


def resolve(root: PathLike, relpath: str, what: str = "path") -> Path:
    """Join ``relpath`` to ``root`` and refuse anything (symlinks included) that leaves it."""
    check_relpath(relpath, what)
    root_real = Path(root).resolve()
    target = (root_real / relpath).resolve()
    if target != root_real and root_real not in target.parents:
        raise ManifestError(f"{what}: {relpath!r} resolves to {target}, outside the data root {root_real}")
    return target


def _item_from_json(obj: Any, where: str) -> Item:
    if not isinstance(obj, dict):
        raise ManifestError(f"{where}: item must be a JSON object")
    missing = [k for k in REQUIRED if k not in obj]
    if missing:
        raise ManifestError(f"{where}: missing keys {missing}")
    extra = sorted(set(obj) - set(REQUIRED) - set(OPTIONAL))
    if extra:
        raise ManifestError(f"{where}: unknown keys {extra}")
    if not isinstance(obj["id"], str) or not obj["id"] or obj["id"].strip() != obj["id"]:
        raise ManifestError(f"{where}: id must be a non-empty string without surrounding spaces")
    check_relpath(obj["id"], f"{where} id")
    if not isinstance(obj["dataset"], str) or not obj["dataset"]:
        raise ManifestError(f"{where}: dataset must be a non-empty string")
    if obj["speaker"] is not None and not isinstance(obj["speaker"], str):
        raise ManifestError(f"{where}: speaker must be a string or null")
    text, text_source = obj["text"], obj["text_source"]
    if text is None and text_source is None:
        raise ManifestError(f"{where}: one of text / text_source is required")
    if text is not None:
        if not isinstance(text, str) or not text.strip():
            raise ManifestError(f"{where}: text must be a non-empty string")
        if len(text) > MAX_TEXT_CHARS:
            raise ManifestError(f"{where}: text longer than {MAX_TEXT_CHARS} characters")
    if text_source is not None:
        check_relpath(text_source, f"{where} text_source")
    src = obj["source"]
    if not isinstance(src, dict) or set(src) != {"path", "frame"}:
        raise ManifestError(f"{where}: source must be {{'path': str, 'frame': int}}")
    if not isinstance(src["frame"], int) or isinstance(src["frame"], bool) or src["frame"] < 0:
        raise ManifestError(f"{where}: source.frame must be a non-negative integer")
    check_relpath(src["path"], f"{where} source.path")
    for role in ("ref_video", "ref_audio"):
        if obj[role] is not None:
            check_relpath(obj[role], f"{where} {role}")
    duration = obj["duration"]
    if duration is not None:
        if isinstance(duration, bool) or not isinstance(duration, (int, float)) or not (0 < duration < 3600):
            raise ManifestError(f"{where}: duration must be null or a number of seconds in (0, 3600)")
        duration = float(duration)
    meta = obj.get("meta", {})
    if not isinstance(meta, dict):
        raise ManifestError(f"{where}: meta must be an object")
    return Item(
        id=obj["id"], dataset=obj["dataset"], speaker=obj["speaker"], text=text, text_source=text_source,
        source=Source(src["path"], src["frame"]), ref_video=obj["ref_video"], ref_audio=obj["ref_audio"],
        duration=duration, meta=meta,
    )


def item_from_dict(obj: dict) -> Item:
    """Build and validate one item from a dict (raises :class:`ManifestError`)."""
    return _item_from_json(obj, f"item {obj.get('id', '?')!r}" if isinstance(obj, dict) else "item")


def dumps_item(item: Item) -> str:
    return json.dumps(item.to_json(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@dataclasses.dataclass(frozen=True)
class Manifest:
    """A validated manifest: items sorted by id, plus the file's sha256."""

    name: str
    items: tuple[Item, ...]
    sha256: str
    path: Optional[Path] = None

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)

    def ids(self) -> list[str]:
        return [it.id for it in self.items]

    def by_id(self) -> dict[str, Item]:
        return {it.id: it for it in self.items}


def parse_manifest(data: bytes, name: str = "manifest", path: Optional[Path] = None) -> Manifest:
    """Validate JSONL bytes: UTF-8, one object per line, unique ids sorted ascending."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError(f"{name}: not UTF-8 ({exc})") from exc
    items = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ManifestError(f"{name} line {lineno}: invalid JSON ({exc.msg})") from exc
        items.append(_item_from_json(obj, f"{name} line {lineno}"))
    ids = [it.id for it in items]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})[:5]
        raise ManifestError(f"{name}: duplicate ids {dup}")
    if ids != sorted(ids):
        raise ManifestError(f"{name}: items are not sorted by id")
    return Manifest(name, tuple(items), hashlib.sha256(data).hexdigest(), path)


def load_manifest(path: PathLike, name: Optional[str] = None) -> Manifest:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ManifestError(f"cannot read manifest {path}: {exc}") from exc
    return parse_manifest(data, name or path.stem, path)


def manifest_bytes(items: Iterable[Item]) -> bytes:
    ordered = sorted(items, key=lambda it: it.id)
    ids = [it.id for it in ordered]
    if len(set(ids)) != len(ids):
        raise ManifestError("duplicate ids in manifest")
    return "".join(dumps_item(it) + "\n" for it in ordered).encode("utf-8")


def write_manifest(path: PathLike, items: Iterable[Item]) -> str:
    """Write items sorted by id as canonical JSONL, atomically; return its sha256."""
    path = Path(path)
    data = manifest_bytes(items)
    parse_manifest(data, path.stem)  # never write what we could not read back
    atomic_write_bytes(path, data)
    return hashlib.sha256(data).hexdigest()


def read_text(item: Item, root: PathLike) -> str:
    """The item's transcript: ``text`` or the dataset's ``.txt`` (LRS ``Text:`` line).

    Raises :class:`ManifestError` on a missing file, non-UTF-8 bytes or empty text.
    """
    if item.text is not None:
        return item.text
    path = resolve(root, item.text_source, f"item {item.id} text_source")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ManifestError(f"item {item.id}: cannot read transcript {item.text_source}: "
                            f"{exc.strerror or exc}") from exc
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError(f"item {item.id}: transcript {item.text_source} is not UTF-8 "
                            f"({exc.reason} at byte {exc.start})") from exc
    text = parse_lrs_text(content)
    if not text:
        raise ManifestError(f"item {item.id}: transcript {item.text_source} is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise ManifestError(f"item {item.id}: transcript longer than {MAX_TEXT_CHARS} characters")
    return text


def parse_lrs_text(content: str) -> str:
    """Transcript from an LRS2/LRS3 ``.txt`` (the ``Text:`` line) or plain text."""
    for line in content.splitlines():
        if line.startswith("Text:"):
            return line[len("Text:"):].strip()
    return content.strip()
