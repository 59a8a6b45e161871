"""Check that every item of a split is usable on the local data.

Per item: each named file exists inside the data root, video decodes (all frames,
streamed), audio decodes, the duration is plausible, the source frame exists, and
the transcript is present, non-empty UTF-8. Problems are collected per item; nothing
stops the scan.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable, Optional

from ttsf import media
from ttsf.data.manifest import Item, Manifest, ManifestError, read_text, resolve

MIN_SECONDS = 0.2
MAX_SECONDS = 120.0
VIDEO_SUFFIXES = {".mp4", ".avi", ".mkv", ".mov", ".webm"}


@dataclasses.dataclass
class Problem:
    id: str
    role: str
    reason: str


@dataclasses.dataclass
class Report:
    split: str
    root: str
    n_items: int
    n_ok: int
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems and self.n_ok == self.n_items and self.n_items > 0  # an empty split is not OK

    def to_json(self) -> dict:
        return {
            "split": self.split, "root": self.root, "n_items": self.n_items, "n_ok": self.n_ok,
            "n_failed": self.n_items - self.n_ok, "ok": self.ok,
            "problems": [dataclasses.asdict(p) for p in self.problems],
        }

    def summary(self) -> str:
        head = f"{self.n_ok}/{self.n_items} items OK" if self.n_items else "FAILED: no items"
        lines = [f"{self.split}: {head} (data root {self.root})"]
        if self.problems:
            lines.append(f"{len(self.problems)} problems in {self.n_items - self.n_ok} items:")
            for p in self.problems[:200]:
                lines.append(f"  {p.id} [{p.role}] {p.reason}")
            if len(self.problems) > 200:
                lines.append(f"  … {len(self.problems) - 200} more (use --json for all)")
        return "\n".join(lines)


def _check_video(path: Path, source_frame: Optional[int]) -> tuple[float, list[str]]:
    info = media.probe(path)
    if info["video"] is None:
        return 0.0, ["no video stream"]
    n = 0
    for _ in media.iter_frames(path, fps=media.VIDEO_FPS):
        n += 1
    problems = []
    if source_frame is not None and source_frame >= n:
        problems.append(f"source frame {source_frame} out of range ({n} frames)")
    return n / media.VIDEO_FPS, problems


def check_item(item: Item, root: Path) -> list[Problem]:
    problems: list[Problem] = []
    seconds: dict[str, float] = {}
    decoded: set[str] = set()  # a video named by several roles is decoded once
    for role, rel in item.paths().items():
        if role == "text_source":
            continue
        try:
            path = resolve(root, rel, f"{role}")
        except ManifestError as exc:
            problems.append(Problem(item.id, role, str(exc)))
            continue
        if not path.exists():
            broken = path.is_symlink()
            problems.append(Problem(item.id, role, f"broken symbolic link {rel}" if broken else f"missing file {rel}"))
            continue
        try:
            if path.suffix.lower() in VIDEO_SUFFIXES and role in ("source", "ref_video") and rel not in decoded:
                decoded.add(rel)
                secs, extra = _check_video(path, item.source.frame if role == "source" else None)
                seconds[role] = secs
                problems.extend(Problem(item.id, role, e) for e in extra)
            elif role == "ref_audio":
                audio = media.read_audio(path, media.SAMPLE_RATE)
                seconds[role] = audio.shape[0] / media.SAMPLE_RATE
        except media.MediaError as exc:
            problems.append(Problem(item.id, role, f"does not decode: {exc.reason}"))
    for role, secs in seconds.items():
        if not (MIN_SECONDS <= secs <= MAX_SECONDS):
            problems.append(Problem(item.id, role,
                                    f"implausible duration {secs:.2f} s (expected {MIN_SECONDS}–{MAX_SECONDS} s)"))
        elif item.duration is not None and abs(secs - item.duration) > 0.1:
            problems.append(Problem(item.id, role,
                                    f"duration {secs:.2f} s differs from manifest {item.duration:.2f} s"))
    if item.meta.get("transcript") != "none":  # a folder clip without <stem>.txt: no transcript, by design
        try:
            read_text(item, root)
        except ManifestError as exc:
            problems.append(Problem(item.id, "text", str(exc)))
    return problems


def validate(manifest: Manifest, root: Path, progress: Optional[Callable[[int, int], None]] = None) -> Report:
    problems: list[Problem] = []
    n_ok = 0
    root = Path(root)
    if not root.is_dir():
        return Report(manifest.name, str(root), len(manifest), 0,
                      [Problem("*", "data_root", f"data root {root} does not exist")])
    if len(manifest) == 0:
        where = f" ({manifest.path})" if getattr(manifest, "path", None) else ""
        return Report(manifest.name, str(root), 0, 0,
                      [Problem("*", "manifest", f"the split has no items: empty manifest{where}")])
    for i, item in enumerate(manifest):
        found = check_item(item, root)
        problems.extend(found)
        n_ok += not found
        if progress:
            progress(i + 1, len(manifest))
    return Report(manifest.name, str(root), len(manifest), n_ok, problems)
