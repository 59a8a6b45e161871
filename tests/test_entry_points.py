"""``[project.scripts]``: every declared console command resolves to an importable callable, and the
``python -m`` forms they mirror (including the kept ``python -m eval.metric``) still run."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"].get("scripts", {})

#: what a user expects to find: the harness, single-metric scoring, synthesis, training and MOS
EXPECTED = {"ttsf-bench": "eval.run.cli:main", "ttsf-metric": "eval.metrics.cli:main",
            "ttsf-synthesize": "ttsf.synthesize:main", "ttsf-train": "ttsf.train.__main__:main",
            "ttsf-mos": "eval.mos.__main__:main"}


def test_the_expected_commands_are_declared():
    assert SCRIPTS == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_declared_script_resolves_to_a_callable(name):
    module_name, _, attr = SCRIPTS[name].partition(":")
    assert attr, f"{name}: {SCRIPTS[name]!r} names no function"
    target = getattr(importlib.import_module(module_name), attr)
    assert callable(target)


def test_train_dispatcher_lists_every_stage(capsys):
    from ttsf.train import MODES

    module_name, _, attr = SCRIPTS["ttsf-train"].partition(":")
    assert getattr(importlib.import_module(module_name), attr)(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(mode in out for mode in MODES)


@pytest.mark.parametrize("module", ["eval.metrics", "eval.metric"])
def test_metric_cli_runs_under_both_module_names(module):
    res = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, cwd=ROOT,
                         timeout=300)
    assert res.returncode == 0, res.stderr
    assert "usage: python -m eval.metrics" in res.stdout
