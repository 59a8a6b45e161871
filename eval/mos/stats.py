"""MOS statistics: mean opinion score with a Student-t 95% confidence interval."""

from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np

SCALE = (1, 5)


def mos_ci(ratings: Sequence[float], level: float = 0.95) -> tuple[float, Optional[float]]:
    """``(mean, half-width)`` of the ``level`` CI, ``t_{(1+level)/2, n-1} * s / sqrt(n)``.

    The half-width is ``None`` for fewer than two ratings. Raises ``ValueError`` on an
    empty input or a rating outside 1..5.
    """
    x = np.asarray(ratings, dtype=np.float64)
    if x.size == 0:
        raise ValueError("no ratings")
    if np.any((x < SCALE[0]) | (x > SCALE[1])) or not np.all(np.isfinite(x)):
        raise ValueError(f"ratings must lie in {SCALE[0]}..{SCALE[1]}")
    mean = float(x.mean())
    if x.size < 2:
        return mean, None
    from scipy import stats

    t = float(stats.t.ppf((1.0 + level) / 2.0, df=x.size - 1))
    return mean, t * float(x.std(ddof=1)) / math.sqrt(x.size)
