"""Fixtures for the harness tests: a 4-item copy of the tiny synthetic corpus (test split)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
RMS = "fake_metrics:AudioRMS"
GAP = "fake_metrics:FrameGap"


def copy_items(src_root: Path, dest: Path, n: int) -> Path:
    """Copy the first ``n`` synth_test items (and their files) into ``dest``."""
    lines = (src_root / "synth_test.jsonl").read_text("utf-8").splitlines()[:n]
    for line in lines:
        item = json.loads(line)
        for rel in {item["source"]["path"], item["ref_video"], item["ref_audio"], item["text_source"]} - {None}:
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src_root / rel, dest / rel)
    (dest / "synth_test.jsonl").write_text("".join(line + "\n" for line in lines), "utf-8")
    return dest


@pytest.fixture(name="copy_items")
def copy_items_fixture():
    return copy_items


@pytest.fixture(scope="session")
def tiny_root() -> Path:
    from eval.synth import default_corpus

    return default_corpus("tiny")


@pytest.fixture(scope="session")
def corpus4(tiny_root, tmp_path_factory) -> Path:
    return copy_items(tiny_root, tmp_path_factory.mktemp("corpus4"), 4)


@pytest.fixture
def fake_path(monkeypatch):
    """Make ``fake_metrics`` importable here and in subprocesses."""
    monkeypatch.syspath_prepend(str(HERE))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(HERE), str(REPO), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    sys.modules.pop("fake_metrics", None)
    return HERE
