"""A folder of your own clips as a split: ``--split dir:PATH``, no hand-written JSONL.

Every video file directly inside ``PATH`` (``.mp4 .mkv .mov .avi .webm``; sorted by
name) is one item: ``id`` = the file's stem, ``source`` = its frame 0, ``ref_video`` =
``ref_audio`` = the file itself (the speech is its own audio track), and the transcript
is ``<stem>.txt`` beside it (plain or LRS ``Text:`` style). A clip without a ``.txt`` is
still an item, marked ``meta.transcript = "none"``: metrics that need text (WER) report
it as a per-item error, the others score it. ``meta.sha256`` holds the sha256 of the
clip (and of its transcript), so the manifest's own sha256 — recorded with every result
and compared by ``--check`` — changes when any clip does.

Nothing is dropped silently: a clip that does not decode stays in the split and fails
as a per-item error of the run (and ``python -m eval.splits dir PATH`` lists it); a file
whose name cannot be an item id (backslash, two clips with one stem) is a
:class:`FolderProblem` returned beside the manifest and logged.

``PATH`` may also be a manifest written by ``python -m eval.splits dir PATH --out F``:
``--split dir:F.jsonl`` loads it (paths relative to its folder); a clip whose sha256 no
longer matches is logged as a warning.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Optional

from ttsf.data.manifest import (
    Item,
    Manifest,
    ManifestError,
    Source,
    check_relpath,
    load_manifest,
    manifest_bytes,
    parse_manifest,
    write_manifest,
)
from ttsf.hashing import sha256_file

log = logging.getLogger(__name__)

PREFIX = "dir:"
DATASET = "dir"
VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov", ".avi", ".webm")
#: file name of the manifest ``eval.splits dir`` writes by default (inside the folder)
DEFAULT_MANIFEST = "split.jsonl"


@dataclasses.dataclass(frozen=True)
class FolderProblem:
    file: str
    reason: str


def is_dir_split(name: Optional[str]) -> bool:
    return bool(name) and name.startswith(PREFIX)


def split_path(name: str) -> Path:
    """The folder (or manifest file) named by ``dir:PATH``."""
    if not is_dir_split(name):
        raise ValueError(f"not a folder split: {name!r} (expected dir:PATH)")
    text = name[len(PREFIX):]
    if not text:
        raise ManifestError("--split dir: needs a folder, e.g. dir:tests/data/real_av")
    return Path(text).expanduser()


def folder_items(folder: Path) -> tuple[list[Item], list[FolderProblem]]:
    """One item per video file in ``folder`` (not recursive), and the files that cannot be items."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ManifestError(f"{folder} is not a folder of clips")
    videos = sorted(p for p in folder.iterdir()
                    if p.suffix.lower() in VIDEO_SUFFIXES and not p.name.startswith(".") and p.is_file())
    stems: dict[str, int] = {}
    for p in videos:
        stems[p.stem] = stems.get(p.stem, 0) + 1
    items, problems = [], []
    for p in videos:
        if stems[p.stem] > 1:
            problems.append(FolderProblem(p.name, f"{stems[p.stem]} clips share the stem {p.stem!r}: rename them"))
            continue
        try:
            check_relpath(p.name, "clip")
        except ManifestError as exc:
            problems.append(FolderProblem(p.name, str(exc)))
            continue
        hashes = {"clip": sha256_file(p)}
        txt = p.with_suffix(".txt")
        meta: dict = {"sha256": hashes}
        if txt.is_file():
            hashes["transcript"] = sha256_file(txt)
            meta["transcript"] = txt.name
        else:
            meta["transcript"] = "none"
        items.append(Item(
            id=p.stem, dataset=DATASET, speaker=None, text=None, text_source=txt.name,
            source=Source(p.name, 0), ref_video=p.name, ref_audio=p.name, duration=None, meta=meta,
        ))
    if not items and not problems:
        raise ManifestError(f"no video files ({' '.join(VIDEO_SUFFIXES)}) in {folder}")
    return items, problems


def folder_manifest(folder: Path, name: Optional[str] = None) -> tuple[Manifest, list[FolderProblem]]:
    """The in-memory manifest of a folder of clips (its sha256 is that of the canonical JSONL)."""
    items, problems = folder_items(folder)
    data = manifest_bytes(items)
    return parse_manifest(data, name or f"{PREFIX}{folder}"), problems


def write_folder_manifest(folder: Path, out: Optional[Path] = None) -> tuple[Path, str, list[FolderProblem]]:
    """Write the folder's manifest (default ``folder/split.jsonl``); ``(path, sha256, problems)``."""
    items, problems = folder_items(folder)
    out = Path(out) if out is not None else Path(folder) / DEFAULT_MANIFEST
    if out.resolve().parent != Path(folder).resolve():
        raise ManifestError(f"write the manifest inside {folder} (its paths are relative to that folder), not {out}")
    return out, write_manifest(out, items), problems


def load_dir_split(name: str) -> tuple[Manifest, Path]:
    """``(manifest, root)`` of ``dir:FOLDER`` or ``dir:MANIFEST.jsonl`` (see the module docstring)."""
    path = split_path(name)
    if path.suffix == ".jsonl" and path.is_file():
        manifest = load_manifest(path, name)
        root = path.parent
        for item in manifest:
            want = (item.meta.get("sha256") or {}).get("clip")
            clip = root / item.source.path
            if want and clip.is_file() and sha256_file(clip) != want:
                log.warning("%s: %s changed since the manifest was written (sha256 differs)", name, item.source.path)
        return manifest, root
    manifest, problems = folder_manifest(path, name)
    for p in problems:
        log.warning("%s: %s is not an item of the split: %s", name, p.file, p.reason)
    return manifest, path

