"""``python -m eval.run`` (run, score, table): hostile and broken input refused before any work.

In-process against ``eval.run.cli.main``; every case is refused during argument or
configuration checks (none generates or scores anything). The run-folder lock and the
table escaping have their own tests below.
"""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from eval.run.cli import main

REPO = Path(__file__).resolve().parents[2]
RUN = ["--table", "1", "--corpus", "tiny", "--limit", "1", "--systems", "gt", "--metrics", "idsim", "--quiet"]
BASE = [*RUN, "--out", "{out}"]


@pytest.fixture(scope="module")
def env(base_env, sandbox, tiny_corpus):
    refs = sandbox / "refs"
    refs.mkdir()
    (refs / "array.json").write_text("[1, 2]")
    (refs / "broken.json").write_text("{not json")
    (refs / "nokeys.json").write_text(json.dumps({"table": "1"}))
    (refs / "nan.json").write_text('{"table": "1", "scores": {"gt": {"lse_c": NaN}}, "tolerances": {}}')
    (refs / "negtol.json").write_text(json.dumps({"table": "1", "scores": {"gt": {"lse_c": 1.0}},
                                                  "tolerances": {"lse_c": {"abs": -1}}}))
    (refs / "scores.json").write_text(json.dumps({"table": "1", "scores": [1], "tolerances": {}}))
    (refs / "latin1.json").write_bytes('{"table": "caf\xe9"}'.encode("latin-1"))
    (Path(base_env["out"]) / "planted").symlink_to(Path(base_env["escape"]).resolve().parent, target_is_directory=True)
    return {**base_env, "refs": str(refs), "corpus": str(tiny_corpus)}


def _opt(option, value, pattern, base=BASE):
    return (f"{option.lstrip('-')}={value}"[:60], [*base, f"{option}={value}"], pattern)


NUMBERS = [
    _opt("--seed", "-1", r"--seed: must be >= 0"),
    _opt("--seed", "nan", r"--seed: expected an integer"),
    _opt("--seed", "inf", r"--seed: expected an integer"),
    _opt("--seed", "1e30", r"--seed: expected an integer"),
    _opt("--seed", "9" * 30, r"--seed: must be <= "),
    _opt("--limit", "-1", r"--limit: must be >= 0"),
    _opt("--limit", "nan", r"--limit: expected an integer"),
    _opt("--limit", "inf", r"--limit: expected an integer"),
    _opt("--limit", "1.5", r"--limit: expected an integer"),
    ("limit-huge-negative", [*BASE, "--limit=-99999999999999999999"], r"--limit: must be >= 0"),
]

NAMES = [
    _opt("--run-id", "../x", r"--run-id: name '../x' is not a safe name"),
    _opt("--run-id", "/abs/path", r"--run-id: name '/abs/path' is not a safe name"),
    _opt("--run-id", "..", r"--run-id: name '..' is not a safe name"),
    _opt("--run-id", ".", r"--run-id: name '.' is not a safe name"),
    _opt("--run-id", "", r"--run-id: name '' is not a safe name"),
    _opt("--run-id", "a/b", r"--run-id: name 'a/b' is not a safe name"),
    _opt("--run-id", "-rf", r"--run-id: name '-rf' is not a safe name"),
    _opt("--run-id", "x" * 200, r"--run-id: name 'x+' is not a safe name"),
    _opt("--run-id", "$(touch pwned)", r"--run-id: name '\$\(touch pwned\)' is not a safe name"),
    _opt("--run-id", "caf\udce9", r"--run-id: name .* is not a safe name"),
    _opt("--run-id", "运行", r"--run-id: name '运行' is not a safe name"),
    _opt("--systems", "../x=dir:{empty}", r"system name '../x' is not a safe name"),
    _opt("--systems", "a/b=dir:{empty}", r"system name 'a/b' is not a safe name"),
    _opt("--systems", "<script>=dir:{empty}", r"system name '<script>' is not a safe name"),
    _opt("--systems", '+HYPERLINK("http://x")=dir:{empty}', r"system name '\+HYPERLINK.* is not a safe name"),
    _opt("--systems", "nope", r"unknown system 'nope'"),
]

SCORE = ["score", "--system-dir", "{empty}", *RUN, "--out", "{out}"]
SCORES = [
    ("score-name-dotdot", [*SCORE, "--name", ".."], r"--name '\.\.' is not a safe name"),
    ("score-name-hyperlink", [*SCORE, "--name", '+HYPERLINK("http://evil")'], r"--name '\+HYPERLINK"),
    ("score-name-at", [*SCORE, "--name", "@SUM(A1)"], r"--name '@SUM\(A1\)' is not a safe name"),
    ("score-name-minus", [*SCORE, "--name=-2+3"], r"--name '-2\+3' is not a safe name"),
    ("score-name-equals", [*SCORE, "--name", "=1+1"], r"--name '=1\+1' is not a safe name"),
    ("score-name-script", [*SCORE, "--name", "<script>alert(1)</script>"], r"--name '<script>"),
    ("score-name-empty", [*SCORE, "--name", ""], r"--name '' is not a safe name"),
    ("score-name-tab", [*SCORE, "--name", "\tx"], r"--name '\\tx' is not a safe name"),
    ("score-system-dir-missing", ["score", "--system-dir", "{missing}", "--name", "x", *BASE],
     r"--system-dir .*nothing.here is not a folder"),
    ("score-system-dir-file", ["score", "--system-dir", "{notes}", "--name", "x", *BASE],
     r"--system-dir .*notes.txt is not a folder"),
]

