"""LRS3 training/test manifests from the local release: ``python -m eval.splits freeze lrs3``.

Layout read (the LRS3 release as distributed)::

    DIR/lrs3/{pretrain,trainval,test}/<speaker>/<clip>.mp4 + <clip>.txt

Each ``.txt`` starts with a ``Text:`` line (upper-case words, optionally with tags in curly
braces such as ``{LG}`` laughter or ``{NS}`` noise), then ``Conf:``/``Ref:`` lines and
word timings. **Transcript rule** (:func:`clean_transcript`, version
:data:`TEXT_RULE_VERSION`): take the ``Text:`` line, delete every ``{...}`` tag, collapse
runs of white space to one space, strip; the case is kept (the TTS front-end
normalises it). A clip whose cleaned text is empty is rejected.

Per clip the freeze records the sha256 of the video and of the transcript, the video's
duration (container, seconds) and its set; it rejects, with the reason, clips whose
video does not open, has no video or no audio stream, lasts outside
[:data:`~eval.data.validate.MIN_SECONDS`, :data:`~eval.data.validate.MAX_SECONDS`] s, or
whose transcript is missing, not UTF-8 or empty after cleaning. Manifests written into
``DIR/lrs3/`` (paths inside them are relative to it):

    lrs3_pretrain.jsonl  lrs3_trainval.jsonl  lrs3_test.jsonl
    lrs3_pretrain_trainval.jsonl   (the paper's training data: pretrain + trainval)
    lrs3_freeze.json               (counts, rejections, rule versions, each file's sha256)

``python -m eval.splits validate lrs3_trainval --data-root DIR`` then decodes every clip
with the checks ``lrs2_test`` gets (:mod:`eval.data.validate`), against the recorded
durations. Item ids are ``<set>/<speaker>/<clip>``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Callable, Optional

from eval.data import roots
from ttsf.atomic import atomic_write_text
from ttsf.data.manifest import Item, Manifest, ManifestError, Source, load_manifest, parse_lrs_text, write_manifest
from ttsf.hashing import sha256_file

SETS = ("pretrain", "trainval", "test")
#: manifest name -> the LRS3 sets it holds
MANIFESTS = {"lrs3_pretrain": ("pretrain",), "lrs3_trainval": ("trainval",), "lrs3_test": ("test",),
             "lrs3_pretrain_trainval": ("pretrain", "trainval")}
FREEZE_RECORD = "lrs3_freeze.json"
TEXT_RULE_VERSION = 1
RULE_VERSION = 1
_TAG = re.compile(r"\{[^{}]*\}")
_SPACE = re.compile(r"\s+")


def clean_transcript(content: str) -> str:
    """The ``Text:`` line of an LRS3 ``.txt`` without ``{...}`` tags and with single spaces.

    >>> clean_transcript("Text:  AND THEN {LG} WE WENT  {NS}\\nConf:  4\\n")
    'AND THEN WE WENT'
    """
    text = parse_lrs_text(content)
    return _SPACE.sub(" ", _TAG.sub(" ", text)).strip()


def _clip(lrs3: Path, video: Path, durations: tuple[float, float]) -> tuple[Optional[Item], Optional[str]]:
    """(item, None) or (None, reason) for one ``<set>/<spk>/<clip>.mp4``."""
    from ttsf import media

    rel = video.relative_to(lrs3).as_posix()
    set_name, speaker, _ = rel.split("/", 2)
    txt = video.with_suffix(".txt")
    if not txt.is_file():
        return None, f"no transcript {txt.name}"
    try:
        raw_text = txt.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"transcript is not UTF-8 ({exc.reason} at byte {exc.start})"
    text = clean_transcript(raw_text)
    if not text:
        return None, "transcript is empty after removing {...} tags"
    try:
        info = media.probe(video)
    except media.MediaError as exc:
        return None, f"video does not open: {exc.reason}"
    if info["video"] is None:
        return None, "no video stream"
    if info["audio"] is None:
        return None, "no audio stream"
    seconds = info["video"]["seconds"]
    if seconds is None:
        return None, "video duration unknown (container has none)"
    lo, hi = durations
    if not (lo <= seconds <= hi):
        return None, f"implausible duration {seconds:.2f} s (expected {lo}-{hi} s)"
    item = Item(
        id=str(Path(rel).with_suffix("")), dataset="lrs3", speaker=speaker, text=text, text_source=None,
        source=Source(rel, 0), ref_video=rel, ref_audio=rel, duration=round(float(seconds), 3),
        meta={"set": set_name, "transcript": txt.relative_to(lrs3).as_posix(),
              "sha256": {"video": sha256_file(video), "transcript": sha256_file(txt)},
              "text_rule": TEXT_RULE_VERSION},
    )
    return item, None


def freeze_lrs3(data_root: os.PathLike | str, out: Optional[Path] = None,
                progress: Optional[Callable[[int, int], None]] = None) -> dict:
    """Scan ``DIR/lrs3/{pretrain,trainval,test}``; write the manifests and the freeze record.

    Sets that are absent locally are reported (``sets_missing``) and their manifests not
    written; no set at all is a :class:`~eval.data.roots.DataRootError`. Returns the record.
    """
    from eval.data.validate import MAX_SECONDS, MIN_SECONDS

    lrs3 = roots.dataset_root("lrs3", data_root)
    out = Path(out) if out is not None else lrs3
    present = [s for s in SETS if (lrs3 / s).is_dir()]
    if not present:
        raise roots.DataRootError(f"no LRS3 sets under {lrs3}: expected {', '.join(s + '/' for s in SETS)}")
    videos = [v for s in present for v in sorted((lrs3 / s).glob("*/*.mp4"))]
    by_set: dict[str, list[Item]] = {s: [] for s in present}
    rejected: dict[str, str] = {}
    for i, video in enumerate(videos):
        item, reason = _clip(lrs3, video, (MIN_SECONDS, MAX_SECONDS))
        if item is None:
            rejected[video.relative_to(lrs3).with_suffix("").as_posix()] = reason
        else:
            by_set[item.meta["set"]].append(item)
        if progress:
            progress(i + 1, len(videos))
    written: dict[str, dict] = {}
    for name, sets in MANIFESTS.items():
        if not all(s in present for s in sets):
            continue
        items = [it for s in sets for it in by_set[s]]
        if not items:
            continue
        digest = write_manifest(out / f"{name}.jsonl", items)
        written[name] = {"file": f"{name}.jsonl", "sha256": digest, "items": len(items),
                         "speakers": len({it.speaker for it in items}),
                         "hours": round(sum(it.duration for it in items) / 3600, 4)}
    if not written:
        raise roots.DataRootError(f"no usable LRS3 clip under {lrs3} ({len(rejected)} rejected: "
                                  f"{list(rejected.items())[:3]})")
    record = {"dataset": "lrs3", "root": str(lrs3), "rule_version": RULE_VERSION,
              "text_rule_version": TEXT_RULE_VERSION, "text_rule": "Text: line; {...} tags removed; spaces collapsed",
              "durations_s": [MIN_SECONDS, MAX_SECONDS], "sets_found": present,
              "sets_missing": [s for s in SETS if s not in present], "clips_seen": len(videos),
              "rejected": rejected, "manifests": written}
    atomic_write_text(out / FREEZE_RECORD, json.dumps(record, indent=1, sort_keys=True) + "\n")
    return record


def load_lrs3_manifest(name: str, data_root: Optional[os.PathLike | str] = None) -> Manifest:
    """A frozen LRS3 manifest from ``DIR/lrs3/``, checked against the freeze record's sha256."""
    if name not in MANIFESTS:
        raise KeyError(f"unknown LRS3 manifest {name!r}; known: {', '.join(MANIFESTS)}")
    lrs3 = roots.dataset_root("lrs3", data_root)
    record_path = lrs3 / FREEZE_RECORD
    if not record_path.is_file():
        raise ManifestError(f"{record_path} not found: run `python -m eval.splits freeze lrs3 --data-root DIR` first")
    entry = json.loads(record_path.read_text("utf-8")).get("manifests", {}).get(name)
    if entry is None:
        raise ManifestError(f"{name} was not frozen (its LRS3 sets were missing): see {record_path}")
    manifest = load_manifest(lrs3 / entry["file"], name)
    if manifest.sha256 != entry["sha256"]:
        raise ManifestError(f"{lrs3 / entry['file']} has sha256 {manifest.sha256} but {FREEZE_RECORD} says "
                            f"{entry['sha256']}: it was modified; freeze again")
    return manifest
