"""Content hashes used for provenance (weights, splits, corpora, checkpoints)."""

from __future__ import annotations

import hashlib
import os
from typing import Union


def sha256_file(path: Union[str, os.PathLike]) -> str:
    """sha256 hex digest of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
