"""Build the synthetic audiovisual corpus (LRS-like layout, manifests, ground truth).

Layout of a built corpus ``<root>``::

    main/<identity>/<clip>.mp4   25 fps H.264 + 16 kHz AAC
    main/<identity>/<clip>.wav   16 kHz PCM, the same samples as the mp4's track
    main/<identity>/<clip>.txt   LRS style, first line "Text:  THE TRANSCRIPT"
    main/<identity>/<clip>.json  ground truth (pose, mouth, blink, offset, voice, ...)
    faces/<identity>.png         aligned source portrait
    synth_train.jsonl, synth_test.jsonl, corpus.json, README.md

A clip's ``.json`` is written last and records the sha256 of its other files: it
is the clip's done-marker. An interrupted build resumes: clips with a valid
``.json`` are kept, others are rebuilt; manifests and ``corpus.json`` are written
only once every clip is complete.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import platform
import time
from pathlib import Path
from typing import Optional

import numpy as np

from eval.synth.config import (
    GENERATOR_VERSION,
    POSE_CONVENTION,
    SPEECH_PAD,
    SynthConfig,
    SynthError,
    lrs_text,
    sentences,
)
from eval.synth.lips import ARTICULATION_LEAD_FRAMES
from eval.synth.readme import corpus_readme
from ttsf.atomic import atomic_write_bytes, atomic_write_text
from ttsf.data.manifest import Item, Source, write_manifest
from ttsf.hashing import sha256_file
from ttsf.pretrained.yunet import YuNet

log = logging.getLogger(__name__)

FPS = 25
SAMPLE_RATE = 16000
SAMPLES_PER_FRAME = SAMPLE_RATE // FPS
BUILD_MARKER = ".synth_build.json"
MANIFESTS = ("synth_train.jsonl", "synth_test.jsonl")


# ----------------------------------------------------------------------------- plan


def split_plan(cfg: SynthConfig) -> dict:
    """Which identities and sentences are held out for test (seeded, independent of synthesis)."""
    rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, 0]))
    names = [f"id{i:02d}" for i in range(cfg.identities)]
    held = sorted(rng.choice(cfg.identities, size=cfg.test_identities, replace=False).tolist())
    order = rng.permutation(len(sentences())).tolist()
    n_test = max(1, int(round(cfg.test_fraction * len(order)))) if cfg.test_fraction > 0 else 0
    return {
        "test_identities": [names[i] for i in held],
        "test_sentences": sorted(order[:n_test]),
        "train_sentences": sorted(order[n_test:]),
    }


def clip_splits(cfg: SynthConfig, held_out: bool) -> list[str]:
    """Split of each clip of one identity: all test when held out, else the last ``test_fraction`` are test."""
    if held_out:
        return ["test"] * cfg.clips
    n_test = int(round(cfg.test_fraction * cfg.clips))
    if cfg.test_fraction > 0 and cfg.clips >= 2:
        n_test = max(1, n_test)
    n_test = min(n_test, cfg.clips - 1)
    return ["train"] * (cfg.clips - n_test) + ["test"] * n_test


# ----------------------------------------------------------------------------- audio


def prepare_speech(raw: np.ndarray) -> np.ndarray:
    """Trim leading/trailing silence (40 dB below the peak, 10 ms frames) and normalise.

    Returns ``float32`` ``(samples,)`` at -20 dBFS RMS over the voiced frames, peak <= 0.95.
    """
    hop = SAMPLE_RATE // 100
    n = raw.shape[0] // hop
    if n == 0:
        raise SynthError("synthesised speech is shorter than 10 ms")
    frames = raw[: n * hop].astype(np.float64).reshape(n, hop)
    rms = np.sqrt(np.mean(frames**2, axis=1) + 1e-12)
    active = np.nonzero(rms > rms.max() * 10 ** (-40 / 20))[0]
    start = max(0, (active[0] - 2) * hop)
    end = min(raw.shape[0], (active[-1] + 3) * hop)
    speech = raw[start:end].astype(np.float64)
    level = np.sqrt(np.mean(rms[active] ** 2))
    speech *= 10 ** (-20 / 20) / max(level, 1e-9)
    peak = np.abs(speech).max()
    if peak > 0.95:
        speech *= 0.95 / peak
    return speech.astype(np.float32)


class SpeechCache:
    """Synthesise (sentence, voice) once per process; the same text and voice give the same audio."""

    def __init__(self):
        self._cache: dict[tuple[int, str], np.ndarray] = {}

    def get(self, index: int, voice: str) -> np.ndarray:
        from eval.synth.voices import synthesise

        key = (index, voice)
        if key not in self._cache:
            self._cache[key] = prepare_speech(synthesise(sentences()[index], voice, SAMPLE_RATE))
        return self._cache[key]


def choose_sentences(cfg: SynthConfig, identity_index: int, voice: str, splits: list[str], plan: dict,
                     speech: SpeechCache) -> list[int]:
    """Sentence index of each clip: the identity's seeded order, skipping sentences too long for ``seconds``."""
    rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, 1, identity_index]))
    pools = {
        "train": [plan["train_sentences"][i] for i in rng.permutation(len(plan["train_sentences"]))],
        "test": [plan["test_sentences"][i] for i in rng.permutation(len(plan["test_sentences"]))],
    }
    max_samples = int((cfg.seconds - 2 * SPEECH_PAD) * SAMPLE_RATE)
    cursor = {"train": 0, "test": 0}
    chosen = []
    for split in splits:
        pool = pools[split]
        while True:
            if cursor[split] >= len(pool):
                raise SynthError(
                    f"identity id{identity_index:02d} ({voice}): not enough {split} sentences short enough for "
                    f"seconds={cfg.seconds} (needed {splits.count(split)}); raise seconds or lower clips"
                )
            index = pool[cursor[split]]
            cursor[split] += 1
            if speech.get(index, voice).shape[0] <= max_samples:
                chosen.append(index)
                break
    return chosen


