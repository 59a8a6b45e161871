"""Building: determinism, resume after interruption, atomic cache, bad-input errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from eval.synth import SynthError, build
from eval.synth import cache as synth_cache
from eval.synth import corpus as synth_corpus
from ttsf.data.manifest import load_manifest
from ttsf.media import read_audio, read_video

SMALL = dict(identities=3, clips=1, seconds=2.4, size=96, test_identities=2)


def _decoded(root):
    out = {}
    for name in ("synth_train.jsonl", "synth_test.jsonl"):
        for item in load_manifest(root / name):
            out[item.id] = (read_video(root / item.ref_video), read_audio(root / item.ref_audio))
    return out


@pytest.fixture(scope="module")
def small_pair(tmp_path_factory):
    a = build(tmp_path_factory.mktemp("a") / "corpus", seed=7, **SMALL)
    b = build(tmp_path_factory.mktemp("b") / "corpus", seed=7, **SMALL)
    return a, b


def test_same_arguments_give_identical_frames_and_samples(small_pair):
    a, b = small_pair
    da, db = _decoded(a), _decoded(b)
    assert sorted(da) == sorted(db) == ["id00/00000", "id01/00000", "id02/00000"]
    for key in da:
        (va, wa), (vb, wb) = da[key], db[key]
        assert va.frames.shape[0] > 25 and np.array_equal(va.frames, vb.frames)
        assert np.array_equal(va.audio, vb.audio) and np.array_equal(wa, wb)
    ia = json.loads((a / "corpus.json").read_text())
    ib = json.loads((b / "corpus.json").read_text())
    assert ia["content_hash"] == ib["content_hash"]


def test_parallel_build_gives_the_same_corpus(small_pair, tmp_path):
    c = build(tmp_path / "c", seed=7, jobs=2, **SMALL)
    reference = json.loads((small_pair[0] / "corpus.json").read_text())["content_hash"]
    assert json.loads((c / "corpus.json").read_text())["content_hash"] == reference


def test_seed_changes_motion_not_voice(small_pair, tmp_path):
    a, _ = small_pair
    c = build(tmp_path / "c", seed=8, **SMALL)
    ga = json.loads((a / "main/id00/00000.json").read_text())
    gc = json.loads((c / "main/id00/00000.json").read_text())
    assert ga["yaw"][: len(gc["yaw"])] != gc["yaw"][: len(ga["yaw"])]
    # same sentence + same voice -> same samples, whatever the seed
    same = [(x, y) for x in a.glob("main/*/*.json") for y in c.glob("main/*/*.json")
            if json.loads(x.read_text())["sentence_index"] == json.loads(y.read_text())["sentence_index"]
            and x.parent.name == y.parent.name]
    for x, y in same:
        assert np.array_equal(read_audio(x.with_suffix(".wav")), read_audio(y.with_suffix(".wav")))


def test_interrupted_build_lists_nothing_then_resumes(tmp_path, monkeypatch, small_pair):
    out = tmp_path / "corpus"
    real = synth_corpus.build_identity
    calls = []

    def flaky(root, cfg_json, identity_index, plan):
        calls.append(identity_index)
        if identity_index == 1:
            raise KeyboardInterrupt  # killed mid-build
        return real(root, cfg_json, identity_index, plan)

    monkeypatch.setattr(synth_corpus, "build_identity", flaky)
    with pytest.raises(KeyboardInterrupt):
        build(out, seed=7, **SMALL)
    assert not (out / "synth_train.jsonl").exists() and not (out / "corpus.json").exists()
    done = out / "main/id00/00000.json"
    assert done.is_file()
    stamp = done.stat().st_mtime_ns
    (out / "main/id00/.00000.mp4.tmp999.mp4").write_bytes(b"half")  # a half-written temp file
    monkeypatch.setattr(synth_corpus, "build_identity", real)
    build(out, seed=7, **SMALL)
    assert done.stat().st_mtime_ns == stamp  # finished clip kept, not re-rendered
    assert not list(out.rglob(".*.tmp*"))
    reference = json.loads((small_pair[0] / "corpus.json").read_text())["content_hash"]
    assert json.loads((out / "corpus.json").read_text())["content_hash"] == reference


def test_corrupted_clip_is_rebuilt(tmp_path, small_pair):
    out = tmp_path / "corpus"
    build(out, seed=7, **SMALL)
    mp4 = out / "main/id02/00000.mp4"
    mp4.write_bytes(mp4.read_bytes()[:1000])
    build(out, seed=7, **SMALL)
    assert mp4.read_bytes() == (small_pair[0] / "main/id02/00000.mp4").read_bytes()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(voices=("flite_slt", "no_such_voice", "flite_awb")), "unknown voice 'no_such_voice'"),
        (dict(identities=9, clips=1), "only 8 faces"),
        (dict(size=0), "size must be between"),
        (dict(size=-128), "size must be between"),
        (dict(size=130), "multiple of 4"),
        (dict(seconds=0), "seconds must be between"),
        (dict(clips=0), "clips must be between"),
        (dict(identities=2), "leaves no identity for train"),
        (dict(voices=("flite_slt", "flite_slt", "flite_awb")), "distinct"),
    ],
)
def test_bad_arguments_fail_before_any_work(tmp_path, kwargs, message):
    args = {**SMALL, **kwargs}
    out = tmp_path / "never"
    with pytest.raises(SynthError, match=message):
        build(out, **args)
    assert not out.exists()


def test_unusable_output_directories(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(SynthError, match="not writable"):
        build(blocker / "corpus", **SMALL)
    with pytest.raises(SynthError, match="not a directory"):
        build(blocker, **SMALL)
    other = tmp_path / "other"
    other.mkdir()
    (other / "precious.txt").write_text("keep me")
    with pytest.raises(SynthError, match="not empty"):
        build(other, **SMALL)
    assert sorted(p.name for p in other.iterdir()) == ["precious.txt"]


def test_cli_reports_errors_with_exit_code(tmp_path):
    res = subprocess.run([sys.executable, "-m", "eval.synth", "build", "--out", str(tmp_path / "x"),
                          "--identities", "12"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "only 8 faces" in res.stderr
    res = subprocess.run([sys.executable, "-m", "eval.synth", "build", "--out", str(tmp_path / "x"),
                          "--voices", "flite_slt,bogus"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "unknown voice 'bogus'" in res.stderr


def test_cache_build_is_atomic(tmp_path, monkeypatch):
    final = tmp_path / "synth" / "key"

    def crash(tmp):
        tmp.mkdir(parents=True)
        (tmp / "partial.mp4").write_bytes(b"x")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        synth_cache._build_atomically(final, crash)
    assert not final.exists() and not [p for p in final.parent.iterdir() if ".tmp" in p.name]
    final.mkdir()  # a directory without the done-marker is never trusted
    (final / "stale").write_text("x")

    def good(tmp):
        tmp.mkdir(parents=True)
        (tmp / "ok").write_text("y")

    assert synth_cache._build_atomically(final, good) == final
    assert sorted(p.name for p in final.iterdir()) == [".done", "ok"]
    assert synth_cache._build_atomically(final, crash) == final  # complete: not rebuilt
    monkeypatch.setenv("TTSF_CACHE", str(tmp_path / "cache"))
    assert synth_cache.cache_root() == tmp_path / "cache"
    with pytest.raises(SynthError, match="unknown preset"):
        synth_cache.default_corpus("huge")
