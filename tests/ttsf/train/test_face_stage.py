"""Face stage: eq. 1 routing of the warm-up (``train.lip_input``)."""

from pathlib import Path

import pytest
import torch

CONFIG = Path(__file__).resolve().parents[3] / "configs" / "face" / "synth_ci.yaml"


def _styles_seen(tiny_corpus, tmp_path, lip_input):
    """Train one step of the 32 px CI config (layer 1 in neither set, motion layer 2, lip layers
    3 and 4) and return the styles each generator layer received."""
    from ttsf.face.generator import SynthesisLayer
    from ttsf.train.av_common import read_config
    from ttsf.train.face import train

    torch.set_num_threads(1)
    cfg = read_config(CONFIG, {"data.root": str(tiny_corpus), "train.out_dir": str(tmp_path / lip_input),
                               "train.steps": 1, "train.lip_input": lip_input,
                               "model.face.motion_layers": [2]})
    seen = []
    original = SynthesisLayer.forward

    def spy(self, x, style, feat, rgb_skip=None):
        seen.append(style.detach().clone())
        return original(self, x, style, feat, rgb_skip)

    SynthesisLayer.forward = spy
    try:
        train(cfg, resume=False)
    finally:
        SynthesisLayer.forward = original
    return seen[:4]  # the training step's four layers


def test_lip_input_none_feeds_the_lip_layers_f_id_alone(tiny_corpus, tmp_path):
    f_id, motion, lip3, lip4 = _styles_seen(tiny_corpus, tmp_path, "none")
    torch.testing.assert_close(lip3, f_id)
    torch.testing.assert_close(lip4, f_id)
    assert (motion - f_id).abs().max() > 1e-4  # the motion layer still gets f_id + f_m


def test_lip_input_f_m_feeds_the_lip_layers_f_id_plus_f_m(tiny_corpus, tmp_path):
    f_id, motion, lip3, lip4 = _styles_seen(tiny_corpus, tmp_path, "f_m")
    torch.testing.assert_close(lip3, motion)
    torch.testing.assert_close(lip4, motion)
    assert (lip3 - f_id).abs().max() > 1e-4


def test_unknown_lip_input_is_refused(tiny_corpus, tmp_path):
    from ttsf.train.av_common import read_config
    from ttsf.train.face import train

    cfg = read_config(CONFIG, {"data.root": str(tiny_corpus), "train.out_dir": str(tmp_path / "x"),
                               "train.lip_input": "f_lip"})
    with pytest.raises(ValueError, match="must be 'f_m' or 'none'"):
        train(cfg, resume=False)


def test_resume_with_another_lip_input_is_refused(tiny_corpus, tmp_path):
    from ttsf.train.av_common import read_config
    from ttsf.train.face import train

    torch.set_num_threads(1)
    over = {"data.root": str(tiny_corpus), "train.out_dir": str(tmp_path / "run"), "train.steps": 1}
    train(read_config(CONFIG, {**over, "train.lip_input": "none"}), resume=False)
    blob = torch.load(tmp_path / "run" / "last.pt", weights_only=True)
    assert blob["recipe"]["lip_input"] == "none"
    with pytest.raises(ValueError, match=r"\['lip_input'\] differ"):
        train(read_config(CONFIG, {**over, "train.steps": 2, "train.lip_input": "f_m"}), resume=True)
    res = train(read_config(CONFIG, {**over, "train.steps": 2, "train.lip_input": "none"}), resume=True)
    assert [h["step"] for h in res["history"]] == [2]


def test_lr_warm_up_is_applied_and_logged(tiny_corpus, tmp_path):
    from ttsf.train.av_common import read_config
    from ttsf.train.face import train

    torch.set_num_threads(1)
    res = train(read_config(CONFIG, {"data.root": str(tiny_corpus), "train.out_dir": str(tmp_path / "run"),
                                     "train.steps": 3, "train.lr_warmup": 2}), resume=False)
    lr = read_config(CONFIG)["train"]["lr"]
    assert [h["lr"] for h in res["history"]] == pytest.approx([lr / 2, lr, lr])
