"""Joint stage start-up: ``init.tts`` from a TTS pretrained with another conditioning."""

from pathlib import Path

import pytest
import torch
import yaml

from ttsf.model import TTSF, TTSFConfig
from ttsf.train.joint import init_from, tts_fields_for
from ttsf.tts.checkpoint import save_checkpoint
from ttsf.tts.config import TTSConfig
from ttsf.tts.model import TTS

CI_CONFIG = Path(__file__).resolve().parents[3] / "configs" / "joint" / "synth_ci.yaml"


def _pretrained_tts(path, cond_mode: str, cond_dim: int, **over):
    fields = dict(yaml.safe_load(CI_CONFIG.read_text())["model"]["tts"], mel_mean=-6.0, mel_std=3.0, **over)
    extra = {"n_speakers": 3} if cond_mode == "speaker_embedding" else {}
    cfg = TTSConfig.from_dict({**fields, "cond_mode": cond_mode, "cond_dim": cond_dim, **extra})
    torch.manual_seed(123)
    tts = TTS(cfg)
    save_checkpoint(path, tts, cfg, speakers=["a", "b", "c"][: extra.get("n_speakers", 0)])
    return tts


def _joint(init_path) -> TTSF:
    model_cfg = yaml.safe_load(CI_CONFIG.read_text())["model"]
    model_cfg["tts"] = tts_fields_for(model_cfg, {"tts": init_path})
    torch.manual_seed(0)
    return TTSF(TTSFConfig.from_dict(model_cfg))


def test_speaker_embedding_tts_initialises_the_body_and_resets_the_condition(tmp_path):
    path = tmp_path / "tts.pt"
    pre = _pretrained_tts(path, "speaker_embedding", 24)
    model = _joint(path)
    fresh = {k: v.clone() for k, v in model.tts.state_dict().items()}
    done = init_from(model, {"tts": path}, "cpu")
    got, want = model.tts.state_dict(), pre.state_dict()
    body = [k for k in got if not k.startswith(("cond_proj.", "speakers."))]
    assert body and all(torch.equal(got[k], want[k]) for k in body)
    assert not all(torch.equal(fresh[k], got[k]) for k in body)  # the body really was loaded
    # the face condition (style_dim 32) is not the speaker table (24-d): its projection starts fresh
    assert torch.equal(got["cond_proj.weight"], fresh["cond_proj.weight"])
    assert "speakers.weight" not in got
    assert done["tts_cond_mode"] == "speaker_embedding"
    assert done["tts_reset"] == ["cond_proj.bias", "cond_proj.weight"]
    assert len(done["tts_sha256"]) == 64


def test_face_tts_of_the_same_size_keeps_its_condition(tmp_path):
    path = tmp_path / "tts.pt"
    pre = _pretrained_tts(path, "face", 32)
    model = _joint(path)
    done = init_from(model, {"tts": path}, "cpu")
    assert torch.equal(model.tts.state_dict()["cond_proj.weight"], pre.state_dict()["cond_proj.weight"])
    assert done["tts_reset"] == []


def test_other_sizes_are_refused(tmp_path):
    path = tmp_path / "tts.pt"
    _pretrained_tts(path, "speaker_embedding", 24)
    model = _joint(path)
    other = tmp_path / "other.pt"
    _pretrained_tts(other, "speaker_embedding", 24, enc_filter=48)
    with pytest.raises(ValueError, match="enc|shape"):
        init_from(model, {"tts": other}, "cpu")


def test_face_warm_up_fits_any_layer_routing_but_not_other_sizes(tmp_path):
    import dataclasses

    from ttsf.face.model import FaceBranch
    from ttsf.train.face import FACE_FORMAT

    model_cfg = yaml.safe_load(CI_CONFIG.read_text())["model"]
    model_cfg["tts"].update(mel_mean=-6.0, mel_std=3.0)
    warm_cfg = TTSFConfig.from_dict(model_cfg).face  # 32 px: lip layers 3-4 by default
    torch.manual_seed(5)
    warm = FaceBranch(warm_cfg)
    path = tmp_path / "face.pt"
    torch.save({"format": FACE_FORMAT, "face_config": warm_cfg.to_dict(), "model": warm.state_dict()}, path)
    model = TTSF(TTSFConfig.from_dict({**model_cfg, "face": {**model_cfg["face"], "lip_layers": [4],
                                                             "lip_fusion": "add"}}))
    done = init_from(model, {"face": path}, "cpu")
    assert model.cfg.face.lip_set == (4,) and model.cfg.face.lip_fusion == "add" and done["face_sha256"]
    assert all(torch.equal(v, warm.state_dict()[k]) for k, v in model.face.state_dict().items())
    other = dataclasses.replace(warm_cfg, n_motion=4)
    torch.save({"format": FACE_FORMAT, "face_config": other.to_dict(), "model": FaceBranch(other).state_dict()},
               tmp_path / "other.pt")
    with pytest.raises(ValueError, match="differs"):
        init_from(model, {"face": tmp_path / "other.pt"}, "cpu")