def clip_audio(cfg: SynthConfig, speech: np.ndarray) -> tuple[np.ndarray, int, float]:
    """Place the speech after 0.2 s of silence in a clip of whole frames: ``(audio, n_frames, start_s)``."""
    pad = int(SPEECH_PAD * SAMPLE_RATE)
    needed = speech.shape[0] + 2 * pad
    n_frames = max(math.ceil(needed / SAMPLES_PER_FRAME), math.ceil(cfg.min_seconds * FPS - 1e-9))
    audio = np.zeros(n_frames * SAMPLES_PER_FRAME, dtype=np.float32)
    audio[pad : pad + speech.shape[0]] = speech
    return audio, n_frames, pad / SAMPLE_RATE


# ----------------------------------------------------------------------------- per identity


def _valid_clip(json_path: Path, config_key: str) -> bool:
    """A finished clip: its ground truth names this build and its files match their hashes."""
    try:
        gt = json.loads(json_path.read_text(encoding="utf-8"))
        if gt.get("config_key") != config_key:
            return False
        for suffix, digest in gt["files"].items():
            path = json_path.with_suffix(f".{suffix}")
            if not path.is_file() or sha256_file(path) != digest:
                return False
        return True
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def _save_portrait(root: Path, name: str, image: np.ndarray) -> None:
    """Write the aligned source portrait to ``faces/<name>.png`` (atomically)."""
    import cv2

    face_path = root / "faces" / f"{name}.png"
    face_path.parent.mkdir(parents=True, exist_ok=True)
    ok, png = cv2.imencode(".png", image[:, :, ::-1])
    if not ok:
        raise SynthError(f"cannot encode the portrait of {name}")
    atomic_write_bytes(face_path, png.tobytes())


