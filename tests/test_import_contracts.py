"""The import-linter contracts in pyproject.toml hold (baselines -> eval -> ttsf, no cycles),
and they do catch a model that imports the harness."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import tomllib

REPO = Path(__file__).resolve().parents[1]
LINT = ("import sys; from importlinter.cli import lint_imports_command; "
        "sys.exit(lint_imports_command())")


def _lint(cwd: Path, pythonpath: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    return subprocess.run([sys.executable, "-c", LINT, "--no-cache", "--no-logo"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_tree_keeps_every_contract():
    result = _lint(REPO, REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 4 kept, 0 broken." in result.stdout, result.stdout


def _write(path: Path, text: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_the_contracts_catch_an_upward_import_and_a_cycle(tmp_path):
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    lines = ["[tool.importlinter]", f"root_packages = {config['root_packages']!r}".replace("'", '"')]
    for contract in config["contracts"]:
        lines.append("[[tool.importlinter.contracts]]")
        lines += [f"{key} = {value!r}".replace("'", '"') for key, value in contract.items()]
    _write(tmp_path / "pyproject.toml", "\n".join(lines) + "\n")
    for pkg in ("ttsf", "eval", "baselines"):
        _write(tmp_path / pkg / "__init__.py")
    _write(tmp_path / "eval" / "harness.py", "import ttsf.model\n")
    # an import inside a function counts too
    _write(tmp_path / "ttsf" / "model.py", "def f():\n    from eval import harness\n")
    _write(tmp_path / "ttsf" / "a.py", "import ttsf.b\n")
    _write(tmp_path / "ttsf" / "b.py", "import ttsf.a\n")
    result = _lint(tmp_path, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "ttsf.model -> eval.harness" in result.stdout, result.stdout
    assert "No cycles are allowed in ttsf." in result.stdout, result.stdout
    assert "Contracts: 1 kept, 3 broken." in result.stdout, result.stdout
