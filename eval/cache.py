"""Content keys and metric-state checkpoints for resumable runs.

A *content key* is the sha256 of a canonical JSON description of everything that
determines a result: input file hashes, configuration, seed and the code version of
the component (a system's or metric's declared ``version`` plus :data:`CACHE_VERSION`).
Equal keys mean "the same computation"; anything else is recomputed.

Metric states (``Metric.state()``: dicts of numpy arrays, numbers, strings and lists)
are stored without pickle: a JSON header for the structure plus the raw bytes of the
numeric arrays, so a cache file can never execute code when loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Mapping, Optional, Union

import numpy as np

from ttsf.atomic import atomic_save, json_default

PathLike = Union[str, os.PathLike]

#: Bump when the harness changes how cached generations or scores are produced.
CACHE_VERSION = "1"

_ARRAY_TAG = "__ndarray__"


# ----------------------------------------------------------------------------- keys


def canonical_json(obj: Any) -> str:
    """Sorted-key, compact JSON (the input of :func:`content_key`)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=json_default)


def content_key(*parts: Any) -> str:
    """sha256 hex digest of the canonical JSON of ``parts`` plus :data:`CACHE_VERSION`."""
    return hashlib.sha256(canonical_json([CACHE_VERSION, *parts]).encode("utf-8")).hexdigest()


class FileHasher:
    """sha256 of files, memoised by ``(path, device, inode, size, mtime_ns, ctime_ns)`` within
    one process: a file rewritten in place whose mtime was restored still changes its ctime."""

    def __init__(self) -> None:
        self._memo: dict[tuple, str] = {}

    def __call__(self, path: PathLike) -> str:
        p = Path(path)
        st = p.stat()
        memo_key = (str(p.resolve()), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        digest = self._memo.get(memo_key)
        if digest is None:
            h = hashlib.sha256()
            with open(p, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
            digest = h.hexdigest()
            self._memo[memo_key] = digest
        return digest


# ----------------------------------------------------------------------------- reading


def read_json(path: PathLike) -> Optional[Any]:
    """JSON content of ``path``, or ``None`` when it is absent or unreadable (a torn write)."""
    try:
        return json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError):
        return None


# ----------------------------------------------------------------------------- metric state


def _split_arrays(obj: Any, arrays: dict[str, np.ndarray], prefix: str) -> Any:
    """Replace numpy arrays in ``obj`` by tags; collect them in ``arrays``."""
    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            raise TypeError(f"object arrays cannot be stored in a state checkpoint ({prefix})")
        name = f"a{len(arrays)}"
        arrays[name] = obj
        return {_ARRAY_TAG: name}
    if isinstance(obj, Mapping):
        if not all(isinstance(k, str) for k in obj):
            raise TypeError(f"state keys must be strings ({prefix})")
        return {k: _split_arrays(v, arrays, f"{prefix}.{k}") for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_split_arrays(v, arrays, f"{prefix}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    try:  # torch tensors: stored as numpy
        import torch

        if isinstance(obj, torch.Tensor):
            return _split_arrays(obj.detach().cpu().numpy(), arrays, prefix)
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    raise TypeError(f"cannot store {type(obj).__name__} in a state checkpoint ({prefix})")


def _join_arrays(obj: Any, arrays: Mapping[str, np.ndarray]) -> Any:
    if isinstance(obj, dict):
        if set(obj) == {_ARRAY_TAG}:
            return arrays[obj[_ARRAY_TAG]]
        return {k: _join_arrays(v, arrays) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_join_arrays(v, arrays) for v in obj]
    return obj


_MAGIC = b"TTSFSTATE1\n"


def _layout(state: Any) -> tuple[bytes, list[np.ndarray]]:
    arrays: dict[str, np.ndarray] = {}
    skeleton = _split_arrays(state, arrays, "state")
    ordered = [np.ascontiguousarray(a) for a in arrays.values()]
    table, offset = [], 0
    for name, arr in zip(arrays, ordered):
        if arr.dtype.kind not in "biufc":
            raise TypeError(f"state array {name} has unsupported dtype {arr.dtype}")
        table.append({"name": name, "dtype": arr.dtype.str, "shape": list(arr.shape), "offset": offset,
                      "nbytes": arr.nbytes})
        offset += arr.nbytes
    header = json.dumps({"skeleton": skeleton, "arrays": table}, sort_keys=True, allow_nan=True).encode("utf-8")
    return _MAGIC + len(header).to_bytes(8, "little") + header, ordered


def encode_state(state: Any) -> bytes:
    """Serialise a metric state (and any JSON-able payload) to bytes, without pickle.

    Layout: magic, 8-byte header length, JSON header (the structure with arrays replaced
    by references, and each array's dtype/shape/offset), then the raw array bytes.
    """
    head, arrays = _layout(state)
    return head + b"".join(a.tobytes() for a in arrays)


def decode_state(data: bytes) -> Any:
    if not data.startswith(_MAGIC):
        raise ValueError("not a ttsf-bench state file")
    pos = len(_MAGIC)
    size = int.from_bytes(data[pos:pos + 8], "little")
    header = json.loads(data[pos + 8:pos + 8 + size])
    base = pos + 8 + size
    arrays = {}
    for a in header["arrays"]:
        dtype = np.dtype(a["dtype"])
        if dtype.kind not in "biufc":
            raise ValueError(f"unsupported dtype {dtype} in state file")
        start, stop = base + a["offset"], base + a["offset"] + a["nbytes"]
        if stop > len(data):
            raise ValueError("truncated state file")
        arrays[a["name"]] = np.frombuffer(data[start:stop], dtype=dtype).reshape(a["shape"]).copy()
    return _join_arrays(header["skeleton"], arrays)


def save_state(path: PathLike, state: Any) -> Path:
    """Write a state file atomically (arrays are written from memory without extra copies)."""
    path = Path(path)
    head, arrays = _layout(state)

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            f.write(head)
            for a in arrays:
                f.write(memoryview(a).cast("B") if a.size else b"")

    return atomic_save(path, write)


def load_state(path: PathLike) -> Optional[Any]:
    """A checkpoint written by :func:`save_state`, or ``None`` if absent or torn."""
    try:
        return decode_state(Path(path).read_bytes())
    except (OSError, ValueError, KeyError):
        return None