def _identity_renderer(root: Path, cfg: SynthConfig, identity_index: int):
    """Align the identity's portrait, save it, find its lips; returns its :class:`Renderer`."""
    from eval.synth.faces import SCORE_THRESHOLD, SOURCES, align
    from eval.synth.lips import MouthRig, portrait_landmarks68
    from eval.synth.render import Renderer

    detector = YuNet(SCORE_THRESHOLD)
    portrait = align(SOURCES[identity_index], cfg.size, detector)
    _save_portrait(root, SOURCES[identity_index].name, portrait.image)
    rig = MouthRig(portrait.image, portrait_landmarks68(portrait.image, detector))
    return Renderer(portrait.image, portrait.landmarks, rig)


def articulation_tracks(audio: np.ndarray, n_frames: int, samples_per_frame: int = 640,
                        sample_rate: int = 16000, lead: int = ARTICULATION_LEAD_FRAMES) -> tuple:
    """Opening ``(n_frames,)`` and spread ``(n_frames,)`` with the mouth ``lead`` frames ahead of the sound.

    Frame ``k`` takes the shape that :func:`eval.synth.render.mouth_track` and
    :func:`eval.synth.lips.spread_track` give audio frame ``k + lead`` (computed over ``n_frames + lead``
    frames, the audio zero-padded at the end, so the last ``lead`` frames close the mouth).
    """
    from eval.synth.lips import spread_track
    from eval.synth.render import mouth_track

    if lead < 0:
        raise ValueError(f"lead must be >= 0 frames, got {lead}")
    total = n_frames + lead
    padded = np.zeros(total * samples_per_frame, dtype=np.float64)
    usable = min(len(audio), n_frames * samples_per_frame)
    padded[:usable] = audio[:usable]
    opening = mouth_track(padded, total, samples_per_frame)[lead:]
    spread = spread_track(padded, total, samples_per_frame, sample_rate)[lead:]
    return opening, spread


def _render_clip(cfg: SynthConfig, renderer, audio: np.ndarray, n_frames: int, clip_seed: list) -> tuple:
    """Frames ``(n_frames, size, size, 3)`` and the tracks (pose, blink, mouth, spread) of one clip."""
    from eval.synth.render import blink_track, pose_trajectory

    rng = np.random.default_rng(np.random.SeedSequence(clip_seed))
    pose = pose_trajectory(rng, n_frames, FPS)
    blink = blink_track(rng, n_frames, FPS)
    mouth, spread = articulation_tracks(audio, n_frames, SAMPLES_PER_FRAME, SAMPLE_RATE)
    frames = np.stack([renderer.render(*pose[t], mouth[t], blink[t], spread[t]) for t in range(n_frames)])
    return frames, {"pose": pose, "blink": blink, "mouth": mouth, "spread": spread}


def _clip_truth(cfg: SynthConfig, gt_base: dict, tracks: dict, audio_span: tuple, n_frames: int) -> dict:
    """The ground-truth record of one clip (without the file hashes)."""
    pose = tracks["pose"]
    start, end = audio_span
    return {
        **gt_base,
        "fps": FPS,
        "sample_rate": SAMPLE_RATE,
        "size": cfg.size,
        "n_frames": n_frames,
        "duration": n_frames / FPS,
        "speech_start": round(start, 4),
        "speech_end": round(end, 4),
        "av_offset_frames": 0,
        "articulation_lead_frames": ARTICULATION_LEAD_FRAMES,
        "pose_convention": POSE_CONVENTION,
        "yaw": np.round(pose[:, 0], 4).tolist(),
        "pitch": np.round(pose[:, 1], 4).tolist(),
        "roll": np.round(pose[:, 2], 4).tolist(),
        "mouth_open": np.round(tracks["mouth"], 4).tolist(),
        "mouth_spread": np.round(tracks["spread"], 4).tolist(),
        "blink": np.round(tracks["blink"], 4).tolist(),
        "generator_version": GENERATOR_VERSION,
        "seed": cfg.seed,
    }


