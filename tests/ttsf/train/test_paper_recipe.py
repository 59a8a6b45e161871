"""The paper recipe (scripts/train_paper.sh) walked end to end on a fake LRS3 tree.

``freeze lrs3`` -> ``ttsf.train tts`` (configs/tts/lrs3.yaml) -> ``ttsf.train face``
(configs/face/lrs3_paper.yaml) -> ``ttsf.train joint`` (configs/joint/lrs3_paper.yaml,
``init.tts``/``init.face`` from the earlier stages): 2 optimiser steps per stage, save,
resume for a third, then ``python -m ttsf.synthesize`` from the joint checkpoint.

Sizes: the paper configs as committed, with these overrides so it fits a CI test on 2 CPU
cores (:data:`FACE_CPU`, :data:`CPU`): the face branch at 32 px, style 64, channels 16..64
(the paper: 256 px, style 512, channels 64..512; one paper-size face step takes about a
minute on this machine, see bench/train_throughput.py); the TTS (Matcha-TTS sizes), the
motion sampler (mapper 256 ch, 4-layer Conformer prior of 256), 20 motion codes, the 5-layer
motion MLP and the 32-frame window are the paper's. Batch 2 (joint: 1 clip of 32 frames; the
paper's is 2 per GPU). Device CPU (AMP is a CUDA
path). Losses: identity through SFace (offline; ArcFace's file is absent), perceptual through
MobileNetV2 (VGG19's file is absent), no SyncNet. The fake tree's clips are the tiny
synthetic corpus's, laid out as LRS3.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[3]
FACE_CPU = {"model.face.size": 32, "model.face.style_dim": 64, "model.face.channel_base": 16,
            "model.face.channel_max": 64}
CPU = {"train.device": "cpu", "train.batch_size": 2, "train.threads": 2, "train.log_every": 1,
       "train.sample_every": 0, "losses.perceptual": "mobilenet_v2", "losses.identity": "sface", "losses.sync": "none"}


def make_fake_lrs3(corpus: Path, root: Path) -> Path:
    """``root/lrs3/{pretrain,trainval,test}/<spk>/<clip>.mp4`` + ``.txt`` (with an ``{LG}`` tag)."""
    from ttsf.data.manifest import load_manifest

    items = [*load_manifest(corpus / "synth_train.jsonl"), *load_manifest(corpus / "synth_test.jsonl")]
    for k, item in enumerate(sorted(items, key=lambda it: it.id)):
        set_name = "pretrain" if k < 8 else "trainval" if k < 12 else "test"
        d = root / "lrs3" / set_name / item.speaker
        d.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(corpus / item.ref_video, d / f"{k:05d}.mp4")
        (d / f"{k:05d}.txt").write_text(f"Text:  {item.text.upper().rstrip('.')} {{LG}}\nConf:  4\n")
    return root


def _sets(pairs: dict) -> list[str]:
    return ["--set", *(f"{k}={json.dumps(v) if not isinstance(v, str) else v}" for k, v in pairs.items())]


def _step(path: Path) -> int:
    return int(torch.load(path, map_location="cpu", weights_only=True)["step"])


@pytest.mark.slow
def test_paper_recipe_two_steps_resume_and_synthesise(tiny_corpus, tmp_path, capsys):
    from eval.splits import main as splits_main
    from ttsf.synthesize import main as synth_main
    from ttsf.train.__main__ import main as train_main

    torch.set_num_threads(2)
    data = make_fake_lrs3(tiny_corpus, tmp_path / "data")
    assert splits_main(["freeze", "lrs3", "--data-root", str(data)]) == 0
    freeze = json.loads((data / "lrs3" / "lrs3_freeze.json").read_text())
    manifest_sha = freeze["manifests"]["lrs3_pretrain_trainval"]["sha256"]
    lrs3 = data / "lrs3"
    runs = tmp_path / "runs"

    # 1. TTS pretraining (configs/tts/lrs3.yaml: Matcha-TTS sizes, speaker-embedding condition)
    tts_sets = {"data.train_manifest": str(lrs3 / "lrs3_pretrain_trainval.jsonl"), "data.root": str(lrs3),
                "train.batch_size": 2, "train.device": "cpu", "train.ckpt_every": 1}
    tts_args = ["tts", "--config", str(REPO / "configs/tts/lrs3.yaml"), "--out-dir", str(runs / "tts_lrs3"),
                "--threads", "2", *_sets(tts_sets)]
    assert train_main([*tts_args, "--max-steps", "2"]) == 0
    assert _step(runs / "tts_lrs3" / "last.pt") == 2
    assert train_main([*tts_args, "--max-steps", "3"]) == 0  # resumes last.pt
    assert _step(runs / "tts_lrs3" / "last.pt") == 3
    tts_cfg = torch.load(runs / "tts_lrs3" / "last.pt", map_location="cpu", weights_only=True)["config"]
    assert (tts_cfg["enc_channels"], tts_cfg["enc_layers"], tts_cfg["dec_channels"]) == (192, 6, [256, 256])

    # 2. face warm-up (configs/face/lrs3_paper.yaml)
    face_out = runs / "face_lrs3"
    face_args = ["face", "--config", str(REPO / "configs/face/lrs3_paper.yaml"),
                 *_sets({**FACE_CPU, **CPU, "data.root": str(lrs3), "train.out_dir": str(face_out)})]
    assert train_main([*face_args, "train.steps=2"]) == 0
    first = torch.load(face_out / "face.pt", map_location="cpu", weights_only=True)
    assert first["step"] == 2 and first["meta"]["data"]["sha256"] == manifest_sha
    assert train_main([*face_args, "train.steps=3"]) == 0
    assert _step(face_out / "last.pt") == 3
    face_run = json.loads((face_out / "run.json").read_text())
    assert face_run["losses"]["identity"]["backend"] == "sface" and face_run["data"]["clips"] == 12

    # 3. joint (configs/joint/lrs3_paper.yaml) from both
    joint_out = runs / "joint_lrs3"
    joint_args = ["joint", "--config", str(REPO / "configs/joint/lrs3_paper.yaml"),
                  *_sets({**FACE_CPU, **CPU, "train.batch_size": 1, "data.root": str(lrs3),
                          "train.out_dir": str(joint_out),
                          "init.tts": str(runs / "tts_lrs3" / "last.pt"), "init.face": str(face_out / "face.pt")})]
    assert train_main([*joint_args, "train.steps=2"]) == 0
    assert _step(joint_out / "last.pt") == 2
    assert train_main([*joint_args, "train.steps=3"]) == 0
    assert _step(joint_out / "last.pt") == 3
    rows = (joint_out / "losses.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["1", "2", "3"]  # one more step after the resume
    blob = torch.load(joint_out / "ttsf.pt", map_location="cpu", weights_only=True)
    meta, cfg = blob["meta"], blob["config"]
    assert meta["steps"] == 3 and meta["data"] == {"name": str(lrs3), "manifest": "lrs3_pretrain_trainval.jsonl",
                                                     "sha256": manifest_sha, "synthetic": False}
    assert meta["init"]["face_sha256"] and meta["init"]["tts_cond_mode"] == "speaker_embedding"
    assert cfg["motion"]["mapper_channels"] == 256 and cfg["motion"]["prior_layers"] == 4
    assert cfg["motion"]["window"] == 32 and cfg["face"]["n_motion"] == 20 and cfg["tts"]["enc_layers"] == 6
    capsys.readouterr()

    # 4. synthesis from the result
    from ttsf import media

    portrait = next((tiny_corpus / "faces").glob("*.png"))
    out = tmp_path / "out.mp4"
    assert synth_main(["--text", "Hello there.", "--image", str(portrait), "--checkpoint", str(joint_out / "ttsf.pt"),
                       "--out", str(out), "--steps", "2"]) == 0
    info = media.probe(out)
    assert info["video"]["width"] == 32 and info["video"]["frames"] > 0 and info["audio"]["sample_rate"] == 16000
    assert "trained on the synthetic corpus" not in capsys.readouterr().err
