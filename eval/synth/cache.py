"""The cached default corpus: built on demand, atomically, under ``$TTSF_CACHE/synth/<key>``."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
from pathlib import Path

from eval.synth.config import PRESETS, SynthConfig, SynthError
from ttsf.atomic import atomic_path

log = logging.getLogger(__name__)

DONE = ".done"


def cache_root() -> Path:
    """``$TTSF_CACHE`` or ``~/.cache/ttsf-bench``."""
    env = os.environ.get("TTSF_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "ttsf-bench"


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # another process building the same corpus: wait for it
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build_atomically(final: Path, make) -> Path:
    """Run ``make(tmp_dir)`` and rename the result to ``final`` once complete (with a done-marker)."""
    if (final / DONE).is_file():
        return final
    with _locked(final.with_name(final.name + ".lock")):
        if (final / DONE).is_file():
            return final
        if final.exists():  # a directory without its marker is never trusted
            shutil.rmtree(final)
        for stale in final.parent.glob(f".{final.name}.tmp*"):
            shutil.rmtree(stale, ignore_errors=True)  # we hold the lock: nobody else is building it
        with atomic_path(final) as tmp:
            make(tmp)
            (tmp / DONE).write_text("complete\n", encoding="utf-8")
    return final


def default_corpus(preset: str = "default", shift_audio: int = 0, jobs: int = 1) -> Path:
    """Path of the cached corpus for ``preset`` ("default" or "tiny"), building it if needed.

    ``shift_audio`` != 0 returns a desynchronised copy (audio shifted by that many
    frames, see :mod:`eval.synth.shift`), itself cached.
    """
    from eval.synth.corpus import build
    from eval.synth.shift import shift_corpus

    if preset not in PRESETS:
        raise SynthError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    cfg: SynthConfig = PRESETS[preset].validate()
    base = cache_root() / "synth" / cfg.key()
    kwargs = dict(identities=cfg.identities, clips=cfg.clips, seconds=cfg.seconds, size=cfg.size, seed=cfg.seed,
                  voices=cfg.voices, test_identities=cfg.test_identities, test_fraction=cfg.test_fraction)
    _build_atomically(base, lambda tmp: build(tmp, jobs=jobs, **kwargs))
    if shift_audio == 0:
        return base
    if isinstance(shift_audio, bool) or not isinstance(shift_audio, int):
        raise SynthError(f"shift_audio must be an integer, got {shift_audio!r}")
    shifted = cache_root() / "synth" / f"{cfg.key()}-shift{shift_audio:+d}"
    return _build_atomically(shifted, lambda tmp: shift_corpus(base, shift_audio, tmp))
