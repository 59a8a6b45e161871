"""Laying out an upstream at its pinned commit, building its interpreter, checking what is missing.

Used by ``python -m baselines setup|check|placeholders NAME`` (baselines/__main__.py).

Where the code comes from (first that exists): ``--source``; ``$TTSF_<NAME>_SOURCE``; a mirror
folder ``$TTSF_BASELINES_SOURCE/<owner>+<repo>`` (holding a git dir, or ``repo/`` inside it);
``/work/.mirror/<owner>+<repo>/repo`` (how the development machine brings repositories in);
else the upstream URL (needs network). The checkout is a real git clone detached at the
pinned commit, and ``setup`` refuses to continue when HEAD is anything else.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Optional

from baselines.base import UPSTREAM_DIR, ExternalBaseline, ExtraRepo
from baselines.placeholder import is_placeholder

SOURCE_ENV = "TTSF_BASELINES_SOURCE"
DEV_MIRRORS = Path("/work/.mirror")
ENV_RECORD = "ttsf-env.json"


class SetupError(Exception):
    """Setting an upstream up failed; the message says what to do."""


def mirror_name(adapter) -> str:
    """``owner+repo`` of the upstream URL (the mirror folder name); ``adapter``: anything with ``.repo``."""
    owner, name = adapter.repo.rstrip("/").split("/")[-2:]
    return f"{owner}+{name}"


def _git_dir(path: Path) -> Optional[Path]:
    for cand in (path / "repo", path):
        if (cand / "HEAD").is_file() or (cand / ".git").exists():
            return cand
    return None


def find_source(adapter, explicit: Optional[str] = None) -> str:
    """A local git directory holding the upstream (or an :class:`ExtraRepo`), or its URL."""
    if explicit:
        return explicit
    env = os.environ.get(f"TTSF_{adapter.key.upper()}_SOURCE") if hasattr(adapter, "key") else None
    if env:
        return env
    roots = [Path(os.environ[SOURCE_ENV]).expanduser()] if os.environ.get(SOURCE_ENV) else []
    roots.append(DEV_MIRRORS)
    for root in roots:
        found = _git_dir(root / mirror_name(adapter))
        if found is not None:
            return str(found)
    return adapter.repo


def local_source(adapter: ExternalBaseline) -> Optional[str]:
    """The source ``setup`` would use when it is a local git directory (``None``: only the URL)."""
    src = find_source(adapter)
    if src == adapter.repo or any(find_source(x) == x.repo for x in adapter.extra_repos):
        return None
    return src


def _head(path: Path) -> Optional[str]:
    proc = subprocess.run(["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else None


def _clone(src: str, dest: Path, commit: str) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    _run(["git", "clone", "--quiet", "--no-checkout", src, dest], "git clone")
    _run(["git", "-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", commit],
         f"git checkout {commit} (does the source hold the pinned commit?)", cwd=dest)
    head = _head(dest)
    if head != commit:
        raise SetupError(f"{dest}: HEAD is {head}, pinned commit is {commit}")


def layout_extra(adapter: ExternalBaseline, extra: ExtraRepo, log=print) -> Path:
    dest = adapter.checkout / extra.dest
    if dest.is_dir() and _head(dest) == extra.commit:
        return dest
    if dest.exists():
        raise SetupError(f"{dest} exists but is not {extra.repo} at {extra.commit}: remove it and re-run setup")
    src = find_source(extra)
    log(f"code: cloning {src} -> {dest} at {extra.commit[:12]}")
    _clone(src, dest, extra.commit)
    return dest


def _run(argv: list, what: str, cwd: Optional[Path] = None, env: Optional[dict] = None) -> str:
    proc = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise SetupError(f"{what} failed ({' '.join(map(str, argv[:4]))} ...): {' | '.join(tail)}")
    return proc.stdout


def layout(adapter: ExternalBaseline, source: Optional[str] = None, log=print) -> Path:
    """Clone the upstream into ``adapter.checkout`` detached at the pinned commit (idempotent)."""
    dest = adapter.checkout
    if dest.is_dir() and adapter.checkout_commit() == adapter.commit:
        log(f"code: {dest} already at {adapter.commit[:12]}")
    else:
        if dest.exists() and any(p.name not in {".venv"} for p in dest.iterdir()):
            raise SetupError(f"{dest} exists but is not a checkout at {adapter.commit}: move it away or pass --root")
        src = find_source(adapter, source)
        log(f"code: cloning {src} -> {dest} at {adapter.commit[:12]}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        venv = dest / ".venv"
        keep = dest.parent / f".{dest.name}.venv.keep" if venv.is_dir() else None
        if keep:
            venv.rename(keep)
            dest.rmdir()
        _clone(src, dest, adapter.commit)
        if keep:
            keep.rename(venv)
    for extra in adapter.extra_repos:
        layout_extra(adapter, extra, log)
    for d in adapter.make_dirs:
        (dest / d).mkdir(parents=True, exist_ok=True)
    prepare = getattr(adapter, "prepare_checkout", None)
    if prepare is not None:
        prepare()
    exclude = dest / ".git" / "info" / "exclude"  # keep the checkout's `git status` clean
    exclude.parent.mkdir(parents=True, exist_ok=True)
    if ".venv/" not in (exclude.read_text() if exclude.is_file() else ""):
        with open(exclude, "a") as f:
            f.write("\n.venv/\n.ttsf-bench.lock\n.torch_home/\n")
    return dest


def _env_key(adapter: ExternalBaseline, base: str) -> str:
    spec = {"mode": adapter.env.mode, "pins": list(adapter.env.pins), "base": base,
            "build": [list(b[1]) for b in adapter.env.build]}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def create_env(adapter: ExternalBaseline, log=print) -> Optional[Path]:
    """Build ``checkout/.venv`` as ``adapter.env`` says (idempotent: a record of the spec)."""
    spec = adapter.env
    venv = adapter.checkout / ".venv"
    python = venv / "bin" / "python"
    if spec.mode == "docker":
        log(f"env: {adapter.key} does not run on Python 3.11 here: build {spec.dockerfile} "
            f"(docker build -t IMAGE -f {spec.dockerfile} baselines/docker) and set {adapter.docker_image_var}=IMAGE "
            f"(recipe untested: no Docker on the development machine)")
        return None
    base_site = sysconfig.get_paths()["purelib"] if spec.mode == "overlay" else ""
    key = _env_key(adapter, base_site)
    record = venv / ENV_RECORD
    if python.is_file() and record.is_file() and json.loads(record.read_text()).get("key") == key:
        log(f"env: {venv} up to date ({spec.mode})")
        return python
    base_python = getattr(sys, "_base_executable", None) or sys.executable
    log(f"env: creating {venv} ({spec.mode}) with {base_python}")
    _run([base_python, "-m", "venv", "--clear", "--without-pip", venv], "python -m venv")
    if spec.mode == "overlay":
        site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         "locate site-packages").strip())
        # appended after the venv's own site-packages: its pins win, ttsf-bench's packages fill in
        (site / "_ttsf_bench_base.pth").write_text(base_site + "\n")
    if spec.pins:
        log(f"env: pip install {' '.join(spec.pins)}")
        _run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", "--python", python, "install",
              *spec.pins], "pip install")
    for folder, argv in spec.build:
        log(f"env: build in {folder}: {' '.join(argv)}")
        _run([a.format(python=python) for a in argv], f"build step in {folder}", cwd=adapter.checkout / folder)
    record.write_text(json.dumps({"key": key, "mode": spec.mode, "pins": list(spec.pins), "base": base_site,
                                  "notes": list(spec.notes)}, indent=1))
    return python


def build_placeholders(adapter: ExternalBaseline, seed: int = 0, log=print) -> list[Path]:
    """Random-init checkpoints from the upstream's own classes (tests only; marked inside)."""
    script = UPSTREAM_DIR / f"placeholder_{adapter.key}.py"
    if not script.is_file():
        raise SetupError(f"no placeholder builder for {adapter.key} ({script})")
    out = []
    todo = [ck for ck in adapter.checkpoints if not is_placeholder(adapter.checkout / ck.path)]
    for ck in adapter.checkpoints:
        path = adapter.checkout / ck.path
        if path.is_file() and not is_placeholder(path):
            raise SetupError(f"{path} is a real checkpoint: placeholders are never written over one")
    if todo:
        log(f"placeholders: building {', '.join(c.path for c in todo)} (random init, seed {seed})")
        _run([adapter.python, script, adapter.checkout, "--seed", str(seed)], "placeholder builder",
             cwd=adapter.checkout, env={"OMP_NUM_THREADS": "1"})
    for ck in adapter.checkpoints:
        path = adapter.checkout / ck.path
        if not is_placeholder(path):
            raise SetupError(f"placeholder builder did not write a marked {path}")
        out.append(path)
    return out