PATHS = [
    ("out-is-file", [*RUN, "--out", "{notes}"], r"--out .*notes.txt exists and is not a folder"),
    ("out-under-file", [*RUN, "--out", "{notes}/runs"], r"--out .*notes.txt/runs: cannot create the folder"),
    ("out-read-only", [*RUN, "--out", "{ro}/runs"], r"--out .*runs: cannot create the folder"),
    ("out-broken-link", [*RUN, "--out", "{broken}"], r"--out .*broken.link: cannot create the folder"),
    ("check-missing", [*BASE, "--check", "{missing}"], r"--check .*nothing.here does not exist"),
    ("check-dir", [*BASE, "--check", "{empty}"], r"--check .*emptydir is a directory"),
    ("check-empty", [*BASE, "--check", "{emptyfile}"], r"--check .*empty.bin is not valid JSON"),
    ("check-not-json", [*BASE, "--check", "{refs}/broken.json"], r"--check .*broken.json is not valid JSON"),
    ("check-not-utf8", [*BASE, "--check", "{refs}/latin1.json"], r"--check .*latin1.json is not UTF-8"),
    ("check-array", [*BASE, "--check", "{refs}/array.json"], r"--check .*array.json: expected a JSON object"),
    ("check-no-keys", [*BASE, "--check", "{refs}/nokeys.json"], r"--check .*nokeys.json: reference lacks 'scores'"),
    ("check-nan-score", [*BASE, "--check", "{refs}/nan.json"], r"scores.gt.lse_c is nan, not a finite number"),
    ("check-negative-tolerance", [*BASE, "--check", "{refs}/negtol.json"], r"tolerances.lse_c must be"),
    ("check-scores-list", [*BASE, "--check", "{refs}/scores.json"], r"'scores' must map system"),
    ("write-reference-dir", [*BASE, "--write-reference", "{empty}"], r"--write-reference .*emptydir is a directory"),
    ("write-reference-no-folder", [*BASE, "--write-reference", "{missing}"],
     r"--write-reference .*folder .*missing does not exist"),
    ("write-reference-read-only", [*BASE, "--write-reference", "{ro}/ref.json"],
     r"--write-reference .*ref.json: cannot write in folder"),
    ("write-reference-symlink-out-of-tree", [*BASE, "--write-reference", "{escape}"],
     r"--write-reference .*escape.link is a symbolic link"),
    ("run-id-symlink-out-of-tree", [*BASE, "--run-id", "planted"], r"run id 'planted' resolves to .*, outside "),
    ("data-root-missing", [*BASE, "--data-root", "{missing}"], r"nothing.here"),
    ("data-root-file", [*BASE, "--data-root", "{notes}"], r"notes.txt"),
    ("table-run-dir-missing", ["table", "{missing}"], r"cannot read results of .*nothing.here"),
    ("table-run-dir-file", ["table", "{notes}"], r"cannot read results of .*notes.txt"),
    ("table-run-dir-empty", ["table", "{empty}"], r"cannot read results of .*emptydir"),
]

OTHER = [
    _opt("--device", "cuda", r"--device cuda: no CUDA GPU is available"),
    _opt("--device", "tpu", r"argument --device: invalid choice: 'tpu'"),
    _opt("--table", "99", r"unknown table '99'"),
    _opt("--table", "../1", r"unknown table '../1'"),
    _opt("--metrics", "nope", r"unknown metric 'nope'"),
    _opt("--backend", "idsim", r"--backend wants metric=backend, got 'idsim'"),
    _opt("--backend", "idsim=nope", r"unknown backend of metric idsim 'nope'"),
    _opt("--backend", "nope=x", r"--backend given for metric\(s\) not in this run: nope"),
    _opt("--split", "nope", r"nope"),
    _opt("--format", "html", r"argument --format: invalid choice: 'html'"),
]

if os.environ.get("CUDA_VISIBLE_DEVICES") is None:
    import torch

    if torch.cuda.is_available():  # a GPU machine: cuda is a valid device there
        OTHER = [c for c in OTHER if c[0] != "device=cuda"]


@pytest.mark.parametrize("c", NUMBERS + NAMES + SCORES + PATHS + OTHER, ids=lambda c: c[0])
def test_refused(c, env, refused):
    refused(main, c, env)
    assert not (Path(env["sandbox"]) / "pwned").exists()


