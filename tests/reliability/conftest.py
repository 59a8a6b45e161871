"""Shared harness of the reliability suite: hostile and broken input to every CLI.

A case is ``(id, argv, pattern)``: the entry point's ``main(argv)`` is called in-process
(stdout/stderr captured) inside a sandbox folder, and :func:`assert_refused` checks the
promises of ``docs/reliability.md``:

- a non-zero exit (2 unless the case says otherwise), never an uncaught exception;
- no ``Traceback`` on stderr, and exactly one line that starts with ``error:`` (or
  argparse's ``prog: error:``), matching ``pattern`` (which names the input and the problem);
- no ``*.tmp*`` file anywhere in the sandbox;
- nothing outside the case's output folder created, changed or removed.

Placeholders in argv (``{sandbox}``, ``{out}``, ``{ro}``, …) are filled from the
``env`` fixture of the test module (start from ``base_env``). Test modules reach the
harness through the ``refused`` fixture: ``refused(main, ("id", argv, pattern), env)``
runs one case and asserts every promise; tables of such tuples are parametrised with
``ids=lambda c: c[0]``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import re
import tempfile
from pathlib import Path
from typing import Callable, Optional

import pytest


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    pattern: str  # regex the error line must match (search, case-sensitive)
    code: int = 2
    stream: str = "stderr"  # "stdout": a report on stdout (e.g. `validate`) must match instead

    def args(self, env: dict) -> list[str]:
        return [a.format(**env) for a in self.argv]


def case(id: str, argv: list[str] | tuple[str, ...], pattern: str, code: int = 2):
    """A ``pytest.param`` of a :class:`Case` with its id."""
    return pytest.param(Case(id, tuple(argv), pattern, code), id=id)


@dataclasses.dataclass
class Outcome:
    code: Optional[int]
    stdout: str
    stderr: str
    exception: Optional[BaseException] = None


def run_main(main: Callable[[list[str]], int], argv: list[str]) -> Outcome:
    """``main(argv)`` in-process with stdout/stderr captured (argparse's SystemExit is the code)."""
    out, err = io.StringIO(), io.StringIO()
    code, exc = None, None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        except BaseException as error:  # noqa: BLE001 - reported as the failure it is
            exc = error
    return Outcome(code, out.getvalue(), err.getvalue(), exc)


def snapshot(root: Path, skip: tuple[Path, ...] = ()) -> dict[str, tuple]:
    """``relative path -> (kind, size, mtime_ns)`` of everything under ``root`` except ``skip``."""
    found: dict[str, tuple] = {}
    skip_resolved = tuple(Path(p) for p in skip)
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        if any(here == s or s in here.parents for s in skip_resolved):
            dirnames[:] = []
            continue
        for name in dirnames + filenames:
            path = here / name
            if any(path == s for s in skip_resolved):
                continue
            st = path.lstat()
            kind = "link" if path.is_symlink() else ("dir" if path.is_dir() else "file")
            found[str(path.relative_to(root))] = (kind, st.st_size if kind == "file" else 0,
                                                  st.st_mtime_ns if kind == "file" else 0)
    return found


def temp_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if ".tmp" in p.name)


ERROR_LINE = re.compile(r"^(?:error:|[\w .-]+: error:)")


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ERROR_LINE.match(line)]


def assert_refused(outcome: Outcome, case: Case, sandbox: Path, before: dict, out: Optional[Path]) -> None:
    """The promises of the suite for one refused input (see the module docstring)."""
    label = f"[{case.id}]"
    assert outcome.exception is None, f"{label}: uncaught {type(outcome.exception).__name__}: {outcome.exception}"
    assert "Traceback" not in outcome.stderr, f"{label}: traceback on stderr:\n{outcome.stderr}"
    assert outcome.code == case.code, f"{label}: exit {outcome.code}, expected {case.code}\n{outcome.stderr}"
    if case.stream == "stdout":
        assert re.search(case.pattern, outcome.stdout, re.M), f"{label}: {case.pattern!r} not in\n{outcome.stdout}"
    else:
        lines = error_lines(outcome.stderr)
        assert len(lines) == 1, f"{label}: expected one error line, got {lines!r}\n{outcome.stderr}"
        assert re.search(case.pattern, lines[0]), f"{label}: error line {lines[0]!r} does not match {case.pattern!r}"
    assert not temp_files(sandbox), f"{label}: temp files left: {temp_files(sandbox)}"
    after = snapshot(sandbox, skip=(out,) if out is not None else ())
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    assert not (added or removed or changed), f"{label}: touched outside the output folder: " \
                                              f"added {added}, removed {removed}, changed {changed}"


