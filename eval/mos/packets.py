"""Build a blinded MOS study from finished run folders.

Output folder::

    key.json     the design and the names' meaning (system, item, kind); keep it away from raters
    links.csv    rater -> page to send them
    design.csv   every rater's trial sequence in clear (for the organiser)
    site/        publish this folder alone: index.html (instructions), one page per rater,
                 app.js, style.css, media/<opaque>.mp4
    answers/     where `python -m eval.mos serve` stores submitted answer files

Video names are an HMAC of (kind, system, item) under a random per-study secret, so they
cannot be recomputed from public system names and item ids; the design itself (clips,
orders) depends only on the seed.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import secrets
import shutil
from pathlib import Path
from typing import Optional

from eval.mos import site as site_mod
from eval.mos import stimuli
from eval.mos.design import build_design
from eval.mos.screening import Rules
from ttsf.atomic import atomic_write_json, atomic_write_text

KEY_FORMAT = "ttsf-mos-key/1"


class StudyError(ValueError):
    pass


def _read_run(run: Path) -> dict:
    path = Path(run) / "results.json"
    if not Path(run).is_dir():
        raise StudyError(f"run folder {run}: not found")
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise StudyError(f"run folder {run}: no results.json (not a finished run)") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StudyError(f"run folder {run}: results.json is not valid UTF-8 JSON ({exc})") from None


def _split(run: dict) -> tuple[dict[str, str], dict[str, Path], dict[str, Optional[Path]]]:
    """Transcripts and ground-truth media (``ref_video``, ``ref_audio``) of the run's split items.

    Best effort: empty when the manifest or the data are not on this machine.
    """
    split = run.get("split") or {}
    name = split.get("name")
    texts: dict[str, str] = {}
    gt_video: dict[str, Path] = {}
    gt_audio: dict[str, Optional[Path]] = {}
    if not name:
        return texts, gt_video, gt_audio
    try:
        from eval.data.splits import split_manifest
        from ttsf.data.manifest import load_manifest, read_text, resolve

        root = Path(split.get("root") or ".")
        if split.get("synthetic"):
            manifest = load_manifest(root / f"{name}.jsonl", name)
        else:
            manifest = split_manifest(name, split.get("data_root"))
    except (OSError, ValueError, KeyError):
        return texts, gt_video, gt_audio
    for item in manifest:
        try:
            texts[item.id] = read_text(item, root)
        except (OSError, ValueError):
            pass
        try:
            if item.ref_video and resolve(root, item.ref_video).is_file():
                gt_video[item.id] = resolve(root, item.ref_video)
                audio = resolve(root, item.ref_audio) if item.ref_audio else None
                gt_audio[item.id] = audio if audio is not None and audio.is_file() else None
        except (OSError, ValueError):
            pass
    return texts, gt_video, gt_audio


def collect(runs: list[Path], wanted: list[str]) -> tuple[dict, dict, dict]:
    """``({system: {item: mp4}}, {system: {item: wav or None}}, {item: text})`` for every system in the runs."""
    videos: dict[str, dict[str, Path]] = {}
    audio: dict[str, dict[str, Optional[Path]]] = {}
    texts: dict[str, str] = {}
    where: dict[str, Path] = {}
    gt: tuple[dict, dict] = ({}, {})
    for run in runs:
        info = _read_run(run)
        t, gv, ga = _split(info)
        texts.update(t)
        gt[0].update(gv)
        gt[1].update(ga)
        samples = Path(run) / "samples"
        for folder in sorted(p for p in samples.iterdir() if p.is_dir()) if samples.is_dir() else []:
            system = folder.name
            if system in where:
                raise StudyError(f"system {system!r} is in two runs: {where[system]} and {run}")
            where[system] = Path(run)
            vids = {str(p.relative_to(folder).with_suffix("")): p for p in sorted(folder.rglob("*.mp4"))}
            videos[system] = vids
            audio[system] = {k: (p.with_suffix(".wav") if p.with_suffix(".wav").is_file() else None)
                             for k, p in vids.items()}
    if "gt" not in videos and gt[0]:  # the gt system writes no samples: its videos are the split's references
        videos["gt"] = gt[0]
        audio["gt"] = {k: (None if stimuli.has_audio(v) else gt[1].get(k)) for k, v in gt[0].items()}
    for system in wanted:
        if system not in videos:
            have = ", ".join(sorted(videos)) or "none"
            raise StudyError(f"system {system!r}: no samples/{system}/ in the run folder(s) (systems there: {have})")
        if not videos[system]:
            raise StudyError(f"system {system!r}: no .mp4 videos in samples/{system}/")
    return videos, audio, texts


def _cell(value) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _mac(secret: str, *parts: str) -> str:
    return hmac.new(bytes.fromhex(secret), "\x00".join(parts).encode("utf-8"), hashlib.sha256).hexdigest()


def canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def build_study(runs: list[Path], systems: list[str], out: Path, clips: int, raters: int, seed: int = 0,
                per_rater: Optional[int] = None, training: int = 2, size: int = 256,
                gold_source: Optional[str] = None, secret: Optional[str] = None, rules: Rules = Rules()) -> dict:
    """Write the study into ``out`` (must not hold a study yet); returns a summary."""
    out = Path(out)
    if (out / "key.json").exists():
        raise StudyError(f"{out} already holds a study (key.json): choose another --out")
    videos, audio, texts = collect(runs, systems)
    if gold_source is None:
        gold_source = "gt" if "gt" in videos else systems[0]
    if gold_source not in videos:
        raise StudyError(f"--gold-source {gold_source!r}: no such system in the run folder(s)")
    items = set.intersection(*(set(videos[s]) for s in systems)) & set(videos[gold_source])
    design = build_design(systems, sorted(items), clips, raters, seed, per_rater, training)
    secret = secret or secrets.token_hex(16)
    created = not out.exists()
    try:
        return _write(out, design, videos, audio, texts, systems, gold_source, seed, size, secret, rules, runs)
    except BaseException:
        if created:
            shutil.rmtree(out, ignore_errors=True)
        else:
            for p in ("site", "key.json", "links.csv", "design.csv"):
                (shutil.rmtree if (out / p).is_dir() else lambda q: Path(q).unlink(missing_ok=True))(out / p)
        raise


def _write(out, design, videos, audio, texts, systems, gold_source, seed, size, secret, rules, runs) -> dict:
    site = out / "site"
    media = site / "media"
    names: dict[tuple, str] = {}
    key_videos: dict[str, dict] = {}
    for rater, trials in design["raters"].items():
        for t in trials:
            ident = (t.kind, t.system or gold_source, t.item, str(t.asked or ""))
            if ident in names:
                continue
            name = _mac(secret, "video", *ident)[:20] + ".mp4"
            names[ident] = name
            src, wav = videos[ident[1]][t.item], audio[ident[1]].get(t.item)
            if not stimuli.has_audio(src) and wav is None:
                raise StudyError(f"{src}: no audio stream and no {src.with_suffix('.wav').name} beside it")
            a = wav if not stimuli.has_audio(src) else None
            if t.kind == "gold":
                stimuli.shifted_audio(src, media / name, size, audio=a)
            elif t.kind == "trap":
                stimuli.instruction_trap(src, media / name, t.asked, size, audio=a)
            else:
                stimuli.normalise(src, media / name, size, audio=a)
            key_videos[name] = {"kind": t.kind, "system": t.system, "item": t.item, "asked": t.asked,
                                "source_system": ident[1], "duration_s": stimuli.duration_s(media / name)}
    sequences = {r: [names[(t.kind, t.system or gold_source, t.item, str(t.asked or ""))] for t in ts]
                 for r, ts in design["raters"].items()}
    study_id = hashlib.sha256(canonical({"seed": seed, "raters": sequences}).encode()).hexdigest()[:16]
    pages, page_names, key_raters = {}, {}, {}
    for rater, seq in sequences.items():
        token = _mac(secret, "token", rater)[:32]
        page_names[rater] = f"{rater}-{_mac(secret, 'page', rater)[:10]}.html"
        trials = [{"name": n, "video": f"media/{n}", "text": texts.get(key_videos[n]["item"], ""),
                   "training": key_videos[n]["kind"] == "training"} for n in seq]
        pages[rater] = site_mod.page_data(study_id, rater, token, trials, rules.min_view_fraction, submit=True)
        key_raters[rater] = {"token": token, "page": page_names[rater], "trials": seq}
    site_mod.write_site(site, pages, page_names)
    key = {"format": KEY_FORMAT, "study_id": study_id, "seed": seed, "secret": secret, "systems": systems,
           "criteria": list(site_mod.CRITERIA), "clips": design["clips"], "per_rater": design["per_rater"],
           "training_items": design["training_items"], "gold_item": design["gold_item"], "gold_source": gold_source,
           "gold_shift_s": stimuli.GOLD_SHIFT_S, "rules": rules.to_json(), "size": size,
           "runs": [str(r) for r in runs], "videos": key_videos, "raters": key_raters}
    atomic_write_json(out / "key.json", key)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["rater", "page"])
    for rater in sequences:
        w.writerow([_cell(rater), _cell(f"site/{page_names[rater]}")])
    atomic_write_text(out / "links.csv", buf.getvalue())
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["rater", "position", "kind", "system", "item", "asked", "video"])
    for rater, seq in sequences.items():
        for i, n in enumerate(seq):
            v = key_videos[n]
            w.writerow([_cell(x) for x in (rater, i + 1, v["kind"], v["system"] or f"({v['source_system']})",
                                           v["item"], v["asked"] or "", n)])
    atomic_write_text(out / "design.csv", buf.getvalue())
    (out / "answers").mkdir(exist_ok=True)
    return {"study_id": study_id, "raters": len(sequences), "clips": design["clips"], "systems": systems,
            "videos": len(key_videos), "site": site, "key": out / "key.json"}