def test_second_run_into_a_locked_folder_refuses_naming_the_holder(env, refused):
    """Two runs into one --out both did all the work (issue 18): a live holder is named."""
    run_dir = Path(env["out"]) / "locked"
    run_dir.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        record = {"pid": holder.pid, "host": socket.gethostname(), "started": "2026-01-01T00:00:00Z"}
        (run_dir / ".lock").write_text(json.dumps(record))
        refused(main, ("locked", [*BASE, "--run-id", "locked"],
                       rf"run folder .*locked is in use by pid {holder.pid} on host .* "
                       r"since 2026-01-01T00:00:00Z"), env)
        assert json.loads((run_dir / ".lock").read_text()) == record  # the holder's lock is left alone
        assert sorted(p.name for p in run_dir.iterdir()) == [".lock"]  # nothing written by the refused run
    finally:
        holder.kill()
        holder.wait()


def test_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    from eval.run.lock import RunLock

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / ".lock").write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname(), "started": "x"}))
    with RunLock(tmp_path, "now") as lock:
        assert json.loads((tmp_path / ".lock").read_text())["pid"] == os.getpid() and lock.held
    assert not (tmp_path / ".lock").exists()


def test_run_id_and_out_resolution_stay_inside(tmp_path):
    from eval.run.runner import RunError, _run_dir

    assert _run_dir(tmp_path, "ok-1.2_x") == (tmp_path / "ok-1.2_x").resolve()
    for bad in ("../x", "/abs", "..", "a/../../b"):
        with pytest.raises(RunError, match="not a safe name"):
            _run_dir(tmp_path, bad)


def _results(name: str) -> dict:
    cell = {"value": 1.5, "reason": None, "metric": "idsim", "n": 2, "n_total": 2, "n_failed": 0, "std": None,
            "ci95": None, "ci_method": None}
    failed = dict(cell, value=None, n=0, n_failed=2, reason=f"<b>{name}</b> | =cmd")
    return {"schema": 1, "table": "1", "run_id": "r1",
            "split": {"name": "synth_test", "sha256": "x", "n_items": 2, "limit": None, "synthetic": True},
            "metrics": {"idsim": {"backend": "sface", "backend_paper": False, "higher_is_better": True}},
            "scores": {name: {"idsim": cell}, "gt": {"idsim": failed}}, "systems_skipped": {}}


@pytest.mark.parametrize("name", ['+HYPERLINK("http://evil","x")', "@SUM(1+1)", "-2+3", "=1+1", "\t=1", "\r=1"])
def test_csv_cells_cannot_be_formulas(name):
    from eval.tables.render import render

    rows = list(csv.reader(io.StringIO(render(_results(name), "csv"))))
    texts = [c for row in rows[1:] for c in row]
    assert "'" + name.replace("\r", " ") in texts  # neutralised with a leading quote
    assert not any(c.startswith(("=", "+", "@", "\t", "\r")) for c in texts)
    assert not any(c.startswith("-") and not _is_number(c) for c in texts)


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def test_markdown_and_tex_escape_hostile_names():
    from eval.tables.render import render

    name = "<script>alert(1)</script>|[x](javascript:y)"
    md = render(_results(name), "md")
    assert "<script>" not in md and "&lt;script&gt;" in md and "\\|[x]\\(javascript:y)" in md
    assert "<b>" not in md and "&lt;b&gt;" in md
    tex = render(_results("a&b_%$#{}~^\\<x>|"), "tex")
    assert (r"a\&b\_\%\$\#\{\}\textasciitilde{}\textasciicircum{}\textbackslash{}"
            r"\textless{}x\textgreater{}\textbar{}") in tex


def test_subprocess_run_id_escape_exit_code(env):
    res = subprocess.run([sys.executable, "-m", "eval.run", *[a.format(**env) for a in BASE], "--run-id", "../x"],
                         capture_output=True, text=True, timeout=120, cwd=REPO,
                         env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "argument --run-id: name '../x' is not a safe name" in res.stderr
    assert not (Path(env["out"]).parent / "x").exists()


def test_clamped_frechet_distance_is_footnoted_in_the_table():
    from eval.tables.render import render

    results = _results("mine")
    results["metrics"]["fid"] = {"backend": "fd_mobilenetv2", "backend_paper": False,
                                 "output_name": "fd_mobilenetv2", "higher_is_better": False}
    cell = {"value": 0.0, "reason": None, "metric": "fid", "n": 2, "n_total": 2, "n_failed": 0, "std": None,
            "ci95": [0.0, 1e-9], "ci_method": "bootstrap"}
    results["scores"]["mine"]["fd_mobilenetv2"] = cell
    results["details"] = {"mine": {"fid": {"clamped_from": -3.7e-05}}}
    md = render(results, "md")
    assert "computed as -3.7e-05 (rounding below 0), reported as 0" in md
