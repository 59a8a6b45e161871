"""The joint TTSF model: synthesis contract, determinism, checkpoints, CLI, joint training."""

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from ttsf.model import TTSF, TTSFConfig

REPO = Path(__file__).resolve().parents[2]
CI_CONFIG = REPO / "configs" / "joint" / "synth_ci.yaml"
TEXT = "The red bus is late again."


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Every test here runs on one torch thread (tests/ttsf/conftest.py)."""


def _model(**over) -> TTSF:
    cfg = yaml.safe_load(CI_CONFIG.read_text())["model"]
    cfg["tts"].update(mel_mean=-6.0, mel_std=3.0)
    cfg.update(over)
    torch.manual_seed(0)
    return TTSF(TTSFConfig.from_dict(cfg)).eval()


@pytest.fixture(scope="module")
def portrait(tiny_corpus):
    import cv2

    rgb = cv2.imread(str(tiny_corpus / "faces" / "id00.png"))[:, :, ::-1]
    return np.ascontiguousarray(rgb)


def test_lazy_export():
    import ttsf

    assert ttsf.TTSF is TTSF
    with pytest.raises(AttributeError):
        ttsf.nope  # noqa: B018


def test_synthesize_contract_determinism_and_head_motion(portrait):
    m = _model()
    motions = []
    orig = m.sampler.sample

    def spy(*args, **kw):
        out = orig(*args, **kw)
        motions.append(out.clone())
        return out

    m.sampler.sample = spy
    a = m.synthesize(TEXT, portrait, seed=3, steps=2)
    assert a.sample_rate == 16000 and a.fps == 25
    assert a.wav.dtype == np.float32 and a.wav.ndim == 1 and len(a.wav) % 160 == 0
    assert len(a.frames) == math.ceil(len(a.wav) / 16000 * 25) == a.info["n_frames"]
    assert a.frames.shape[1:] == (32, 32, 3) and a.frames.dtype == np.uint8
    assert set(a.timings) == {"align", "face_encode", "tts", "vocoder", "audio_mapper", "motion_sampler", "render"}
    b = m.synthesize(TEXT, portrait, seed=3, steps=2)
    assert np.array_equal(a.wav, b.wav) and np.array_equal(a.frames, b.frames)
    torch.testing.assert_close(motions[0], motions[1], rtol=0, atol=0)
    c = m.synthesize(TEXT, portrait, seed=4, steps=2)
    n = min(len(a.frames), len(c.frames))
    assert not np.array_equal(a.frames[:n], c.frames[:n])
    # different seeds -> different head motion (the sampled f_m sequence)
    assert (motions[0][..., :n] - motions[2][..., :n]).abs().mean() > 1e-3
    speech = m.synthesize(TEXT, portrait, seed=3, steps=2, video=False)
    assert np.array_equal(speech.wav, a.wav) and speech.frames.shape == (0, 32, 32, 3)


def test_reenact_follows_the_driving_frames_and_speech(portrait):
    from ttsf.face.align import prepare_source
    from ttsf.model import to_image_tensor

    m = _model()
    src = prepare_source(portrait, 32)
    rng = np.random.default_rng(0)
    driving = rng.integers(0, 256, (40, 32, 32, 3), dtype=np.uint8)
    wav = (0.1 * np.sin(np.arange(40 * 640) / 7.0)).astype(np.float32)
    motions = []
    orig = m.face.animate
    m.face.animate = lambda source, f_m, f_lip: motions.append((f_m.clone(), f_lip.clone())) or orig(source, f_m, f_lip)
    a = m.reenact(TEXT, src, driving, wav)
    assert a.shape == (40, 32, 32, 3) and a.dtype == np.uint8
    assert np.array_equal(a, m.reenact(TEXT, src, driving, wav))
    # the motion is E_m of the driving frames, frame by frame
    with torch.no_grad():
        want = m.face.motion_of(to_image_tensor(driving))
    torch.testing.assert_close(motions[0][0][0], want, rtol=1e-5, atol=1e-6)
    assert motions[0][1].shape == (1, 40, 32)
    still = np.repeat(driving[:1], 40, 0)
    b = m.reenact(TEXT, src, still, wav)
    assert not np.array_equal(a, b)  # other driving frames -> other video
    assert (motions[2][0][0] - motions[2][0][0][:1]).abs().max() < 1e-5  # still frames -> constant motion
    c = m.reenact(TEXT, src, driving, 0.5 * wav[::-1].copy())
    assert not np.array_equal(a, c)  # the lip feature follows the speech
    # speech shorter than the video: f_lip keeps the speech's own timing, then zero-padded (no stretch)
    short = wav[: 30 * 640]
    m.reenact(TEXT, src, driving, short)
    f_lip = motions[-1][1][0]
    assert f_lip.shape == (40, 32) and torch.count_nonzero(f_lip[30:]) == 0 and torch.count_nonzero(f_lip[:30]) > 0
    with pytest.raises(ValueError, match="reenact needs"):
        m.reenact(TEXT, src, driving[:, :16], wav)


def test_joint_losses_sampler_window_longer_than_the_rendered_one():
    from ttsf.tts.text import text_to_tokens

    m = _model().train()
    torch.manual_seed(1)
    b, t, r = 2, 6, 2
    frames = torch.rand(b, t, 3, 32, 32) * 2 - 1
    tokens = torch.tensor([text_to_tokens(TEXT)] * b)
    mel = torch.randn(b, 80, 120) - 6
    seen = {}
    orig = m.sampler.losses
    m.sampler.losses = lambda f_m, f_lip, mask, g=None: seen.update(f_m=f_m, mask=mask) or orig(f_m, f_lip, mask, g)
    args = (frames[:, 0], frames, torch.tensor([0, 3]), tokens, torch.tensor([tokens.shape[1]] * b), mel,
            torch.tensor([120, 120]))
    rendered = []
    gen = m.face.generate
    m.face.generate = lambda feats, f_id, f_m, f_lip: rendered.append(f_m.detach().clone()) or gen(feats, f_id, f_m,
                                                                                                    f_lip)
    start = torch.tensor([1, 4])
    rows_seen = []
    motion_of = m.face.motion_of
    m.face.motion_of = lambda img: rows_seen.append(len(img)) or motion_of(img)
    out = m.joint_losses(*args, render=r, render_start=start)
    m.face.motion_of = motion_of
    assert sum(rows_seen) == b * t  # E_m reads each frame once (rendered ones with gradient)
    assert out["fake"].shape == (b, r, 3, 32, 32) and out["mask"].shape == (b, 1, r)
    assert out["f_lip"].shape == (b, r, 32)
    assert out["render_offsets"].tolist() == [1, 7]  # window offsets [0, 3] + render starts [1, 4]
    assert torch.equal(out["real"], torch.stack([frames[0, 1:3], frames[1, 4:6]]))
    assert seen["f_m"].shape == (b, 32, t) and seen["mask"].shape == (b, 1, t)  # the sampler sees all 6 frames
    with torch.no_grad():
        want = m.face.motion_of(frames.flatten(0, 1)).view(b, t, -1)
    torch.testing.assert_close(seen["f_m"], want.transpose(1, 2), rtol=1e-5, atol=1e-6)
    # the generator renders frames 1-2 of window 0 and 4-5 of window 1
    torch.testing.assert_close(rendered[0].view(b, r, -1), torch.stack([want[0, 1:3], want[1, 4:6]]),
                               rtol=1e-5, atol=1e-6)
    out["fake"].sum().backward()  # gradients reach E_m through the rendered frames
    assert m.face.motion.codes.weight.grad is not None
    with pytest.raises(ValueError, match="render"):
        m.joint_losses(*args, render=t + 1)
    with pytest.raises(ValueError, match="render_start"):
        m.joint_losses(*args, render=r, render_start=torch.tensor([0, 5]))


def test_tts_condition_ablation():
    img = torch.rand(2, 3, 32, 32) * 2 - 1
    for mode, key in (("f_id", "f_id"), ("f_id+f_m", "f")):
        m = _model(tts_condition=mode)
        enc = m.face.encode(img)
        torch.testing.assert_close(m.speaker_condition(enc), enc[key])
    assert not torch.allclose(enc["f"], enc["f_id"])
    with pytest.raises(ValueError, match="tts_condition"):
        _model(tts_condition="f_m")


def test_checkpoint_round_trip(tmp_path, portrait):
    m = _model()
    path = m.save(tmp_path / "t.pt", {"note": "x"})
    blob = torch.load(path, weights_only=True)
    assert blob["format"] == "ttsf-joint/1"
    m2 = TTSF.load(path)
    assert m2.meta == {"note": "x"}
    a, b = m.synthesize(TEXT, portrait, seed=0, steps=2), m2.synthesize(TEXT, portrait, seed=0, steps=2)
    assert np.array_equal(a.frames, b.frames) and np.array_equal(a.wav, b.wav)
    torch.save({"format": "other"}, tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="not a TTSF joint checkpoint"):
        TTSF.load(tmp_path / "bad.pt")


def test_joint_training_then_cli(tiny_corpus, tmp_path):
    from ttsf.train.av_common import read_config
    from ttsf.train.joint import train

    cfg = read_config(CI_CONFIG, {"data.root": str(tiny_corpus), "train.out_dir": str(tmp_path / "run"),
                                  "train.steps": 3, "train.sample_every": 3})
    res = train(cfg, resume=False)
    assert res["steps"] == 3
    row = res["history"][-1]
    for key in ("loss_tts", "loss_rec", "loss_gan", "loss_id", "loss_ae", "loss_prior", "loss_cfm"):
        assert math.isfinite(row[key]), key
    assert "loss_sync" not in row  # no SyncNet configured: off, and said so in run.json
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["losses"]["sync"]["backend"] == "none"
    assert run["losses"]["perceptual"]["backend"] == "mobilenet_v2"
    assert len(run["data"]["sha256"]) == 64
    assert (tmp_path / "run" / "samples" / "step_0000003.png").is_file()
    ckpt = tmp_path / "run" / "ttsf.pt"
    out = tmp_path / "o.mp4"
    cmd = [sys.executable, "-m", "ttsf.synthesize", "--text", "Hello there.", "--image",
           str(tiny_corpus / "faces" / "id01.png"), "--checkpoint", str(ckpt), "--out", str(out), "--seed", "1",
           "--steps", "2"]
    env = {"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    from ttsf.media import probe

    p = probe(out)
    assert p["video"]["frames"] == info["n_frames"] == math.ceil(info["duration_s"] * 25 - 1e-9)
    assert p["video"]["width"] == 32 and p["audio"]["sample_rate"] == 16000
    blank = tmp_path / "blank.png"
    import cv2

    cv2.imwrite(str(blank), np.full((80, 60, 3), 200, np.uint8))
    proc = subprocess.run(cmd[:6] + [str(blank)] + cmd[7:], capture_output=True, text=True, cwd=REPO, env=env,
                          timeout=300)
    assert proc.returncode == 2 and "no face detected" in proc.stderr


def test_joint_training_with_a_longer_motion_window(tiny_corpus, tmp_path):
    from ttsf.train.av_common import read_config
    from ttsf.train.joint import train

    cfg = read_config(CI_CONFIG, {"data.root": str(tiny_corpus), "train.out_dir": str(tmp_path / "run"),
                                  "train.steps": 2, "train.sample_every": 2, "train.window": 3,
                                  "train.motion_window": 10})
    res = train(cfg, resume=False)
    row = res["history"][-1]
    assert res["steps"] == 2 and all(math.isfinite(row[k]) for k in ("loss_rec", "loss_cfm", "loss_prior"))
    assert (tmp_path / "run" / "samples" / "step_0000002.png").is_file()
    cfg = read_config(CI_CONFIG, {"data.root": str(tiny_corpus), "train.out_dir": str(tmp_path / "bad"),
                                  "train.window": 8, "train.motion_window": 4})
    with pytest.raises(ValueError, match="motion_window"):
        train(cfg, resume=False)