def check(main: Callable[[list[str]], int], case, env: dict, out_key: Optional[str] = "out") -> Outcome:
    """Run ``case`` (a :class:`Case` or a tuple ``(id, argv, pattern[, code])``) against
    ``main`` in ``env['sandbox']`` and assert every promise."""
    if not isinstance(case, Case):
        case = Case(case[0], tuple(case[1]), *case[2:])
    if not env.get("ro") and any("{ro}" in a for a in case.argv):
        pytest.skip("no read-only folder on this machine")
    sandbox = Path(env["sandbox"])
    out = Path(env[out_key]) if out_key else None
    outside = Path(env["outside"]) if env.get("outside") else None  # where the out-of-tree symlinks point
    before = snapshot(sandbox, skip=(out,) if out is not None else ())
    before_outside = snapshot(outside) if outside else {}
    cwd = os.getcwd()
    os.chdir(sandbox)  # relative paths ('../x') land in the sandbox, where they are seen
    try:
        outcome = run_main(main, case.args(env))
    finally:
        os.chdir(cwd)
    assert_refused(outcome, case, sandbox, before, out)
    if outside:
        assert snapshot(outside) == before_outside, f"[{case.id}]: the folder outside the tree was touched"
    return outcome


def readonly_dir(tmp: Path) -> Optional[Path]:
    """A folder nobody can create files in: mode 0555 for a normal user; for root (which
    ignores permission bits) a read-only kernel folder; ``None`` when there is none (the
    cases that need one are then skipped, one by one)."""
    if os.geteuid() != 0:
        ro = tmp / "readonly"
        ro.mkdir(exist_ok=True)
        ro.chmod(0o555)
        return ro
    for candidate in ("/sys/kernel", "/sys"):
        try:
            fd, probe = tempfile.mkstemp(dir=candidate)
        except OSError:
            return Path(candidate)
        os.close(fd)
        os.unlink(probe)
    return None


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Path:
    """A module-wide sandbox: inputs live here; each case's outputs go under ``out/``."""
    root = tmp_path_factory.mktemp("sandbox")
    (root / "out").mkdir()
    (root / "emptydir").mkdir()
    (root / "notes.txt").write_text("not media\n")
    (root / "empty.bin").write_bytes(b"")
    (root / "latin1.txt").write_bytes("caf\xe9 au lait".encode("latin-1"))
    (root / "broken.link").symlink_to(root / "does-not-exist")
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.txt").write_text("outside the tree\n")
    (root / "escape.link").symlink_to(outside / "secret.txt")
    (root / ".outside").write_text(str(outside))
    yield root
    for path in (root, outside):
        for p in path.rglob("*"):
            if p.is_dir() and not p.is_symlink():
                p.chmod(0o755)


@pytest.fixture(scope="module")
def base_env(sandbox) -> dict:
    ro = readonly_dir(sandbox)
    return {"sandbox": str(sandbox), "out": str(sandbox / "out"), "ro": str(ro) if ro else "",
            "empty": str(sandbox / "emptydir"),
            "notes": str(sandbox / "notes.txt"), "emptyfile": str(sandbox / "empty.bin"),
            "latin1": str(sandbox / "latin1.txt"), "broken": str(sandbox / "broken.link"),
            "escape": str(sandbox / "escape.link"), "missing": str(sandbox / "missing" / "nothing.here"),
            "outside": (sandbox / ".outside").read_text()}


@pytest.fixture
def refused():
    """``refused(main, case, env, out_key="out")``: run one case and assert every promise."""
    return check
