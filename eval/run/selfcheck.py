"""``python -m eval.run selfcheck``: does the lip-sync pipeline behave on your ground-truth clips?

    python -m eval.run selfcheck --data-root DIR [--limit N] [--backends a,b] [--shift 5] [--json F]

``DIR`` is a folder of clips (each video with its own speech), a data root holding a
paper split (``DIR/lrs2``: ``lrs2_test_subset``; ``DIR/vox2``: ``vox2_test``; or pass
``--split``), or a synthetic corpus folder (``synth_test``). For every clip the check
scores, with each LSE backend:

- the ground truth (the clip's own audio): its AV offset should be near 0 and its
  LSE-C inside the range documented for that backend (:data:`GT_LSE_C_RANGES`, sources
  in ``docs/harness.md``);
- the same clip with its audio delayed and advanced by ``--shift`` frames (same video
  packets, audio moved by ``shift * 640`` samples at 16 kHz, zero-filled): the offset
  should move by the shift from the clip's own GT offset (audio delayed by k frames ->
  offset moves by -k, syncnet_python's sign; a clip may carry a true offset of a frame or
  two, which the GT check allows).

Backends: the paper's ``syncnet_v2`` when its weights are present, otherwise the default
offline LSE backend (the one ``--offline`` runs and the demo uses; the other offline
backends are listed as not run); ``--backends`` picks explicitly. Backends
that cannot run are listed with the reason. Exit status: 0 = every backend run passed,
1 = at least one failed (the report says which check), 2 = nothing could be checked
(no backend, no clip).

Verdict per backend (constants below, recorded in the JSON report):
``GT_NEAR`` — at least :data:`MIN_FRACTION` of GT clips with ``|offset| <= GT_TOLERANCE``;
``SHIFT_RECOVERED`` — for each shift, at least :data:`MIN_FRACTION` of the shifted copies
with ``|(offset - GT offset) - expected| <= SHIFT_TOLERANCE``;
``GT_CONFIDENCE`` — median GT LSE-C inside the backend's documented range (a backend
without a documented range is reported as *not checked*, not passed).
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

import numpy as np

log = logging.getLogger(__name__)

GT_TOLERANCE = 2  # frames
SHIFT_TOLERANCE = 1  # frames
MIN_FRACTION = 0.8
DEFAULT_SHIFT = 5
SAMPLES_PER_FRAME = 640  # 16 kHz / 25 fps

#: Expected median LSE-C of in-sync ground-truth clips, per backend: (low, high, where the range comes from).
GT_LSE_C_RANGES: dict[str, tuple[float, float, str]] = {
    "syncnet_v2": (5.0, 9.0, "published ground-truth LSE-C of syncnet_python on LRS2/LRS3/HDTF/VoxCeleb "
                             "spans 5.4-8.2 (docs/harness.md lists the papers); 5.0-9.0 allows a margin"),
    "fused_offline": (1.8, 5.7, "z units of the lag curves at vshift 15 (31 offsets): one sharp dip gives at most "
                                "31/sqrt(30) = 5.66; two random curves give a median of 1.46 (5-95%: 0.97-2.07), "
                                "a still face 1.2-1.5, another clip's audio 1.59 on the real clips; in-sync clips "
                                "score a median of 2.43 on the 14 real VoxCeleb2 clips (mean 2.31, 1.31-2.93) and "
                                "3.15 on 4 synthetic tiny test clips (results/reference/*_table1.json)"),
    "syncnet_offline": (4.0, 12.0, "in-sync synthetic-corpus test clips score 8.4 (checkpoints/SYNCNET.md); "
                                   "real faces score ~1 (0.23-2.07 on the 14 VoxCeleb2 clips): below this range"),
}


@dataclasses.dataclass
class Clip:
    id: str
    video: Path


def find_clips(data_root: Path, split: Optional[str] = None) -> tuple[str, list[Clip], list[str]]:
    """``(split name, clips, problems)`` for a folder of clips, a synthetic corpus or a data root with a split."""
    from eval.data import folder
    from eval.data.splits import load_split
    from ttsf.data.manifest import ManifestError, resolve

    data_root = Path(data_root)
    if split is None:
        if any(p.suffix.lower() in folder.VIDEO_SUFFIXES for p in data_root.glob("*")):
            split = f"dir:{data_root}"
        elif (data_root / "synth_test.jsonl").is_file():
            split = "synth_test"
        elif (data_root / "lrs2").is_dir():
            split = "lrs2_test_subset"
        elif (data_root / "vox2").is_dir():
            split = "vox2_test"
        else:
            raise ManifestError(f"{data_root}: no video files, no synth_test.jsonl, no lrs2/ or vox2/ folder; "
                                "pass a folder of clips or --split NAME")
    manifest, root = load_split(split, data_root)
    clips, problems = [], []
    for item in manifest:
        rel = item.ref_video or item.source.path
        try:
            path = resolve(root, rel, f"item {item.id} ref_video")
        except ManifestError as exc:
            problems.append(f"{item.id}: {exc}")
            continue
        if not path.is_file():
            problems.append(f"{item.id}: missing file {path}")
            continue
        clips.append(Clip(item.id, path))
    return split, clips, problems


def choose_backends(names: Optional[list[str]] = None) -> tuple[list[str], dict[str, str]]:
    """``(backends to run, {backend: why not})`` among the LSE backends."""
    from eval.metrics.lse import LSE
    from eval.run.plugins import missing_weights

    available, skipped = [], {}
    for spec in LSE.spec.backends:
        if names is not None and spec.name not in names:
            continue
        missing = missing_weights(spec)
        if missing:
            skipped[spec.name] = "weights missing: " + "; ".join(f"{k}: {v.splitlines()[0]}"
                                                                 for k, v in sorted(missing.items()))
        else:
            available.append(spec.name)
    for name in names or []:
        if name not in [b.name for b in LSE.spec.backends]:
            skipped[name] = f"not an LSE backend (known: {', '.join(b.name for b in LSE.spec.backends)})"
    if names is None:
        paper = [b.name for b in LSE.spec.backends if b.paper and b.name in available]
        chosen = paper or available[:1]  # spec order: the first offline backend is the default one
        for b in available:
            if b not in chosen:  # so ``chosen`` is not empty here
                why = "the paper backend is installed" if paper else f"not the default offline backend ({chosen[0]})"
                skipped[b] = f"not run: {why} (name it with --backends to add it)"
        available = chosen
    return available, skipped


def _shifted_wav(clip: Clip, frames: int, audio: np.ndarray, out_dir: Path) -> Path:
    from eval.synth.shift import shift_audio
    from ttsf.media import write_audio

    path = out_dir / f"{clip.id.replace('/', '_')}.shift{frames:+d}.wav"
    if not path.exists():
        write_audio(path, shift_audio(audio, frames, SAMPLES_PER_FRAME).astype(np.float32), 16000)
    return path


def score_clips(backend: str, clips: list[Clip], shift: int, work: Path,
                progress=None) -> list[dict]:
    """Per clip: ``{"id", "gt": {offset, lse_c, lse_d}, "+k"/"-k": {...}}`` or ``{"id", "error"}``.

    ``+k`` is the audio delayed by k frames (the offset should move by -k from the GT's), ``-k`` advanced (+k).
    """
    from eval.metrics import create
    from eval.metrics.audio import audio
    from eval.metrics.base import ItemError
    from eval.metrics.sample import Sample

    metric = create("lse", backend=backend)  # per-item scores only (score, not update): each clip is scored three times
    rows = []
    for clip in clips:
        row: dict = {"id": clip.id}
        try:
            gt = Sample(clip.id, gen_video=clip.video)
            row["gt"] = _pick(metric.score(gt))
            speech = audio(gt, "gen_audio", 16000)
            shared = {k: v for k, v in gt.cache.items() if not k.startswith("audio:")}
            for frames in (shift, -shift):
                wav = _shifted_wav(clip, frames, speech, work)
                moved = Sample(clip.id, gen_video=clip.video, gen_audio=wav, cache=dict(shared))
                row[f"{frames:+d}"] = _pick(metric.score(moved))
        except ItemError as exc:
            row = {"id": clip.id, "error": f"{exc.code}: {exc}"}
        rows.append(row)
        if progress:
            progress(backend, row)
    return rows


def _pick(values) -> dict:
    return {"offset": int(values["offset"]), "lse_c": float(values["lse_c"]), "lse_d": float(values["lse_d"])}


def verdict(backend: str, rows: list[dict], shift: int) -> dict:
    """The pass/fail checks of one backend from its per-clip rows."""
    ok_rows = [r for r in rows if "error" not in r]
    out: dict = {"backend": backend, "n_clips": len(rows), "n_scored": len(ok_rows),
                 "errors": {r["id"]: r["error"] for r in rows if "error" in r}, "checks": {}}
    if not ok_rows:
        out["passed"] = False
        out["checks"]["scored"] = {"passed": False, "detail": "no clip could be scored"}
        return out
    gt_off = np.array([r["gt"]["offset"] for r in ok_rows])
    gt_c = np.array([r["gt"]["lse_c"] for r in ok_rows])
    near = float(np.mean(np.abs(gt_off) <= GT_TOLERANCE))
    out["gt"] = {"offsets": collections.Counter(int(o) for o in gt_off), "lse_c_median": float(np.median(gt_c)),
                 "lse_c_mean": float(np.mean(gt_c)), "lse_c_min": float(np.min(gt_c)), "lse_c_max": float(np.max(gt_c)),
                 "lse_d_mean": float(np.mean([r["gt"]["lse_d"] for r in ok_rows]))}
    out["checks"]["gt_near_zero"] = {
        "passed": near >= MIN_FRACTION, "value": near,
        "detail": f"{int(round(near * len(ok_rows)))}/{len(ok_rows)} GT clips with |offset| <= {GT_TOLERANCE} "
                  f"(need >= {MIN_FRACTION:.0%})"}
    out["shifted"] = {}
    for frames in (shift, -shift):
        key = f"{frames:+d}"
        expected = -frames
        offs = np.array([r[key]["offset"] for r in ok_rows])
        hit = float(np.mean(np.abs(offs - gt_off - expected) <= SHIFT_TOLERANCE))
        what = "delayed" if frames > 0 else "advanced"
        out["shifted"][key] = {"expected_move": expected, "offsets": collections.Counter(int(o) for o in offs),
                               "moves": collections.Counter(int(o) for o in offs - gt_off),
                               "lse_c_mean": float(np.mean([r[key]["lse_c"] for r in ok_rows]))}
        out["checks"][f"shift_{key}_recovered"] = {
            "passed": hit >= MIN_FRACTION, "value": hit,
            "detail": f"audio {what} {abs(frames)} frames: {int(round(hit * len(ok_rows)))}/{len(ok_rows)} moved by "
                      f"{expected:+d} +- {SHIFT_TOLERANCE} from their GT offset (need >= {MIN_FRACTION:.0%})"}
    med = float(np.median(gt_c))
    if backend in GT_LSE_C_RANGES:
        lo, hi, source = GT_LSE_C_RANGES[backend]
        out["checks"]["gt_confidence"] = {
            "passed": lo <= med <= hi, "value": med,
            "detail": f"median GT LSE-C {med:.2f}, documented range for {backend} [{lo:g}, {hi:g}] ({source})"}
    else:
        out["checks"]["gt_confidence"] = {
            "passed": None, "value": med,
            "detail": f"median GT LSE-C {med:.2f}: no documented range for {backend} (not checked; add one to "
                      "eval.run.selfcheck.GT_LSE_C_RANGES with its source)"}
    out["passed"] = all(c["passed"] is not False for c in out["checks"].values())
    return out


def histogram(counter: dict) -> str:
    """One text line per offset that occurs, ``  -5 | #### 4``, in offset order."""
    if not counter:
        return "    (none)"
    return "\n".join(f"    {k:+4d} | {'#' * int(counter[k])} {counter[k]}" for k in sorted(int(k) for k in counter))


def report_text(split: str, n_clips: int, problems: list[str], verdicts: list[dict], skipped: dict[str, str],
                shift: int) -> str:
    lines = [f"selfcheck of the lip-sync pipeline on {split}: {n_clips} clips, audio shifted by +-{shift} frames"]
    for p in problems:
        lines.append(f"  not scored: {p}")
    for name, why in sorted(skipped.items()):
        lines.append(f"backend {name}: not run — {why}")
    for v in verdicts:
        lines.append("")
        lines.append(f"== backend {v['backend']}: {v['n_scored']}/{v['n_clips']} clips scored")
        for cid, err in sorted(v["errors"].items()):
            lines.append(f"  item error {cid}: {err}")
        if "gt" in v:
            g = v["gt"]
            lines.append(f"  GT (own audio): LSE-C median {g['lse_c_median']:.2f} (mean {g['lse_c_mean']:.2f}, "
                         f"{g['lse_c_min']:.2f}..{g['lse_c_max']:.2f}), LSE-D mean {g['lse_d_mean']:.2f}; offsets:")
            lines.append(histogram(g["offsets"]))
            for key, s in v["shifted"].items():
                what = "delayed" if int(key) > 0 else "advanced"
                lines.append(f"  audio {what} {abs(int(key))} frames (offset should move by {s['expected_move']:+d} "
                             f"from the clip's GT offset): LSE-C mean {s['lse_c_mean']:.2f}; moves:")
                lines.append(histogram(s["moves"]))
        for name, c in v["checks"].items():
            mark = "PASS" if c["passed"] else ("not checked" if c["passed"] is None else "FAIL")
            lines.append(f"  [{mark}] {name}: {c['detail']}")
        verdict = "the pipeline behaves" if v["passed"] else "THE PIPELINE DOES NOT BEHAVE"
        lines.append(f"  => {v['backend']}: {verdict}")
    if not verdicts:
        lines.append("no LSE backend could run: nothing was checked")
    else:
        bad = [v["backend"] for v in verdicts if not v["passed"]]
        lines.append("")
        lines.append("selfcheck: PASS" if not bad else f"selfcheck: FAIL ({', '.join(bad)})")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m eval.run selfcheck", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-root", required=True, type=Path,
                   help="a folder of clips, a synthetic corpus, or a data root with lrs2/ or vox2/")
    p.add_argument("--split", default=None, help="split of the data root (default: guessed, see above)")
    p.add_argument("--limit", type=int, default=0, help="first N clips (sorted ids); 0 = all")
    p.add_argument("--backends", default=None, help="comma list of LSE backends (default: see above)")
    p.add_argument("--shift", type=int, default=DEFAULT_SHIFT, help="frames to delay / advance the audio (default 5)")
    p.add_argument("--json", type=Path, default=None, help="also write the full report (per clip) here")
    return p


