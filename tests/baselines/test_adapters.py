"""External baseline adapters: declared provenance, readiness, the exact upstream command."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

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
    assert argv[1:] == ["inference.py", "--driven_audio", "a.wav", "--source_image", "i.png", "--result_dir", "out",
                        "--preprocess", "full", "--size", "256", "--pose_style", "0", "--still"]
    assert create("sadtalker-tts").speech_source == "tts" and create("sadtalker").speech_source == "gt"


def test_fake_upstream_runs_as_a_subprocess(tmp_path, monkeypatch):
    """An installed 'audio2head' whose interpreter is a script writing a video: the adapter runs it."""
    import json

    from eval.data.manifest import item_from_dict
    from eval.synth import default_corpus
    from eval.systems.base import Context
    from ttsf import media

    checkout = tmp_path / "audio2head"
    (checkout / "checkpoints").mkdir(parents=True)
    (checkout / "checkpoints" / "audio2head.pth.tar").write_bytes(b"weights")
    fake = checkout / "fake_python"
    fake.write_text(f"""#!{sys.executable}
import sys, numpy as np
sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
from ttsf import media
args = dict(zip(sys.argv[2::2], sys.argv[3::2]))
frames = np.full((10, 64, 64, 3), 128, np.uint8)
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
    assert clip.frames.shape[1:] == (64, 64, 3) and clip.audio is not None
    assert (tmp_path / "samples" / f"{item.id}.log").is_file()
