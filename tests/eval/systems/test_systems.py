"""The gt, still and dir:PATH systems and the registry."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from eval.systems import REGISTRY, create
from eval.systems.base import Context, GenerationError
from eval.systems.inputs import source_image
from ttsf import media
from ttsf.data.manifest import item_from_dict
from ttsf.names import UnknownName


@pytest.fixture(scope="module")
def tiny():
    from eval.synth import default_corpus

    root = default_corpus("tiny")
    items = [item_from_dict(json.loads(x)) for x in (root / "synth_test.jsonl").read_text().splitlines()]
    return root, items


def test_still_holds_the_source_frame_for_the_length_of_the_speech(tiny, tmp_path):
    root, items = tiny
    item = items[0]
    still = create("still")
    assert still.produces == ("audio", "video") and still.speech_source == "gt"
    out = still.generate(item, Context(root, tmp_path))
    ref = media.read_audio(root / item.ref_audio)
    wav = media.read_audio(out.audio)
    assert wav.shape == ref.shape and np.abs(wav - ref).max() < 1e-3  # 16-bit PCM of the same speech
    clip = media.read_video(out.video)
    assert clip.frames.shape[0] == media.duration_frames(ref.shape[0] / 16000)
    src = source_image(item, root).astype(np.int16)
    assert np.abs(clip.frames[0].astype(np.int16) - src).mean() < 3.0  # H.264 of the source frame
    assert np.abs(clip.frames[-1].astype(np.int16) - clip.frames[0]).max() <= 2  # held still
    assert clip.audio is not None and abs(clip.audio.shape[0] - ref.shape[0]) < 1600


def test_gt_passes_references_through(tiny, tmp_path):
    root, items = tiny
    out = create("gt").generate(items[0], Context(root, tmp_path))
    assert out.video == (root / items[0].ref_video).resolve() and out.audio == (root / items[0].ref_audio).resolve()
    assert not any(tmp_path.iterdir())  # nothing written


def test_still_reports_a_broken_source(tiny, tmp_path):
    root, items = tiny
    data = tmp_path / "data"
    item = items[0]
    for rel in (item.source.path, item.ref_audio):
        (data / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, data / rel)
    (data / item.source.path).write_bytes(b"\x00" * 64)
    with pytest.raises(GenerationError, match="source image"):
        create("still").generate(item, Context(data, tmp_path / "out"))


def test_dir_system_finds_outputs_by_id(tiny, tmp_path):
    root, items = tiny
    d = tmp_path / "mine"
    (d / items[0].id).parent.mkdir(parents=True)
    shutil.copy2(root / items[0].ref_audio, d / f"{items[0].id}.wav")
    system = create(f"dir:{d}", name="mine")
    assert system.name == "mine" and system.produces == ("audio",) and system.readiness()[0]
    assert system.generate(items[0], Context(root, tmp_path)).audio == d / f"{items[0].id}.wav"
    with pytest.raises(GenerationError, match="no output for id"):
        system.generate(items[1], Context(root, tmp_path))
    assert not create(f"dir:{tmp_path / 'absent'}").readiness()[0]


def test_registry_names_and_typos(monkeypatch, tmp_path):
    assert ({"gt", "still", "still-tts", "sadtalker", "sadtalker-tts", "facetts", "ttsf", "ttsf-tts"}
            <= set(REGISTRY.names()))
    with pytest.raises(UnknownName, match="Did you mean: still"):
        create("stil")
    # still-tts is ready exactly when its speech system (ttsf-tts) is
    assert create("still-tts").readiness()[0] == create("ttsf-tts").readiness()[0]
    monkeypatch.setenv("TTSF_CHECKPOINT", str(tmp_path / "missing.pt"))
    ok, reason = create("still-tts").readiness()
    assert not ok and "tts" in reason
