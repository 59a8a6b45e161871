"""Locate a weights file through :mod:`ttsf.weights` and hash it once per process."""

from __future__ import annotations

import functools
from pathlib import Path

from ttsf.hashing import sha256_file


def locate(name: str) -> Path:
    """Path of the registered weights file ``name``; raises
    :class:`~ttsf.weights.errors.MissingWeights` (file, sha256, source, destination)."""
    from ttsf import weights

    return Path(weights.locate(name))


@functools.lru_cache(maxsize=None)
def file_sha256(path: Path) -> str:
    """sha256 hex digest of a file (cached per path for the process)."""
    return sha256_file(path)


def load_state_dict(path: Path) -> dict:
    """A checkpoint's state dict, loaded with ``weights_only=True``.

    Accepts a bare state dict or ``{"state_dict": ...}`` / ``{"model": ...}`` wrappers.
    """
    import torch

    state = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and key in state and isinstance(state[key], dict):
            state = state[key]
    return state
