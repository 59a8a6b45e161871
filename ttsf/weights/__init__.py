"""Weights registry: every pretrained file a backend needs, pinned by sha256.

``locate(name)`` finds and verifies a file (raising
:class:`~ttsf.weights.errors.MissingWeights` with the file name, sha256, URL, destination
path and download command when it is absent); ``download(name)`` fetches it atomically
and resumably. CLI: ``python -m eval.weights list | where NAME | download NAME | verify``.
"""

from __future__ import annotations

from ttsf.weights.entries import ENTRIES, FileSpec, WeightsEntry, entries, whisper_entry_name
from ttsf.weights.errors import CorruptWeights
from ttsf.weights.fetch import download
from ttsf.weights.store import describe, find, get_entry, locate, missing_message
from ttsf.weights.verify import file_sha256, weights_root

__all__ = [
    "ENTRIES",
    "CorruptWeights",
    "FileSpec",
    "WeightsEntry",
    "describe",
    "download",
    "entries",
    "file_sha256",
    "find",
    "get_entry",
    "locate",
    "missing_message",
    "weights_root",
    "whisper_entry_name",
]

