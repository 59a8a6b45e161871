"""One loader for the three training stages (:mod:`ttsf.train.config`) and one ``from_dict``
(:mod:`ttsf.config`): every committed config resolves to the values the loaders it replaced
produced (``fixtures/configs_resolved.json``, written by the old code before the change)."""

import dataclasses
import json
from pathlib import Path

import pytest

from ttsf.config import from_dict, parse_overrides
from ttsf.train.config import AVStageConfig, TTSStageConfig, load_stage_config

ROOT = Path(__file__).resolve().parents[3]
EXPECTED = json.loads((Path(__file__).parent / "fixtures" / "configs_resolved.json").read_text())


def _resolved(rel: str) -> dict:
    path = ROOT / rel
    if path.parts[-2] == "tts":
        cfg = load_stage_config(path, None, TTSStageConfig)
        return {"model": dict(cfg.model), "data": dataclasses.asdict(cfg.data), "train": dataclasses.asdict(cfg.train)}
    return load_stage_config(path).as_dict()


def test_the_fixture_covers_every_config_file():
    assert sorted(EXPECTED) == sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "configs").rglob("*.yaml"))


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_every_config_resolves_as_before(rel):
    # JSON round trip: the fixture holds lists where YAML gave lists
    assert json.loads(json.dumps(_resolved(rel))) == EXPECTED[rel]


def test_tts_stage_takes_base_files_and_nested_set_overrides(tmp_path):
    child = tmp_path / "child.yaml"
    child.write_text(f"base: {ROOT / 'configs' / 'tts' / 'synth_cpu.yaml'}\ntrain: {{lr: 0.01}}\n")
    cfg = load_stage_config(child, parse_overrides(["train.max_steps=3", "model.mel.n_mels=40"]), TTSStageConfig)
    assert cfg.train.lr == 0.01 and cfg.train.max_steps == 3 and cfg.train.batch_size == 8  # 8: from the base
    assert cfg.model["mel"] == {"n_mels": 40} and cfg.model["enc_layers"] == 3
    with pytest.raises(ValueError, match=r"unknown train keys \['max_step'\] \(did you mean 'max_step' -> 'max_steps'"):
        load_stage_config(child, {"train.max_step": 3}, TTSStageConfig)
    with pytest.raises(ValueError, match="section.key"):
        load_stage_config(child, {"losses.weights.gan": 0}, TTSStageConfig)  # the TTS stage has no losses


def test_from_dict_builds_nested_dataclasses_and_names_the_closest_key():
    from ttsf.face.config import FaceConfig
    from ttsf.model import TTSFConfig

    cfg = from_dict(TTSFConfig, {"face": {"size": 32, "style_dim": 32}, "fps": 30})
    assert cfg.face == FaceConfig(size=32, style_dim=32) and cfg.fps == 30
    with pytest.raises(ValueError, match=r"unknown face keys \['sise'\] \(did you mean 'sise' -> 'size'\?\)"):
        TTSFConfig.from_dict({"face": {"sise": 32}})
    with pytest.raises(ValueError, match="unknown LossWeights keys"):
        from ttsf.losses.weights import LossWeights

        LossWeights.from_dict({"gna": 1})


def test_face_and_joint_sections_are_validated_whichever_way_they_come_in(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("stage: face\nlosses: {sinc: none}\n")
    with pytest.raises(ValueError, match=r"unknown losses keys \['sinc'\] \(did you mean 'sinc' -> 'sync'"):
        load_stage_config(bad)
    assert (load_stage_config(ROOT / "configs" / "face" / "synth_ci.yaml", {"init.face": "x.pt"}).init
            == {"face": "x.pt"})
    assert isinstance(load_stage_config(ROOT / "configs" / "face" / "synth_ci.yaml"), AVStageConfig)
