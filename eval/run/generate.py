"""Generation stage: run a system on each item, cached by content key.

Outputs go to ``<run>/samples/<system>/<id>.{mp4,wav}`` beside a sidecar
``<id>.gen.json`` holding the content key (system config + item + input file hashes +
seed + code version) and the files' sizes. A rerun with the same key reuses the files;
a different key regenerates them. Failures are returned, not cached, so they are
retried on the next run.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import Optional

from eval.cache import FileHasher, content_key, read_json
from eval.systems.base import Context, GenerationError, Output, System
from ttsf.atomic import atomic_write_json
from ttsf.data.manifest import Item, ManifestError, resolve

log = logging.getLogger(__name__)


@dataclasses.dataclass
class GenRecord:
    """The outcome of generating one item: output paths, or an error with its reason."""

    id: str
    video: Optional[Path] = None
    audio: Optional[Path] = None
    error: Optional[str] = None  # error code
    reason: Optional[str] = None
    cached: bool = False
    seconds: float = 0.0  # time spent inside the system (0 when cached)

    @property
    def ok(self) -> bool:
        return self.error is None


def input_hashes(item: Item, root: Path, hasher: FileHasher) -> dict[str, Optional[str]]:
    """sha256 of every file the item names (``None`` for a file that is missing)."""
    out: dict[str, Optional[str]] = {}
    for role, rel in sorted(item.paths().items()):
        try:
            path = resolve(root, rel, f"item {item.id} {role}")
            out[role] = hasher(path) if path.is_file() else None
        except (ManifestError, OSError):
            out[role] = None
    return out


def generation_key(system: System, item: Item, hashes: dict, seed: int) -> str:
    return content_key("generate", system.config(), item.to_json(), hashes, int(seed))


def _sidecar(out_dir: Path, item: Item) -> Path:
    return out_dir / f"{item.id}.gen.json"


def _reuse(out_dir: Path, item: Item, key: str) -> Optional[GenRecord]:
    meta = read_json(_sidecar(out_dir, item))
    if not meta or meta.get("key") != key:
        return None
    rec = GenRecord(item.id, cached=True)
    for role in ("video", "audio"):
        entry = meta.get(role)
        if entry is None:
            continue
        path = out_dir / entry["file"]
        if not path.is_file() or path.stat().st_size != entry["size"]:
            return None
        setattr(rec, role, path)
    return rec


def generate_item(system: System, item: Item, ctx: Context, hasher: FileHasher) -> GenRecord:
    """Generate (or reuse) one item's outputs; never raises for a per-item failure."""
    if system.passthrough:
        start = time.perf_counter()
        try:
            out = system.generate(item, ctx)
        except GenerationError as exc:
            return GenRecord(item.id, error=exc.code, reason=exc.reason)
        return GenRecord(item.id, video=out.video, audio=out.audio, seconds=time.perf_counter() - start)
    key = generation_key(system, item, input_hashes(item, ctx.data_root, hasher), ctx.seed)
    reused = _reuse(ctx.out_dir, item, key)
    if reused is not None:
        log.debug("%s/%s: reusing generated outputs", system.name, item.id)
        return reused
    start = time.perf_counter()
    try:
        out: Output = system.generate(item, ctx)
    except GenerationError as exc:
        return GenRecord(item.id, error=exc.code, reason=exc.reason, seconds=time.perf_counter() - start)
    except Exception as exc:  # a system bug must not stop the run: recorded per item with its type
        log.exception("%s failed on %s", system.name, item.id)
        return GenRecord(item.id, error="exception", reason=f"{type(exc).__name__}: {exc}",
                         seconds=time.perf_counter() - start)
    seconds = time.perf_counter() - start
    meta: dict = {"key": key, "system": system.name, "id": item.id}
    for role in ("video", "audio"):
        path = getattr(out, role)
        if path is not None:
            path = Path(path)
            meta[role] = {"file": str(path.relative_to(ctx.out_dir)), "size": path.stat().st_size}
    if out.video is None and out.audio is None:
        return GenRecord(item.id, error="missing_output", reason=f"{system.name} produced no output", seconds=seconds)
    atomic_write_json(_sidecar(ctx.out_dir, item), meta)
    return GenRecord(item.id, video=out.video, audio=out.audio, seconds=seconds)
