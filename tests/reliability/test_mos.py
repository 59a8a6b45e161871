"""Hostile and broken input to ``python -m eval.mos`` (issue 18): one-line errors, nothing left behind.

Each case runs the CLI in a subprocess and asserts a non-zero exit, a one-line message naming
the input and the problem, no traceback, no ``*.tmp*`` file, and nothing written outside the
case's output folder. Fixtures are local to this file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _video(path: Path, hue: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=s=64x64:r=25:d=0.4", "-f", "lavfi",
                    "-i", "sine=d=0.4", "-vf", f"hue=h={hue * 90}", "-shortest", "-c:v", "libx264", "-preset",
                    "ultrafast", "-c:a", "aac", str(path)], check=True)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A finished run (gt, a, b; 4 items) and a study built from it."""
    root = tmp_path_factory.mktemp("mosrel")
    run = root / "run"
    (run / "samples").mkdir(parents=True)
    (run / "results.json").write_text(json.dumps({"table": "1", "split": {"name": None}}))
    for k, s in enumerate(["gt", "a", "b"]):
        for i in ["x1", "x2", "x3", "x4"]:
            _video(run / "samples" / s / f"{i}.mp4", k)
    (root / "norun").mkdir()
    proc = _cli(["packets", "--run", str(run), "--systems", "a,b", "--clips", "2", "--raters", "2", "--training", "1",
                 "--out", str(root / "study")], root)
    assert proc.returncode == 0, proc.stderr
    (root / "bad_utf8.json").write_bytes(b'{"payload": "\xff\xfe"}')
    (root / "notjson.json").write_text("{{ not json")
    key = json.loads((root / "study" / "key.json").read_text())
    fake = {"payload": {"format": "mos-answers/1", "study": key["study_id"], "rater": "rater_77", "trials": []},
            "signature": {"alg": "HMAC-SHA256", "value": "0" * 64}}
    (root / "ghosts").mkdir()
    (root / "ghosts" / "rater_77.json").write_text(json.dumps(fake))
    (root / "key_bad.json").write_bytes(b"\xff\xfe\x00")
    (root / "empty_answers").mkdir()
    return root


def _cli(args, cwd):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "eval.mos", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def _snapshot(root: Path) -> dict:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*")}


RUN, KEY = "{root}/run", "{root}/study/key.json"
CASES = [
    ("packets raters -1", ["packets", "--run", RUN, "--systems", "a,b", "--raters", "-1", "--out", "{out}"],
     "--raters"),
    ("packets raters 0", ["packets", "--run", RUN, "--systems", "a,b", "--raters", "0", "--out", "{out}"], "--raters"),
    ("packets raters text", ["packets", "--run", RUN, "--systems", "a,b", "--raters", "many", "--out", "{out}"],
     "--raters"),
    ("packets clips 0", ["packets", "--run", RUN, "--systems", "a,b", "--clips", "0", "--out", "{out}"], "--clips"),
    ("packets raters huge", ["packets", "--run", RUN, "--systems", "a,b", "--raters", "9" * 30, "--out", "{out}"],
     "--raters: must be <="),
    ("packets seed nan", ["packets", "--run", RUN, "--systems", "a,b", "--seed", "nan", "--out", "{out}"], "--seed"),
    ("packets clips too many", ["packets", "--run", RUN, "--systems", "a,b", "--clips", "99", "--out", "{out}"],
     "--clips 99"),
    ("packets training too many", ["packets", "--run", RUN, "--systems", "a,b", "--clips", "3", "--training", "5",
                                   "--out", "{out}"], "--training"),
    ("packets per-rater too many", ["packets", "--run", RUN, "--systems", "a,b", "--clips", "2", "--per-rater", "3",
                                    "--out", "{out}"], "--per-rater"),
    ("packets missing run", ["packets", "--run", "{root}/nope", "--systems", "a,b", "--out", "{out}"], "nope"),
    ("packets unfinished run", ["packets", "--run", "{root}/norun", "--systems", "a,b", "--out", "{out}"],
     "results.json"),
    ("packets one system", ["packets", "--run", RUN, "--systems", "a", "--clips", "2", "--out", "{out}"],
     "two systems"),
    ("packets unknown system", ["packets", "--run", RUN, "--systems", "a,zz", "--out", "{out}"], "'zz'"),
    ("packets hostile system", ["packets", "--run", RUN, "--systems", "a,<script>x</script>", "--out", "{out}"],
     "<script>x</script>"),
    ("packets existing study", ["packets", "--run", RUN, "--systems", "a,b", "--clips", "2", "--out",
                                "{root}/study"], "already holds a study"),
    ("score missing answers", ["score", "{root}/nope.json", "--key", KEY], "nope.json"),
    ("score missing key", ["score", "{root}/ghosts", "--key", "{root}/nokey.json"], "nokey.json"),
    ("score key is a folder", ["score", "{root}/ghosts", "--key", "{root}/study"], "is a folder"),
    ("score key not utf-8", ["score", "{root}/ghosts", "--key", "{root}/key_bad.json"], "key_bad.json"),
    ("score answers not utf-8", ["score", "{root}/bad_utf8.json", "--key", KEY], "not UTF-8"),
    ("score answers not json", ["score", "{root}/notjson.json", "--key", KEY], "not JSON"),
    ("score rater not in design", ["score", "{root}/ghosts", "--key", KEY], "rater_77"),
    ("score no answer files", ["score", "{root}/empty_answers", "--key", KEY], "no *.json"),
    ("serve missing study", ["serve", "{root}/nope", "--port", "0"], "nope"),
]


@pytest.mark.parametrize("name,args,needle", CASES, ids=[c[0] for c in CASES])
def test_hostile_input_fails_cleanly(world, tmp_path, name, args, needle):
    out = tmp_path / "out"
    argv = [a.format(root=world, out=out) for a in args]
    before = _snapshot(world)
    proc = _cli(argv, tmp_path)
    assert proc.returncode != 0, proc.stdout
    err = proc.stderr.strip()
    assert "Traceback" not in proc.stderr
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error:") and needle in err, err
    assert _snapshot(world) == before  # nothing outside the output folder changed
    assert not [p for p in tmp_path.rglob("*") if ".tmp" in p.name]
    assert not out.exists() or not any(out.iterdir())
