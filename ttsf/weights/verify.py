"""Verify weights files against their pinned sha256 (or their format's leading bytes).

A hash is computed once per file and remembered in ``<root>/.verified.json`` with the
file's ``(size, mtime_ns, inode, device, ctime_ns)``; it is reused only when all of them
match, so multi-GB files are not re-hashed on every run, while a file rewritten in place
(even with its mtime restored: the ctime still moves) is hashed again.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import sys
import threading
from pathlib import Path
from typing import Optional

from ttsf.atomic import atomic_write_text
from ttsf.hashing import sha256_file
from ttsf.weights.entries import FileSpec
from ttsf.weights.errors import CorruptWeights

log = logging.getLogger(__name__)

DEFAULT_ROOT = "~/.cache/ttsf-bench/weights"
_CACHE_NAME = ".verified.json"
_lock = threading.Lock()
_memory_cache: dict[str, dict] = {}


def weights_root() -> Path:
    """``$TTSF_WEIGHTS`` or ``~/.cache/ttsf-bench/weights`` (not created here)."""
    return Path(os.environ.get("TTSF_WEIGHTS") or DEFAULT_ROOT).expanduser()


def package_dir(package: str) -> Optional[Path]:
    """Folder of an installed package without importing it (``"sys.prefix"`` -> sys.prefix)."""
    if package == "sys.prefix":
        return Path(sys.prefix)
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _cache_file() -> Path:
    return weights_root() / _CACHE_NAME


def _load_cache() -> dict:
    path = _cache_file()
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable weights hash cache %s: %s", path, exc)
        return {}


def _save_cache(cache: dict) -> None:
    path = _cache_file()
    try:
        atomic_write_text(path, json.dumps(cache, indent=1, sort_keys=True))
    except OSError as exc:  # read-only weights root: keep the in-process cache only
        log.debug("cannot write weights hash cache %s: %s", path, exc)


def _identity(stat: os.stat_result) -> dict:
    """What must not have changed for a remembered hash to be reused."""
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "ino": stat.st_ino, "dev": stat.st_dev,
            "ctime_ns": stat.st_ctime_ns}


def file_sha256(path: Path, *, use_cache: bool = True) -> str:
    """sha256 of ``path``, memoised on disk by ``(resolved path, size, mtime, inode, device, ctime)``."""
    path = Path(path).resolve()
    stat = path.stat()
    key = str(path)
    with _lock:
        if use_cache:
            hit = _memory_cache.get(key) or _load_cache().get(key)
            if isinstance(hit, dict) and all(hit.get(k) == v for k, v in _identity(stat).items()):
                _memory_cache[key] = hit
                return hit["sha256"]
        digest = sha256_file(path)
        record = {**_identity(stat), "sha256": digest}
        _memory_cache[key] = record
        cache = _load_cache()
        cache[key] = record
        _save_cache(cache)
    return digest


#: leading bytes of the formats weights come in (checked for files without a pinned sha256)
_TORCH_MAGIC = (b"PK\x03\x04",  # torch.save zip format (and TorchScript)
                b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19")  # legacy torch.save: the pickled magic number
_MAGIC = {".pt": _TORCH_MAGIC, ".pth": _TORCH_MAGIC, ".ckpt": _TORCH_MAGIC, ".model": _TORCH_MAGIC,
          ".pkl": _TORCH_MAGIC, ".ts": _TORCH_MAGIC[:1], ".h5": (b"\x89HDF\r\n\x1a\n",),
          ".onnx": (b"\x08",)}  # ONNX ModelProto starts with field 1 (ir_version), a varint


def sniff(path: Path) -> Optional[str]:
    """Why ``path`` is not in the format its suffix promises (``None`` when it is, or unknown).

    A plain pickle named ``*.pt`` (which ``torch.load(weights_only=True)`` would refuse
    anyway) is reported here, before any loader sees it.
    """
    magics = _MAGIC.get(Path(path).suffix.lower())
    if magics is None:
        return None
    with open(path, "rb") as handle:
        head = handle.read(max(len(m) for m in magics))
    if any(head.startswith(m) for m in magics):
        return None
    kind = "a plain Python pickle" if head[:1] == b"\x80" else "not in the expected format"
    return f"{path} is {kind} (starts with {head[:8].hex()}), not a {Path(path).suffix} weights file"


def check_file(path: Path, spec: FileSpec, *, use_cache: bool = True) -> str:
    """Verify ``path`` against ``spec``; return its sha256 or raise :class:`CorruptWeights`.

    Pinned files are checked by size and sha256; unpinned ones by their format's leading
    bytes (:func:`sniff`).
    """
    if spec.size is not None and path.stat().st_size != spec.size:
        raise CorruptWeights(
            f"{path} has {path.stat().st_size} bytes, expected {spec.size} for {spec.filename} "
            "(truncated or a different file): delete it and fetch it again"
        )
    if spec.sha256 is None:
        problem = sniff(path)
        if problem:
            raise CorruptWeights(f"{problem}: delete it and fetch the official file")
    digest = file_sha256(path, use_cache=use_cache)
    if spec.sha256 is not None and digest != spec.sha256:
        raise CorruptWeights(
            f"{path} has sha256 {digest}, expected {spec.sha256} for {spec.filename}: "
            "corrupt or a different version; delete it and fetch it again"
        )
    if spec.sha256 is None and spec.sha256_prefix and not digest.startswith(spec.sha256_prefix):
        raise CorruptWeights(
            f"{path} has sha256 {digest}, which does not start with the published prefix "
            f"{spec.sha256_prefix} of {spec.filename}: a different file"
        )
    return digest
