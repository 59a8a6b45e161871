"""F0 RMSE in Hz: WORLD Harvest pitch, DTW-aligned frames, voiced in both.

Recipe: F0 of each waveform with ``pyworld.harvest`` (5 ms frames, 71-800 Hz search
range, pyworld defaults); the two utterances are aligned by fastdtw on mel-cepstra
c1..c13 (CheapTrick envelope of the same frames, all-pass alpha for the sample rate:
0.41 at 16 kHz), so a timing difference is not scored as a pitch error; along the
path only frame pairs voiced (F0 > 0) in both are kept, and

    F0 RMSE = sqrt(mean (f0_ref - f0_syn)^2)   [Hz]

No voiced pair (silence, whispering) leaves the RMSE undefined: NaN with a reason.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Optional

import numpy as np

FRAME_PERIOD_MS = 5.0
F0_FLOOR = 71.0
F0_CEIL = 800.0
ORDER = 13


@dataclasses.dataclass(frozen=True)
class F0Result:
    rmse: float  # Hz; NaN when undefined (see ``reason``)
    voiced_pairs: int
    aligned_pairs: int
    reason: Optional[str] = None


@functools.lru_cache(maxsize=8)
def mcep_alpha(sample_rate: int) -> float:
    """All-pass constant approximating the mel scale at ``sample_rate`` (0.41 at 16 kHz; a
    search over 1000 candidates, so kept per rate)."""
    import pysptk

    return float(pysptk.util.mcepalpha(int(sample_rate)))


def harvest(wav: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """WORLD Harvest ``(f0 (frames,), mcep (frames, ORDER + 1))`` of mono audio ``(samples,)``."""
    import pyworld

    from eval.metrics.functional.mcd import mel_cepstrum

    x = np.asarray(wav, dtype=np.float64)
    f0, t = pyworld.harvest(x, int(sample_rate), f0_floor=F0_FLOOR, f0_ceil=F0_CEIL, frame_period=FRAME_PERIOD_MS)
    sp = pyworld.cheaptrick(x, f0, t, int(sample_rate))
    return f0, mel_cepstrum(sp, mcep_alpha(sample_rate), ORDER)


def rmse_on_path(ref_f0: np.ndarray, syn_f0: np.ndarray, path) -> F0Result:
    """F0 RMSE over the frame pairs of ``path`` (``(n, 2)`` or a list of pairs) voiced in both ``(frames,)`` tracks."""
    idx = np.asarray(path, dtype=np.int64).reshape(-1, 2)
    a, b = ref_f0[idx[:, 0]], syn_f0[idx[:, 1]]
    voiced = (a > 0) & (b > 0)
    n = int(voiced.sum())
    if n == 0:
        ref_voiced, syn_voiced = int((ref_f0 > 0).sum()), int((syn_f0 > 0).sum())
        reason = f"no frame pair voiced in both (voiced frames: reference {ref_voiced}, generated {syn_voiced})"
        return F0Result(float("nan"), 0, len(idx), reason)
    err = a[voiced] - b[voiced]
    return F0Result(float(np.sqrt(np.mean(err * err))), n, len(idx))


def f0_rmse(ref_wav: np.ndarray, syn_wav: np.ndarray, sample_rate: int) -> F0Result:
    """F0 RMSE (Hz) between mono waveforms ``(samples,)`` at ``sample_rate``."""
    from eval.metrics.functional.mcd import dtw_path

    ref_f0, ref_mc = harvest(ref_wav, sample_rate)
    syn_f0, syn_mc = harvest(syn_wav, sample_rate)
    return rmse_on_path(ref_f0, syn_f0, dtw_path(ref_mc[:, 1:], syn_mc[:, 1:]))
