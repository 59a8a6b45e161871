"""Placeholder (random-init) weights: detected inside the file, refused outside tests,
and a run that allows them marks the row (results.json, printed table, every cell not comparable)."""

from __future__ import annotations

import json
import stat
import struct
import sys
from pathlib import Path

import torch

from baselines.placeholder import MARKER, is_placeholder
from eval.systems import create

REPO = Path(__file__).resolve().parents[2]


def test_marker_is_found_in_torch_safetensors_and_pickle_files(tmp_path):
    torch.save({"net": {"w": torch.zeros(3)}, MARKER: {"seed": 0}}, tmp_path / "p.pth")
    torch.save({"net": {"w": torch.zeros(3)}}, tmp_path / "real.pth")
    assert is_placeholder(tmp_path / "p.pth") and not is_placeholder(tmp_path / "real.pth")
    for name, meta in (("p.safetensors", {MARKER: "1"}), ("real.safetensors", {"format": "pt"})):
        header = json.dumps({"__metadata__": meta}).encode()
        (tmp_path / name).write_bytes(struct.pack("<Q", len(header)) + header)
    assert is_placeholder(tmp_path / "p.safetensors") and not is_placeholder(tmp_path / "real.safetensors")
    (tmp_path / "emb.pickle").write_bytes(b"\x80\x04" + MARKER.encode())
    assert is_placeholder(tmp_path / "emb.pickle") and not is_placeholder(tmp_path / "missing.pth")


def _fake_audio2head(tmp_path: Path, monkeypatch, placeholder: bool) -> Path:
    """An installed 'audio2head' whose interpreter is a quick script writing a grey video."""
    checkout = tmp_path / "audio2head"
    (checkout / "checkpoints").mkdir(parents=True)
    ckpt = {"generator": {"w": torch.zeros(2)}}
    if placeholder:
        ckpt[MARKER] = {"seed": 0}
    torch.save(ckpt, checkout / "checkpoints" / "audio2head.pth.tar")
    fake = checkout / "fake_python"
    fake.write_text(f"""#!{sys.executable}
import math, sys, numpy as np
sys.path.insert(0, {str(REPO)!r})
from ttsf import media
argv = sys.argv[sys.argv.index("inference.py") + 1:]
args = dict(zip(argv[0::2], argv[1::2]))
n = math.ceil(media.read_audio(args["--audio_path"]).shape[0] / media.SAMPLE_RATE * 25)
media.write_video(args["--save_path"] + "/out.mp4", np.full((n, 256, 256, 3), 128, np.uint8))
""")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("TTSF_AUDIO2HEAD_DIR", str(checkout))
    monkeypatch.setenv("TTSF_AUDIO2HEAD_PYTHON", str(fake))
    return checkout / "checkpoints" / "audio2head.pth.tar"


def test_adapter_refuses_placeholder_weights_unless_allowed(tmp_path, monkeypatch):
    path = _fake_audio2head(tmp_path, monkeypatch, placeholder=True)
    system = create("audio2head")
    ok, reason = system.readiness()
    assert not ok and str(path) in reason and "--allow-placeholder" in reason
    system.allow_placeholder = True
    ok, reason = system.readiness()
    assert ok and "PLACEHOLDER" in reason
    assert system.placeholder_files() == [str(path)]
    assert system.provenance()["placeholder_weights"] == [str(path)]


def test_real_weights_are_not_placeholder(tmp_path, monkeypatch):
    _fake_audio2head(tmp_path, monkeypatch, placeholder=False)
    system = create("audio2head")
    assert system.readiness()[0] and system.placeholder_files() == []
    assert "placeholder_weights" not in system.provenance()


def test_eval_run_refuses_then_marks_the_placeholder_row(tmp_path, monkeypatch, capsys, tiny_corpus):
    from eval.run.cli import main

    path = _fake_audio2head(tmp_path, monkeypatch, placeholder=True)
    argv = ["--table", "1", "--corpus", "tiny", "--limit", "1", "--systems", "gt,audio2head", "--metrics", "mcd",
            "--out", str(tmp_path / "runs"), "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "placeholder (random-init) weights" in err and str(path) in err and "--allow-placeholder" in err
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").rglob("results.json"))

    assert main([*argv, "--allow-placeholder"]) == 0
    out = capsys.readouterr().out
    assert "Audio2Head (GT audio) [PLACEHOLDER]" in out and "PLACEHOLDER row audio2head" in out
    results = json.loads(next((tmp_path / "runs").rglob("results.json")).read_text())
    row = results["systems"]["audio2head"]
    assert row["placeholder"] == [str(path)] and row["comparable"] is False
    assert "placeholder" not in results["systems"]["gt"]
    assert results["scores"]["audio2head"]["mcd"]["value"] is not None  # the row was really computed
    md = next((tmp_path / "runs").rglob("table1.md")).read_text()
    assert "[PLACEHOLDER]" in md and "never comparable" in md