def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    from eval.data.roots import DataRootError
    from ttsf.data.manifest import ManifestError

    if args.shift < 1 or args.shift > 12:
        print("error: --shift must be 1..12 frames (the offset search spans +-15)", file=sys.stderr)
        return 2
    try:
        split, clips, problems = find_clips(args.data_root, args.split)
    except (ManifestError, DataRootError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.limit:
        clips = clips[: args.limit]
    names = [n.strip() for n in args.backends.split(",") if n.strip()] if args.backends else None
    backends, skipped = choose_backends(names)
    if not clips:
        print(report_text(split, 0, problems, [], skipped, args.shift))
        print("error: no clip to check", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    verdicts, per_clip = [], {}

    def progress(backend, row):
        state = row.get("error") or f"GT offset {row['gt']['offset']:+d}, LSE-C {row['gt']['lse_c']:.2f}"
        print(f"  [{backend}] {row['id']}: {state}", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="selfcheck-") as tmp:
        for backend in backends:
            rows = score_clips(backend, clips, args.shift, Path(tmp), progress)
            per_clip[backend] = rows
            verdicts.append(verdict(backend, rows, args.shift))
    print(report_text(split, len(clips), problems, verdicts, skipped, args.shift))
    print(f"({time.perf_counter() - t0:.0f} s)")
    if args.json:
        from eval.results import provenance

        args.json.write_text(json.dumps({
            "split": split, "n_clips": len(clips), "shift": args.shift, "problems": problems, "skipped": skipped,
            "thresholds": {"gt_tolerance": GT_TOLERANCE, "shift_tolerance": SHIFT_TOLERANCE,
                           "min_fraction": MIN_FRACTION, "gt_lse_c_ranges": GT_LSE_C_RANGES},
            "verdicts": verdicts, "per_clip": per_clip, "provenance": provenance("cpu"),
        }, indent=2, default=str) + "\n", "utf-8")
    if not verdicts:
        return 2
    return 0 if all(v["passed"] for v in verdicts) else 1
