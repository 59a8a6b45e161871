"""External baseline adapters: declared provenance, readiness, the exact upstream command."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import numpy as np
import pytest

from eval.systems import create
from eval.systems.base import SystemNotReady


@pytest.mark.parametrize("name,repo", [("sadtalker", "OpenTalker/SadTalker"), ("audio2head", "wangsuzhen/Audio2Head"),
                                       ("makeittalk", "yzhou359/MakeItTalk"), ("facetts", "naver-ai/facetts")])
def test_declares_upstream_and_is_not_ready_without_install(name, repo, tmp_path, monkeypatch):
    monkeypatch.setenv("TTSF_BASELINES", str(tmp_path))
    system = create(name)
    assert system.repo == f"https://github.com/{repo}" and len(system.commit) == 40
    assert system.checkpoints and system.produces
    ok, reason = system.readiness()
    assert not ok and str(tmp_path / name) in reason
    with pytest.raises(SystemNotReady, match="not installed"):
        system.check_ready()


def test_sadtalker_command_matches_spec():
    argv = create("sadtalker").command(Path("a.wav"), Path("i.png"), Path("out"))
    assert argv[argv.index("inference.py"):] == ["inference.py", "--driven_audio", "a.wav", "--source_image", "i.png",
                                                 "--result_dir", "out", "--preprocess", "crop", "--size", "256",
                                                 "--pose_style", "0"]
    still = create("sadtalker", still=True, preprocess="full", pose_style=3).command(Path("a"), Path("i"), Path("o"))
    assert still[still.index("--preprocess"):] == ["--preprocess", "full", "--size", "256", "--pose_style", "3",
                                                   "--still"]
    with pytest.raises(ValueError, match="pose_style"):
        create("sadtalker", pose_style=46)
    assert create("sadtalker-tts").speech_source == "tts" and create("sadtalker").speech_source == "gt"


def test_fake_upstream_runs_as_a_subprocess(tmp_path, monkeypatch):
    """An installed 'audio2head' whose interpreter is a script writing a video: the adapter runs it."""
    import json

    from eval.synth import default_corpus
    from eval.systems.base import Context
    from ttsf import media
    from ttsf.data.manifest import item_from_dict

    checkout = tmp_path / "audio2head"
    (checkout / "checkpoints").mkdir(parents=True)
    (checkout / "checkpoints" / "audio2head.pth.tar").write_bytes(b"weights")
    fake = checkout / "fake_python"
    # like Audio2Head: 64 px here (the adapter resizes to 256) and one frame short of the audio (padded)
    fake.write_text(f"""#!{sys.executable}
import math, sys, numpy as np
sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
from ttsf import media
argv = sys.argv[sys.argv.index("inference.py") + 1:]
args = dict(zip(argv[0::2], argv[1::2]))
seconds = media.read_audio(args["--audio_path"]).shape[0] / media.SAMPLE_RATE
frames = np.full((math.ceil(seconds * 25) - 1, 64, 64, 3), 128, np.uint8)
media.write_video(args["--save_path"] + "/result.mp4", frames)
""")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("TTSF_AUDIO2HEAD_DIR", str(checkout))
    monkeypatch.setenv("TTSF_AUDIO2HEAD_PYTHON", str(fake))
    system = create("audio2head")
    assert system.readiness()[0]
    prov = system.provenance()
    import hashlib

    assert prov["checkpoints"]["checkpoints/audio2head.pth.tar"] == hashlib.sha256(b"weights").hexdigest()
    root = default_corpus("tiny")
    item = item_from_dict(json.loads((root / "synth_test.jsonl").read_text().splitlines()[0]))
    out = system.generate(item, Context(root, tmp_path / "samples"))
    clip = media.read_video(out.video)
    driving = media.read_audio(root / item.ref_audio)
    assert clip.frames.shape == (media.duration_frames(driving.shape[0] / media.SAMPLE_RATE), 256, 256, 3)
    assert clip.audio is not None and out.notes == ("resized 64x64 -> 256x256",
                                                    "padded 1 frame(s) (last frame) to the audio length")
    assert (tmp_path / "samples" / f"{item.id}.log").is_file()


def test_length_far_off_the_audio_is_an_error():
    from eval.systems.base import GenerationError

    system = create("audio2head")
    frames = np.zeros((40, 256, 256, 3), np.uint8)
    fixed, notes = system.normalise(frames, 1.62)  # 41 frames wanted: padded
    assert fixed.shape[0] == 41 and notes
    with pytest.raises(GenerationError, match="40 frames for 2.000 s"):
        system.normalise(frames, 2.0)  # 50 wanted: 10 short is not a rounding difference


def test_makeittalk_command_and_middle_panel(monkeypatch, tmp_path):
    from eval.systems.base import GenerationError

    monkeypatch.setenv("TTSF_BASELINES_ROOT", str(tmp_path))
    system = create("makeittalk")
    argv = system.command(Path("a.wav"), Path("/w/source.png"), Path("out"))
    assert argv[argv.index("--jpg") + 1] == "source.png"
    assert argv[argv.index("--load_G_name") + 1] == "examples/ckpt/ckpt_116_i2i_comb.pth"
    assert {c.path for c in system.checkpoints} >= {argv[argv.index(f) + 1] for f in
                                                    ("--load_AUTOVC_name", "--load_a2l_G_name", "--load_a2l_C_name")}
    # an overlay interpreter run through compat.py (pynormalize, face_alignment and librosa shims)
    assert argv[0] == str(system.python) and argv[1].endswith("compat.py") and argv[2] == "main_end2end.py"
    (tmp_path / "makeittalk").mkdir()
    ok, reason = system.readiness()
    assert not ok and "baselines setup makeittalk" in reason
    # the landmark windows leave the last 0.288 s without picture: filled (noted), more is an error
    fixed, notes = system.normalise(np.zeros((43, 256, 256, 3), np.uint8), 2.0)
    assert fixed.shape[0] == 50 and "landmark windows" in notes[0]
    with pytest.raises(GenerationError, match="30 frames for 2.000 s"):
        system.normalise(np.zeros((30, 256, 256, 3), np.uint8), 2.0)
    panels = np.zeros((3, 256, 768, 3), np.uint8)
    panels[:, :, 256:512] = 200  # reference | generated | landmarks
    assert (system.crop_output(panels) == 200).all()
    with pytest.raises(GenerationError, match="3 panels"):
        system.crop_output(np.zeros((3, 256, 256, 3), np.uint8))
