"""Where datasets live: ``--data-root DIR`` or ``$TTSF_DATA_ROOT``, one subfolder per dataset.

    DIR/lrs2/main/<id>.mp4 + .txt                       (LRS2, BBC)
    DIR/lrs3/test/<spk>/<clip>.mp4 + .txt               (LRS3)
    DIR/vox2/vox2_test_mp4/mp4/idXXXXX/<yt>/<clip>.mp4  (VoxCeleb2 test)
    DIR/vox2/vox2_test_aac/aac/idXXXXX/<yt>/<clip>.m4a
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

ENV = "TTSF_DATA_ROOT"

#: dataset name -> subfolder of the data root
SUBFOLDERS = {"lrs2": "lrs2", "lrs3": "lrs3", "vox2": "vox2"}


class DataRootError(FileNotFoundError):
    """No usable data root, with what to do about it."""


def data_root(explicit: Optional[os.PathLike | str] = None) -> Optional[Path]:
    """The data root from the argument, else ``$TTSF_DATA_ROOT``, else ``None``."""
    value = explicit if explicit is not None else os.environ.get(ENV)
    return Path(value).expanduser() if value else None


def dataset_root(dataset: str, explicit: Optional[os.PathLike | str] = None, must_exist: bool = True) -> Path:
    """The folder of one dataset below the data root."""
    if dataset not in SUBFOLDERS:
        raise KeyError(f"unknown dataset {dataset!r}; known: {', '.join(sorted(SUBFOLDERS))}")
    root = data_root(explicit)
    if root is None:
        raise DataRootError(
            f"no data root for {dataset}: pass --data-root DIR or set {ENV}=DIR, "
            f"with the dataset in DIR/{SUBFOLDERS[dataset]}/ (see splits/README.md)"
        )
    path = root / SUBFOLDERS[dataset]
    if must_exist and not path.is_dir():
        raise DataRootError(f"{dataset} not found: expected the folder {path} (data root {root})")
    return path
