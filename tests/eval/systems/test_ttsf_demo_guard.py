"""The demo checkpoint (trained on the synthetic corpus) is never used silently on real data."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from eval.systems.base import Context, GenerationError
from eval.systems.ttsf_system import DEFAULT_CHECKPOINT, TTSFSystem, refuse_demo_checkpoint
from ttsf.data.manifest import load_manifest

REPO = Path(__file__).resolve().parents[3]
REAL = REPO / "tests" / "data" / "real_av"
SYNTH_SHA = "91443e758418b484183f53bd6dd4c5f1c4c2229981e664509d96e2f318be6090"


def test_eval_run_on_lrs2_refuses_the_demo_checkpoint(tmp_path, monkeypatch, capsys):
    from eval.run.cli import main

    monkeypatch.delenv("TTSF_CHECKPOINT", raising=False)
    first = load_manifest(REPO / "splits" / "lrs2_test_subset.jsonl").items[0]  # a fake LRS2 tree
    (tmp_path / "lrs2" / Path(first.ref_video).parent).mkdir(parents=True)
    shutil.copyfile(REAL / "audio_00015.mp4", tmp_path / "lrs2" / first.ref_video)
    (tmp_path / "lrs2" / first.text_source).write_text("Text:  HELLO THERE\n")
    code = main(["--table", "1", "--split", "lrs2_test_subset", "--data-root", str(tmp_path), "--limit", "1",
                 "--out", str(tmp_path / "runs"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert "demo trained on the synthetic corpus" in err and "'lrs2_test_subset'" in err
    assert "TTSF_CHECKPOINT=runs/joint_lrs3/ttsf.pt" in err and "scripts/train_paper.sh" in err
    assert not (tmp_path / "runs").exists()  # stopped before anything ran


def test_refusal_rules(monkeypatch):
    monkeypatch.delenv("TTSF_CHECKPOINT", raising=False)
    assert refuse_demo_checkpoint(["gt", "ttsf-tts"], "lrs2_test", False)
    assert refuse_demo_checkpoint(["gt", "still"], "lrs2_test", False) is None  # no TTSF row
    assert refuse_demo_checkpoint(["ttsf"], "synth_test", True) is None  # its own corpus
    monkeypatch.setenv("TTSF_CHECKPOINT", str(DEFAULT_CHECKPOINT))  # named: the user's choice
    assert refuse_demo_checkpoint(["ttsf"], "lrs2_test", False) is None
    assert TTSFSystem().named


def test_generate_refuses_demo_outside_the_synthetic_corpus(tmp_path, monkeypatch, tiny_corpus):
    monkeypatch.delenv("TTSF_CHECKPOINT", raising=False)
    system = TTSFSystem()
    assert not system.named
    item = load_manifest(tiny_corpus / "synth_test.jsonl").items[0]
    with pytest.raises(GenerationError) as exc:
        system.generate(item, Context(tmp_path, tmp_path / "out"))
    assert exc.value.code == "demo_checkpoint"


def test_committed_checkpoint_surfaces_its_training_data():
    from ttsf.provenance import demo_data_warning, training_data

    meta = torch.load(DEFAULT_CHECKPOINT, map_location="cpu", weights_only=True)["meta"]
    data = training_data(meta)
    assert data == {"name": "synth:default", "manifest": None, "sha256": SYNTH_SHA, "synthetic": True}
    prov = TTSFSystem(checkpoint=str(DEFAULT_CHECKPOINT)).provenance()
    assert prov["training_data"]["synthetic"] is True and prov["named"] is True
    assert training_data({"data": {"name": "data/lrs3", "sha256": "ab", "synthetic": False}})["synthetic"] is False
    assert demo_data_warning({"data_sha256": "ab"}, "x.png") is None  # unknown data: no claim


def test_synthesize_warns_once_on_a_real_portrait(tmp_path, tiny_corpus, capsys):
    import cv2

    from ttsf import media
    from ttsf.model import TTSF, TTSFConfig
    from ttsf.synthesize import main

    torch.set_num_threads(1)
    cfg = yaml.safe_load((REPO / "configs" / "joint" / "synth_ci.yaml").read_text())["model"]
    cfg["tts"].update(mel_mean=-6.0, mel_std=3.0)
    torch.manual_seed(0)
    ck = TTSF(TTSFConfig.from_dict(cfg)).save(tmp_path / "ttsf.pt", {"data_sha256": SYNTH_SHA})
    frame = next(media.iter_frames(REAL / "pose_00473.mp4"))
    portrait = tmp_path / "portrait.png"
    cv2.imwrite(str(portrait), np.ascontiguousarray(frame[:, :, ::-1]))
    assert main(["--text", "Hi.", "--image", str(portrait), "--checkpoint", str(ck), "--out",
                 str(tmp_path / "o.mp4"), "--steps", "2"]) == 0
    err = capsys.readouterr().err
    assert err.count("trained on the synthetic corpus") == 1
    synth_face = next((tiny_corpus / "faces").glob("*.png"))
    assert main(["--text", "Hi.", "--image", str(synth_face), "--checkpoint", str(ck), "--out",
                 str(tmp_path / "s.mp4"), "--steps", "2"]) == 0
    assert "trained on the synthetic corpus" not in capsys.readouterr().err