def _build_clip(cfg: SynthConfig, renderer, speech: np.ndarray, stem: Path, gt_base: dict) -> dict:
    """Render and write one clip's mp4, wav, txt and (last, its done-marker) json; returns the json."""
    from ttsf.media import write_audio, write_video

    audio, n_frames, start = clip_audio(cfg, speech)
    frames, tracks = _render_clip(cfg, renderer, audio, n_frames, gt_base["clip_seed"])
    write_audio(stem.with_suffix(".wav"), audio, SAMPLE_RATE)
    write_video(stem.with_suffix(".mp4"), frames, fps=FPS, audio=audio, sample_rate=SAMPLE_RATE)
    stem.with_suffix(".txt").write_text(f"Text:  {lrs_text(gt_base['text'])}\nConf:  1.0\n", encoding="utf-8")
    gt = _clip_truth(cfg, gt_base, tracks, (start, start + speech.shape[0] / SAMPLE_RATE), n_frames)
    gt["mouth_open_px_max"] = round(renderer.rig.amplitude, 3)
    gt["files"] = {s: sha256_file(stem.with_suffix(f".{s}")) for s in ("mp4", "wav", "txt")}
    json_path = stem.with_suffix(".json")
    atomic_write_text(json_path, json.dumps(gt, sort_keys=True))
    return gt


def build_identity(root: str, cfg_json: dict, identity_index: int, plan: dict) -> list[dict]:
    """Render every clip of one identity into ``root`` (resuming finished clips); returns their ground truths."""
    import cv2

    from eval.synth.faces import SOURCES

    cfg = SynthConfig(**{**cfg_json, "voices": tuple(cfg_json["voices"])})
    key = cfg.key()
    root_path = Path(root)
    name = SOURCES[identity_index].name
    voice = cfg.resolved_voices()[identity_index]
    previous_threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        renderer = _identity_renderer(root_path, cfg, identity_index)
        speech = SpeechCache()
        splits = clip_splits(cfg, name in plan["test_identities"])
        chosen = choose_sentences(cfg, identity_index, voice, splits, plan, speech)
        out = []
        clip_dir = root_path / "main" / name
        clip_dir.mkdir(parents=True, exist_ok=True)
        for j, (split, index) in enumerate(zip(splits, chosen)):
            stem = clip_dir / f"{j:05d}"
            json_path = stem.with_suffix(".json")
            if _valid_clip(json_path, key):
                out.append(json.loads(json_path.read_text(encoding="utf-8")))
                continue
            json_path.unlink(missing_ok=True)
            gt_base = {"id": f"{name}/{j:05d}", "identity": name, "voice": voice, "text": sentences()[index],
                       "sentence_index": index, "split": split, "clip_seed": [cfg.seed, 2, identity_index, j],
                       "config_key": key}
            out.append(_build_clip(cfg, renderer, speech.get(index, voice), stem, gt_base))
        return out
    finally:
        cv2.setNumThreads(previous_threads)


def _build_identity_star(args):
    return build_identity(*args)


# ----------------------------------------------------------------------------- corpus


def _check_output(out: Path, cfg: SynthConfig) -> None:
    """Refuse an unusable output directory before any work; write the build marker."""
    if out.exists() and not out.is_dir():
        raise SynthError(f"output {out} exists and is not a directory")
    marker = out / BUILD_MARKER
    if out.is_dir() and any(out.iterdir()):
        try:
            previous = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise SynthError(
                f"output directory {out} is not empty and is not a synthetic-corpus build; choose an empty directory"
            ) from None
        if previous.get("config_key") != cfg.key():
            raise SynthError(
                f"output directory {out} holds a build with other arguments ({previous.get('config')}); "
                "choose another directory or delete it"
            )
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise SynthError(f"output directory {out} is not writable: {exc.strerror or exc}") from None
    marker.write_text(json.dumps({"config_key": cfg.key(), "config": cfg.to_json(),
                                  "generator_version": GENERATOR_VERSION}, sort_keys=True), encoding="utf-8")


def _clean_temporaries(out: Path) -> None:
    """Remove temp files left by an interrupted build (``.<name>.tmp<pid>...``)."""
    for path in out.rglob(".*.tmp*"):
        if path.is_file():
            path.unlink()


