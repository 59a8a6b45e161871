"""A finished run folder with short synthetic videos (ffmpeg test patterns), for MOS tests."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path


def make_video(path: Path, seconds: float = 1.0, hue: int = 0, title: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = ["-metadata", f"title={title}", "-metadata", f"comment={title}"] if title else []
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=s=128x128:r=25:d={seconds}",
                    "-f", "lavfi", "-i", f"sine=f={300 + 40 * hue}:d={seconds}", "-vf", f"hue=h={hue * 60}",
                    "-shortest", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", *meta, str(path)],
                   check=True)
    return path


def make_run(root: Path, systems: list[str], items: list[str], seconds: float = 1.0, texts: dict | None = None,
             refs: bool = False) -> Path:
    """``root/results.json`` + ``root/samples/<system>/<item>.mp4`` (metadata naming the system).

    refs: also write reference videos ``root/refs/<item>.mp4`` named as ``ref_video`` in the manifest
    (what the ``gt`` system stands for; it writes no samples).
    """
    root.mkdir(parents=True, exist_ok=True)
    split = {"name": None}
    if texts:
        manifest = root / "split.jsonl"
        lines = [json.dumps({"id": i, "dataset": "synth", "speaker": None, "text": texts.get(i, "hello"),
                             "text_source": None, "source": {"path": "x.png", "frame": 0},
                             "ref_video": f"refs/{i}.mp4" if refs else None,
                             "ref_audio": None, "duration": seconds}) for i in items]
        manifest.write_text("\n".join(lines) + "\n", "utf-8")
        split = {"name": "split", "synthetic": True, "root": str(root)}
    for i in items if refs else []:
        make_video(root / "refs" / f"{i}.mp4", seconds, hue=5)
    (root / "results.json").write_text(json.dumps({"table": "1", "split": split}), "utf-8")
    for k, s in enumerate(systems):
        for i in items:
            make_video(root / "samples" / s / f"{i}.mp4", seconds, hue=k, title=s)
    return root
