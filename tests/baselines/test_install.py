"""`python -m baselines setup|check`: layout at the pinned commit, source lookup, what check reports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from baselines.audio2head import Audio2Head
from baselines.base import Checkpoint, EnvSpec
from baselines.install import SetupError, check, find_source, layout

REPO = Path(__file__).resolve().parents[2]


def _git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture()
def upstream_repo(tmp_path):
    """A tiny upstream git repo with two commits; returns (path, first commit)."""
    src = tmp_path / "src"
    src.mkdir()
    _git("init", "-q", cwd=src)
    (src / "inference.py").write_text("print('v1')\n")
    _git("add", "-A", cwd=src)
    _git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "v1", cwd=src)
    first = _git("rev-parse", "HEAD", cwd=src)
    (src / "inference.py").write_text("print('v2')\n")
    _git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "v2", cwd=src)
    return src, first


def _adapter(commit, monkeypatch, root):
    monkeypatch.setenv("TTSF_BASELINES_ROOT", str(root))

    class Fake(Audio2Head):
        name = key = "fakeup"
        repo = "https://github.com/someone/Fakeup"
        make_dirs = ("results",)
        checkpoints = (Checkpoint("ckpt/model.pth", "ab" * 32, "Fakeup README", url="https://example.org/m.pth",
                                  size=123),)
        env = EnvSpec("venv", imports=("json",))

    Fake.commit = commit
    return Fake()


def test_layout_checks_out_the_pinned_commit_idempotently(upstream_repo, tmp_path, monkeypatch):
    src, first = upstream_repo
    a = _adapter(first, monkeypatch, tmp_path / "root")
    dest = layout(a, str(src), log=lambda *_: None)
    assert dest == tmp_path / "root" / "fakeup" and a.checkout_commit() == first
    assert (dest / "inference.py").read_text() == "print('v1')\n" and (dest / "results").is_dir()
    assert layout(a, str(src), log=lambda *_: None) == dest  # second run: nothing to do
    assert _git("status", "--porcelain", cwd=dest) == ""


def test_layout_refuses_a_source_without_the_commit(upstream_repo, tmp_path, monkeypatch):
    src, _ = upstream_repo
    a = _adapter("0" * 40, monkeypatch, tmp_path / "root")
    with pytest.raises(SetupError, match="0000000000000000000000000000000000000000"):
        layout(a, str(src), log=lambda *_: None)


def test_source_lookup_prefers_the_env_mirror_folder(upstream_repo, tmp_path, monkeypatch):
    src, first = upstream_repo
    a = _adapter(first, monkeypatch, tmp_path / "root")
    mirrors = tmp_path / "mirrors"
    (mirrors / "someone+Fakeup").mkdir(parents=True)
    _git("clone", "-q", "--bare", str(src), str(mirrors / "someone+Fakeup" / "repo"), cwd=tmp_path)
    monkeypatch.setenv("TTSF_BASELINES_SOURCE", str(mirrors))
    assert find_source(a) == str(mirrors / "someone+Fakeup" / "repo")
    assert find_source(a, "/explicit") == "/explicit"
    monkeypatch.setenv("TTSF_FAKEUP_SOURCE", "/per-baseline")
    assert find_source(a) == "/per-baseline"


def test_check_lists_each_missing_piece(upstream_repo, tmp_path, monkeypatch):
    src, first = upstream_repo
    a = _adapter(first, monkeypatch, tmp_path / "root")
    ok, lines = check(a)
    assert not ok and lines[0].startswith("MISSING code") and lines[1].startswith("MISSING env")
    ck = str(tmp_path / "root" / "fakeup" / "ckpt" / "model.pth")
    assert lines[2].startswith(f"MISSING checkpoint: {ck}") and "ab" * 32 in lines[2]
    assert "https://example.org/m.pth" in lines[2] and "123 bytes" in lines[2] and "Fakeup README" in lines[2]
    layout(a, str(src), log=lambda *_: None)
    (a.checkout / "ckpt").mkdir()
    (a.checkout / "ckpt" / "model.pth").write_bytes(b"not the real one")
    monkeypatch.setenv("TTSF_FAKEUP_PYTHON", sys.executable)
    ok, lines = check(a)
    assert not ok and lines[0].startswith("ok code") and lines[1].startswith("ok env")
    assert lines[2].startswith("WRONG checkpoint") and "ab" * 32 in lines[2]


def test_cli_check_exits_1_with_the_message(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "baselines", "check", "audio2head", "--root", str(tmp_path)],
                          capture_output=True, text=True, cwd=REPO,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 1, proc.stderr
    assert "audio2head: NOT ready" in proc.stdout and "MISSING checkpoint" in proc.stdout
    assert "checkpoints/audio2head.pth.tar" in proc.stdout