def _item(gt: dict) -> Item:
    stem = f"main/{gt['id']}"
    return Item(
        id=gt["id"], dataset="synth", speaker=gt["identity"], text=gt["text"], text_source=f"{stem}.txt",
        source=Source(f"{stem}.mp4", 0), ref_video=f"{stem}.mp4", ref_audio=f"{stem}.wav",
        duration=gt["duration"], meta={"voice": gt["voice"], "split": gt["split"]},
    )


def _versions(voices) -> dict:
    import av
    import cv2

    from eval.synth.voices import engine_versions

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "opencv": cv2.__version__,
        "av": av.__version__,
        "ffmpeg_libavcodec": ".".join(str(v) for v in av.library_versions.get("libavcodec", ())),
        "engines": engine_versions(voices),
    }


def write_index(root: Path, meta: dict) -> dict:
    """Write ``corpus.json``: ``meta`` plus the sha256 of every file and a content hash over them."""
    files = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not path.name.startswith(".") and rel not in ("corpus.json",):
            files[rel] = sha256_file(path)
    content = hashlib.sha256("".join(f"{k} {v}\n" for k, v in sorted(files.items())).encode()).hexdigest()
    index = {**meta, "files": files, "content_hash": content}
    atomic_write_text(root / "corpus.json", json.dumps(index, indent=1, sort_keys=True))
    return index


def build(out_dir, identities: int = 8, clips: int = 30, seconds: float = 4.0, size: int = 256, seed: int = 0,
          voices: Optional[tuple[str, ...]] = None, test_identities: int = 2, test_fraction: float = 0.2,
          jobs: int = 1) -> Path:
    """Build (or resume building) a corpus in ``out_dir`` and return its path.

    Arguments are those of :class:`eval.synth.config.SynthConfig`; ``jobs`` > 1 renders
    identities in that many worker processes (same output). Raises
    :class:`SynthError` on bad arguments or an unusable directory before any work.
    """
    if voices is not None:
        voices = tuple(voices)
    cfg = SynthConfig(identities, clips, seconds, size, seed, voices, test_identities, test_fraction).validate()
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise SynthError(f"jobs must be a positive integer, got {jobs!r}")
    out = Path(out_dir)
    _check_output(out, cfg)
    _clean_temporaries(out)
    started = time.monotonic()
    plan = split_plan(cfg)
    tasks = [(str(out), cfg.to_json(), i, plan) for i in range(cfg.identities)]
    if jobs == 1:
        results = [_build_identity_star(t) for t in tasks]
    else:
        import multiprocessing

        with multiprocessing.get_context("spawn").Pool(min(jobs, len(tasks))) as pool:
            results = pool.map(_build_identity_star, tasks, chunksize=1)
    truths = [gt for group in results for gt in group]
    items = {split: [_item(gt) for gt in truths if gt["split"] == split] for split in ("train", "test")}
    write_manifest(out / "synth_train.jsonl", items["train"])
    write_manifest(out / "synth_test.jsonl", items["test"])

    (out / "README.md").write_text(corpus_readme(cfg, plan), encoding="utf-8")
    meta = {
        "generator": "eval.synth",
        "generator_version": GENERATOR_VERSION,
        "config": cfg.to_json(),
        "config_key": cfg.key(),
        "seed": cfg.seed,
        "split": plan,
        "counts": {"train": len(items["train"]), "test": len(items["test"])},
        "av_offset_frames": 0,
        "articulation_lead_frames": ARTICULATION_LEAD_FRAMES,
        "versions": _versions(cfg.resolved_voices()),
    }
    write_index(out, meta)
    log.info("built %d clips in %s (%.1f s)", len(truths), out, time.monotonic() - started)
    return out


def is_complete(root: Path) -> bool:
    """A corpus whose ``corpus.json`` and both manifests exist (written only at the end of a build)."""
    return all((root / name).is_file() for name in ("corpus.json", *MANIFESTS))

