"""Placeholder (random-init) checkpoints: how they are marked and how the harness spots them.

The builders in ``baselines/upstream/placeholder_*.py`` run inside each upstream's own
environment and write checkpoint files of the right architecture with random weights,
marked inside the file by :data:`MARKER`:

* torch files (``torch.save`` zip format): a top-level key ``MARKER`` (found by reading
  only the archive's pickle record ``*/data.pkl``, never the tensors);
* safetensors: ``MARKER`` as a key of the header's ``__metadata__``;
* anything else (a small pickle): the ``MARKER`` bytes anywhere in the first 64 MiB.

Such files exist for tests only. :func:`placeholder_files` lists them for a checkout;
the harness refuses them unless the run passes ``--allow-placeholder`` and then marks
the row as placeholder (never comparable).
"""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

MARKER = "__ttsf_bench_placeholder__"
_SCAN_BYTES = 64 << 20


def is_placeholder(path: Path) -> bool:
    """True when ``path`` carries the placeholder marker (reads headers only)."""
    path = Path(path)
    if not path.is_file():
        return False
    marker = MARKER.encode()
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                if name.endswith("data.pkl"):
                    return marker in zf.read(name)
        return False
    if path.suffix == ".safetensors":
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                return False
            (n,) = struct.unpack("<Q", head)
            if n > _SCAN_BYTES:
                return False
            try:
                header = json.loads(f.read(n))
            except ValueError:
                return False
        return MARKER in (header.get("__metadata__") or {})
    with open(path, "rb") as f:
        return marker in f.read(_SCAN_BYTES)


def refusal(system: str, files: list[str]) -> str:
    """The error for a run that meets placeholder weights without ``--allow-placeholder``."""
    return (f"{system}: placeholder (random-init) weights in {', '.join(files)}: these files were built by "
            f"`python -m baselines setup {system.split('-')[0]} --placeholder-weights` for tests and give noise, "
            f"not results. Put the real checkpoint there (`python -m baselines check {system.split('-')[0]}` "
            f"lists source and sha256), or pass --allow-placeholder to run anyway (the row is then marked "
            f"placeholder and never comparable)")
