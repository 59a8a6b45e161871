"""Kill -9 and resume, ``--check`` exit codes, and 2-process torchrun scoring (subprocesses)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from eval.cache import load_state

RMS = "fake_metrics:AudioRMS"
GAP = "fake_metrics:FrameGap"
REPO = Path(__file__).resolve().parents[3]


def _args(root: Path, out: Path, run_id: str, *extra: str) -> list[str]:
    return ["--table", "1", "--split", "synth_test", "--data-root", str(root), "--systems", "gt,still",
            "--metrics", f"{RMS},{GAP}", "--out", str(out), "--run-id", run_id, "--quiet", *extra]


def _cli(args: list[str], env: dict, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "eval.run", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=240, **kw)


def _done(run_dir: Path) -> set[tuple[str, str, str]]:
    """(system, metric, id) finished according to the checkpoints on disk."""
    out = set()
    for ckpt in run_dir.glob("state/*/*.ckpt"):
        saved = load_state(ckpt)
        if saved:
            out |= {(ckpt.parent.name, ckpt.name.split(".")[0], i) for i in saved["payload"]["done"]}
    return out


def _updates(log: Path) -> set[tuple[str, str, str]]:
    """(system, metric, id) for every update call logged by the fake metrics."""
    out = set()
    for line in log.read_text().splitlines():
        metric, path, _pid = line.split(" ")
        p = Path(path)
        system = "gt" if "samples" not in p.parts else p.parts[p.parts.index("samples") + 1]
        out.add((system, metric, f"{p.parent.name}/{p.stem}"))
    return out


def test_kill_9_then_rerun_recomputes_nothing_finished(corpus4, fake_path, tmp_path):
    env = dict(os.environ, FAKE_METRIC_SLEEP="0.4", FAKE_METRIC_LOG=str(tmp_path / "run1.log"))
    out = tmp_path / "runs"
    proc = subprocess.Popen([sys.executable, "-m", "eval.run", *_args(corpus4, out, "k")], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run_dir = out / "k"
    deadline = time.time() + 120
    while time.time() < deadline and len(_done(run_dir)) < 5:
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    finished = _done(run_dir)
    assert 5 <= len(finished) < 16, "the kill must land mid-run"
    assert not (run_dir / "results.json").exists()
    env2 = dict(os.environ, FAKE_METRIC_LOG=str(tmp_path / "run2.log"))
    rerun = _cli(_args(corpus4, out, "k"), env2)
    assert rerun.returncode == 0, rerun.stderr
    recomputed = _updates(tmp_path / "run2.log")
    assert not recomputed & finished  # no finished item recomputed
    ids = [json.loads(x)["id"] for x in (corpus4 / "synth_test.jsonl").read_text().splitlines()]
    everything = {(s, m, i) for s in ("gt", "still") for m in ("fake_rms", "fake_gap") for i in ids}
    assert recomputed == everything - finished
    # identical final numbers to an uninterrupted run
    clean = _cli(_args(corpus4, out, "clean"), dict(os.environ))
    assert clean.returncode == 0, clean.stderr
    resumed = json.loads((run_dir / "results.json").read_text())["scores"]
    uninterrupted = json.loads((out / "clean" / "results.json").read_text())["scores"]
    assert resumed == uninterrupted
    assert (run_dir / "items.jsonl").read_text() == (out / "clean" / "items.jsonl").read_text()


def test_check_passes_on_the_reference_and_fails_on_drift(corpus4, fake_path, tmp_path):
    env = dict(os.environ)
    out = tmp_path / "runs"
    ref = tmp_path / "ref.json"
    made = _cli(_args(corpus4, out, "c", "--write-reference", str(ref)), env)
    assert made.returncode == 0, made.stderr
    body = json.loads(ref.read_text())
    assert set(body["scores"]) == {"gt", "still"} and body["split"] == "synth_test"
    ok = _cli(_args(corpus4, out, "c", "--check", str(ref)), env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "4/4 cells within tolerance" in ok.stdout
    body["scores"]["still"]["fake_gap"] += 0.5
    body["tolerances"]["fake_gap"] = {"abs": 0.01, "rel": 0.0}
    ref.write_text(json.dumps(body))
    bad = _cli(_args(corpus4, out, "c", "--check", str(ref)), env)
    assert bad.returncode == 1
    drift = next(line for line in bad.stdout.splitlines() if line.startswith("still") and "fake_gap" in line)
    assert "DRIFT" in drift and "-0.5" in drift


@pytest.mark.skipif(shutil.which("torchrun", path=str(Path(sys.executable).parent)) is None,
                    reason="torchrun not installed beside the interpreter")
def test_torchrun_two_processes_match_one_process(corpus4, fake_path, tmp_path):
    env = dict(os.environ)
    out = tmp_path / "runs"
    single = _cli(_args(corpus4, out, "one"), env)
    assert single.returncode == 0, single.stderr
    torchrun = str(Path(sys.executable).parent / "torchrun")
    dist = subprocess.run([torchrun, "--standalone", "--nproc-per-node", "2", "-m", "eval.run",
                           *_args(corpus4, out, "two")], cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert dist.returncode == 0, dist.stderr[-3000:]
    one = json.loads((out / "one" / "results.json").read_text())
    two = json.loads((out / "two" / "results.json").read_text())
    assert two["provenance"]["world_size"] == 2
    for system in ("gt", "still"):
        for output in ("fake_rms", "fake_gap"):
            a, b = one["scores"][system][output], two["scores"][system][output]
            assert abs(a["value"] - b["value"]) <= 1e-6 and a["n"] == b["n"] == 4
    # each rank checkpointed its strided share: 2 items each, no duplicates
    shards = {p.name: load_state(p)["payload"]["done"] for p in (out / "two" / "state" / "gt").glob("fake_rms.*")}
    assert sorted(len(v) for v in shards.values()) == [2, 2]
    assert not set(shards["fake_rms.r0of2.ckpt"]) & set(shards["fake_rms.r1of2.ckpt"])
    assert (out / "one" / "items.jsonl").read_text() == (out / "two" / "items.jsonl").read_text()
