"""Blinded MOS packets: per rater, each clip's videos from every system in a shuffled order.

Videos are copied under opaque names (a hash), so neither file names nor order reveal
the system; ``key.json`` maps them back and must not be shown to raters. Each rater
gets ``rater_NN.html`` (every interpolated string is HTML-escaped) and fills a row per
video in ``ratings_template.csv`` (1–5 for lip sync, realness, head motion).
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import random
import shutil
from pathlib import Path
from typing import Optional

from eval.cache import atomic_write_json, atomic_write_text

CRITERIA = ("lip_sync", "realness", "head_motion")
QUESTIONS = {"lip_sync": "How well do the lips match the speech?", "realness": "How real does the video look?",
             "head_motion": "How natural is the head movement?"}


def _opaque(seed: int, system: str, item_id: str) -> str:
    return hashlib.sha256(f"{seed}\x00{system}\x00{item_id}".encode()).hexdigest()[:16]


def build_packets(videos: dict[str, dict[str, Path]], texts: dict[str, str], out: Path, clips: int, raters: int,
                  seed: int = 0, split: Optional[dict] = None) -> dict:
    """Write packets for ``raters`` raters, each rating ``clips`` clips x every system.

    videos: ``{system: {item id: mp4 path}}``; only ids present for every system are used.
    texts: ``{item id: transcript}`` shown with each clip.
    split: the run's split record (name, sha256, synthetic) for the results' provenance.
    """
    systems = sorted(videos)
    if len(systems) < 2:
        raise ValueError("a MOS comparison needs at least two systems")
    common = sorted(set.intersection(*(set(v) for v in videos.values())))
    if len(common) < clips:
        raise ValueError(f"only {len(common)} ids have a video for every system; {clips} clips requested")
    rng = random.Random(seed)
    chosen = sorted(rng.sample(common, clips))
    media = out / "media"
    media.mkdir(parents=True, exist_ok=True)
    key: dict[str, dict] = {}
    for system in systems:
        for item_id in chosen:
            name = _opaque(seed, system, item_id) + ".mp4"
            shutil.copy2(videos[system][item_id], media / name)
            key[name] = {"system": system, "id": item_id}
    template = io.StringIO()
    w = csv.writer(template, lineterminator="\n")
    w.writerow(["rater", "clip", "slot", "video", *CRITERIA])
    for r in range(raters):
        rater = f"rater_{r:02d}"
        order = chosen[:]
        rng.shuffle(order)
        sections = []
        for c, item_id in enumerate(order):
            names = [_opaque(seed, s, item_id) + ".mp4" for s in systems]
            rng.shuffle(names)  # method order shuffled per clip
            cells = []
            for slot, name in enumerate(names):
                label = chr(ord("A") + slot)
                w.writerow([rater, c + 1, label, name, "", "", ""])
                cells.append(f'<figure><video controls width="256" src="media/{html.escape(name)}"></video>'
                             f"<figcaption>{label}</figcaption></figure>")
            sections.append(f"<section><h2>Clip {c + 1}</h2><p>Text: <q>{html.escape(texts.get(item_id, ''))}</q></p>"
                            + "".join(cells) + "</section>")
        questions = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>" for k, v in QUESTIONS.items())
        page = (f"<!doctype html><meta charset='utf-8'><title>{html.escape(rater)}</title>"
                f"<h1>Rating sheet {html.escape(rater)}</h1><p>Rate every video from 1 (bad) to 5 (excellent) on:</p>"
                f"<ul>{questions}</ul>" + "".join(sections))
        atomic_write_text(out / f"{rater}.html", page)
    atomic_write_text(out / "ratings_template.csv", template.getvalue())
    manifest = {"seed": seed, "clips": chosen, "systems": systems, "raters": raters, "criteria": list(CRITERIA),
                "split": split or {"name": None, "sha256": None, "synthetic": None}}
    atomic_write_json(out / "key.json", {"videos": key, **manifest})
    return manifest


def read_ratings(path: Path, key: dict) -> tuple[dict[str, dict[str, list[float]]], list[str]]:
    """``{system: {criterion: [ratings]}}`` and a list of problems (bad rows are skipped, not guessed)."""
    scores: dict[str, dict[str, list[float]]] = {}
    problems = []
    with open(path, newline="", encoding="utf-8") as f:
        for lineno, row in enumerate(csv.DictReader(f), 2):
            video = (row.get("video") or "").strip()
            if video not in key["videos"]:
                problems.append(f"line {lineno}: unknown video {video!r}")
                continue
            system = key["videos"][video]["system"]
            for crit in CRITERIA:
                value = (row.get(crit) or "").strip()
                if not value:
                    problems.append(f"line {lineno}: {crit} not rated")
                    continue
                try:
                    v = int(value)
                except ValueError:
                    problems.append(f"line {lineno}: {crit} = {value!r} is not an integer 1-5")
                    continue
                if not 1 <= v <= 5:
                    problems.append(f"line {lineno}: {crit} = {v} outside 1-5")
                    continue
                scores.setdefault(system, {}).setdefault(crit, []).append(float(v))
    return scores, problems


def mos_results(scores: dict[str, dict[str, list[float]]], key: dict, problems: Optional[list[str]] = None) -> dict:
    """A results.json-shaped dict for Table 4 (rendered by :mod:`eval.tables.render`)."""
    from eval import results as res
    from eval.mos.stats import mos_ci

    cells: dict[str, dict] = {}
    for system in key["systems"]:
        cells[system] = {}
        for crit in CRITERIA:
            values = scores.get(system, {}).get(crit, [])
            if not values:
                cells[system][crit] = res.score_cell(None, "no valid ratings", "mos", 0, 0, 0, None, None)
                continue
            mean, half = mos_ci(values)
            cell = res.score_cell(mean, None, "mos", len(values), len(values), 0, None, None)
            cell["ci95"] = [mean - half, mean + half] if half is not None else None
            cell["ci_method"] = "Student t, 95%" if half is not None else None
            cells[system][crit] = cell
    return {
        "schema": res.SCHEMA_VERSION, "table": "4", "run_id": f"mos-seed{key['seed']}",
        "split": {**key.get("split", {}), "n_items": len(key["clips"]), "limit": None},
        "metrics": {"mos": {"backend": "human raters", "backend_paper": True, "higher_is_better": True}},
        "scores": cells, "problems": problems or [], "systems_skipped": {},
    }