def check(adapter: ExternalBaseline) -> tuple[bool, list[str]]:
    """``(ready, report lines)``: code, interpreter, imports, each checkpoint (path, sha256, source)."""
    lines, ok = [], True
    dest = adapter.checkout
    head = adapter.checkout_commit() if dest.is_dir() else None
    if not dest.is_dir():
        ok = False
        src = local_source(adapter)
        lines.append(f"MISSING code: {dest} (python -m baselines setup {adapter.key}"
                     f"{'' if src else ' --source GITDIR_OR_URL'}; {adapter.repo} @ {adapter.commit}; "
                     f"source here: {src or 'none local, the URL needs network'})")
    elif head != adapter.commit:
        ok = False
        lines.append(f"WRONG code: {dest} is at {head}, pinned {adapter.commit} (re-run setup into an empty --root)")
    else:
        lines.append(f"ok code: {dest} @ {head}")
        gone = subprocess.run(["git", "ls-files", "--deleted"], cwd=dest, capture_output=True, text=True).stdout.split()
        # files that setup moved into the adapter's folders are not missing
        gone = [g for g in gone if not any((dest / d / Path(g).name).is_file() for d in adapter.make_dirs)]
        if gone:
            lines.append(f"note code: {len(gone)} file(s) of the commit are absent (partial source): "
                         f"{', '.join(gone[:5])}")
    for extra in adapter.extra_repos:
        xdest = dest / extra.dest
        xhead = _head(xdest) if xdest.is_dir() else None
        if xhead != extra.commit:
            ok = False
            lines.append(f"MISSING code: {xdest} ({extra.repo} @ {extra.commit}; python -m baselines setup "
                         f"{adapter.key})")
        else:
            lines.append(f"ok code: {xdest} @ {xhead}")
    if adapter.env.mode == "docker" and not os.environ.get(f"TTSF_{adapter.key.upper()}_PYTHON"):
        image = os.environ.get(adapter.docker_image_var)
        if image:
            lines.append(f"docker env: image {image} ({adapter.env.dockerfile}; not checked here)")
        else:
            ok = False
            lines.append(f"NO env: {adapter.key} does not run on Python 3.11 here: docker build -t IMAGE -f "
                         f"{adapter.env.dockerfile} baselines/docker "
                         f"and set {adapter.docker_image_var}=IMAGE (recipe untested)")
    elif not adapter.python.is_file():
        ok = False
        lines.append(f"MISSING env: {adapter.python} (python -m baselines setup {adapter.key})")
    else:
        probe = ("import importlib, sys\nbad = []\nfor m in sys.argv[1:]:\n"
                 "    try:\n        importlib.import_module(m)\n"
                 "    except Exception as e:\n        bad.append(f'{m} ({type(e).__name__}: {e})')\n"
                 "print('; '.join(bad))")
        proc = subprocess.run([str(adapter.python), "-c", probe, *adapter.env.imports], capture_output=True, text=True)
        bad = proc.stdout.strip() if proc.returncode == 0 else (proc.stderr.strip().splitlines() or ["?"])[-1]
        if bad:
            ok = False
            lines.append(f"BROKEN env: {adapter.python} cannot import {bad}")
        else:
            lines.append(f"ok env: {adapter.python} ({adapter.env.mode}; imports {', '.join(adapter.env.imports)})")
    for ck in adapter.checkpoints:
        path = dest / ck.path
        want = (f"sha256 {ck.sha256}" if ck.sha256 else f"sha256 starting {ck.sha256_prefix} (its file name)"
                if ck.sha256_prefix else "sha256 not published (your file's hash goes in results.json)")
        where = f"from {ck.source}" + (f" <{ck.url}>" if ck.url else "") + (f", {ck.size} bytes" if ck.size else "")
        if not path.is_file():
            ok = False
            lines.append(f"MISSING checkpoint: {path} ({want}; {where})")
        elif is_placeholder(path):
            ok = False
            lines.append(f"PLACEHOLDER checkpoint: {path} is a placeholder (random-init, or crafted where "
                         f"docs/baselines.md says; tests only; refused without --allow-placeholder); real one: "
                         f"{want}; {where}")
        elif (ck.sha256 and adapter._sha(path) != ck.sha256) or (
                ck.sha256_prefix and not adapter._sha(path).startswith(ck.sha256_prefix)):
            ok = False
            lines.append(f"WRONG checkpoint: {path} has sha256 {adapter._sha(path)}, expected {want[7:]} ({where})")
        else:
            lines.append(f"ok checkpoint: {path} sha256 {adapter._sha(path)}"
                         f"{' (pinned)' if ck.sha256 or ck.sha256_prefix else ' (no published hash to compare)'}")
    return ok, lines
