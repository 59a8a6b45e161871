"""Atomic file writes: the one way this project writes a file that a reader, a resumed run or
a cache may look at.

Everything goes to a temporary file beside the target (same folder, so the rename never
crosses a file system) and is renamed over the target with ``os.replace`` once complete:
a reader sees the old file or the new one, never a torn one. On any failure (an error, a
full disk, a folder in the way, Ctrl-C) the temporary file is removed. No fsync unless asked:
``os.replace`` is atomic against a killed process (the case resume handles); durability
across power loss is not worth its cost per checkpoint.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
from pathlib import Path
from typing import IO, Any, Callable, Iterator, Optional, Union

import numpy as np

PathLike = Union[str, os.PathLike]

_serial = itertools.count()  # temp names unique across threads of one process


def json_default(obj: Any) -> Any:
    """JSON for the values results hold besides plain types: paths, numpy scalars, sets, tuples."""
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    raise TypeError(f"not JSON-serialisable: {type(obj).__name__}")


def _remove(tmp: Path) -> None:
    if tmp.is_dir() and not tmp.is_symlink():
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_path(path: PathLike, suffix: str = "") -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; renamed over ``path`` when the block ends
    normally, removed (file or folder) when it raises.

    ``suffix`` ends the temporary name, for writers that choose the format by extension
    (``".mp4"``, ``".png"``, ``".npz"``). The parent folder is created.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}.{next(_serial)}{suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise


@contextlib.contextmanager
def atomic_open(path: PathLike, mode: str = "wb", *, fsync: bool = False,
                encoding: Optional[str] = None) -> Iterator[IO]:
    """An open temporary file for ``path`` (see :func:`atomic_path`); ``fsync`` flushes it to disk
    before the rename."""
    with atomic_path(path) as tmp:
        with open(tmp, mode, encoding=encoding) as handle:
            yield handle
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())


def atomic_write_bytes(path: PathLike, data: bytes, *, fsync: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically; return ``path``."""
    with atomic_open(path, "wb", fsync=fsync) as handle:
        handle.write(data)
    return Path(path)


def atomic_write_text(path: PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; return ``path``."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: PathLike, obj: Any) -> Path:
    """``obj`` as indented, key-sorted UTF-8 JSON with a final newline, written atomically."""
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False,
                                              default=json_default) + "\n")


def atomic_save(path: PathLike, save: Callable[[Path], Any], suffix: str = "") -> Path:
    """``save(tmp)`` (``torch.save``, ``np.savez``, an encoder) to a temporary path, then rename it
    over ``path``; return ``path``."""
    with atomic_path(path, suffix) as tmp:
        save(tmp)
    return Path(path)
