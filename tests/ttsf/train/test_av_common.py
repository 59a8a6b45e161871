"""Face/joint training config handling: ``base:`` inheritance, nested overrides, validation."""

from pathlib import Path

import pytest

from ttsf.config import parse_overrides
from ttsf.train.av_common import read_config

CONFIGS = Path(__file__).resolve().parents[3] / "configs"


def test_ablation_inherits_and_overrides_base():
    cfg = read_config(CONFIGS / "joint" / "synth_64_mapper_et.yaml")
    assert cfg["model"]["motion"]["mapper_inputs"] == ["e_t"]
    assert cfg["model"]["motion"]["prior_layers"] == 4  # from the base file
    assert cfg["model"]["face"]["size"] == 64
    assert cfg["train"]["out_dir"] == "runs/joint_synth_64_mapper_et"
    wm = read_config(CONFIGS / "joint" / "lrs3_paper_wmotion.yaml")
    assert wm["model"]["tts_condition"] == "f_id+f_m" and wm["model"]["face"]["size"] == 256
    assert wm["losses"]["weights"] == {"gan": 0.1, "rec": 1.0, "id": 0.3, "sync": 0.1, "cfm": 0.1, "ae": 1.0,
                                       "prior": 0.1, "tts": 1.0}


def test_nested_overrides_and_unknown_keys(tmp_path):
    over = parse_overrides(["losses.weights.gan=0.5", "train.steps=7", "model.face.size=32"])
    cfg = read_config(CONFIGS / "face" / "synth_ci.yaml", over)
    assert cfg["losses"]["weights"] == {"gan": 0.5, "id": 0.0}
    assert cfg["train"]["steps"] == 7 and cfg["model"]["face"]["size"] == 32
    with pytest.raises(ValueError, match="unknown train keys"):
        read_config(CONFIGS / "face" / "synth_ci.yaml", {"train.stepz": 1})
    with pytest.raises(ValueError, match="section.key"):
        parse_overrides(["steps"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("modle: {}\n")
    with pytest.raises(ValueError, match="unknown sections"):
        read_config(bad)


def test_resume_training_restores_parts_and_checks_config(tmp_path):
    import numpy as np
    import torch

    from ttsf.train.av_common import resume_training, save_atomic

    last = tmp_path / "last.pt"
    assert resume_training(last, "config", {"a": 1}, {}, "cpu", 0, 0) is None
    src = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(src.parameters(), lr=1e-3)
    src(torch.ones(1, 3)).sum().backward()
    opt.step()
    save_atomic({"config": {"a": 1}, "model": src.state_dict(), "opt": opt.state_dict(), "step": 7}, last)
    assert not (tmp_path / "last.pt.tmp").exists()
    dst = torch.nn.Linear(3, 2)
    dst_opt = torch.optim.Adam(dst.parameters(), lr=1e-3)
    step, rng = resume_training(last, "config", {"a": 1}, {"model": dst, "opt": dst_opt}, "cpu", 3, 1)
    assert step == 7 and torch.equal(dst.weight, src.weight)
    assert dst_opt.state_dict()["state"][0]["step"] == opt.state_dict()["state"][0]["step"]
    # the data stream depends on seed and step only: every rank draws the same global batch
    assert rng.integers(1 << 30) == np.random.default_rng([3, 7]).integers(1 << 30)
    _, rng0 = resume_training(last, "config", {"a": 1}, {"model": dst, "opt": dst_opt}, "cpu", 3, 0)
    assert rng0.integers(1 << 30) == np.random.default_rng([3, 7]).integers(1 << 30)
    with pytest.raises(ValueError, match="config differs"):
        resume_training(last, "config", {"a": 2}, {"model": dst}, "cpu", 3, 1)


def test_resume_refuses_a_changed_training_recipe(tmp_path):
    import torch

    from ttsf.train.av_common import resume_training, save_atomic, training_recipe
    from ttsf.train.config import AVStageConfig

    TRAIN_DEFAULTS = AVStageConfig().as_dict()["train"]

    last = tmp_path / "last.pt"
    tc = {**TRAIN_DEFAULTS, "window": 8, "motion_window": 32}
    m = torch.nn.Linear(2, 2)
    save_atomic({"config": {"a": 1}, "model": m.state_dict(), "step": 5, "recipe": training_recipe(tc)}, last)
    more = {**tc, "steps": 99, "max_minutes": 3, "lr": 1e-5}  # how long and how fast may change
    assert resume_training(last, "config", {"a": 1}, {"model": m}, "cpu", 0, 0, training_recipe(more))[0] == 5
    for key, value in (("window", 16), ("motion_window", None), ("lip_input", "none")):
        with pytest.raises(ValueError, match=rf"\['{key}'\] differ"):
            resume_training(last, "config", {"a": 1}, {"model": m}, "cpu", 0, 0, training_recipe({**tc, key: value}))
    # a last.pt written before recipes were recorded still resumes (with a warning)
    save_atomic({"config": {"a": 1}, "model": m.state_dict(), "step": 4}, last)
    assert resume_training(last, "config", {"a": 1}, {"model": m}, "cpu", 0, 0, training_recipe(tc))[0] == 4


def test_lr_warm_up_is_linear_then_flat_and_depends_only_on_the_step():
    import torch

    from ttsf.train.av_common import warm_up_lr
    from ttsf.train.config import AVStageConfig

    TRAIN_DEFAULTS = AVStageConfig().as_dict()["train"]

    opt = torch.optim.Adam(torch.nn.Linear(2, 2).parameters(), lr=123.0)
    tc = {**TRAIN_DEFAULTS, "lr": 1e-3, "lr_warmup": 4}
    lrs = [warm_up_lr(step, tc, opt) for step in range(6)]
    assert lrs == pytest.approx([2.5e-4, 5e-4, 7.5e-4, 1e-3, 1e-3, 1e-3])
    assert opt.param_groups[0]["lr"] == pytest.approx(1e-3)
    assert warm_up_lr(1, tc, opt) == pytest.approx(5e-4)  # a resumed run at step 1 gets the same lr
    assert warm_up_lr(0, {**tc, "lr_warmup": 0}, opt) == pytest.approx(1e-3)
