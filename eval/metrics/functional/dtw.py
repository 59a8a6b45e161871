"""FastDTW (Salvador & Chan 2007) with Euclidean frame distances, as ``fastdtw 0.3.4`` computes it.

``fastdtw.fastdtw(x, y, dist=scipy.spatial.distance.euclidean)`` (the recipe of pymcd and
of the F0 RMSE alignment) spends most of its time calling the distance once per cell
from Python. This is the same algorithm with the same arithmetic, so the same path:

- coarsening: pairs of frames averaged, ``(x[2i] + x[2i+1]) / 2`` (an odd last frame
  dropped), down to fewer than ``radius + 2`` frames, where the full DTW runs;
- each finer level searches the cells under the coarse path widened by ``radius`` cells
  (a Chebyshev box), each coarse cell covering 2 x 2 fine cells; a row keeps the first
  contiguous run of such cells at or after the first column of the previous row's run;
- cell cost ``d(i, j) + min(up, left, diagonal)``, ties resolved in that order (the first
  of equal minima), summed left to right in float64;
- ``d(i, j)`` is BLAS ``nrm2`` of ``x[i] - y[j]`` (what ``scipy.spatial.distance.euclidean``
  calls; it is not bit-equal to ``sqrt(sum(d * d))``), for all cells of a level at once.

Only the Python loop of the dynamic programme remains per cell.
"""

from __future__ import annotations

import numpy as np


def _distances(x: np.ndarray, y: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> list[float]:
    """``nrm2(x[rows[c]] - y[cols[c]])`` per cell ``c``, as Python floats."""
    from scipy.linalg import get_blas_funcs

    diff = x[rows] - y[cols]
    nrm2 = get_blas_funcs("nrm2", dtype=diff.dtype, ilp64="preferred")
    return [float(nrm2(row)) for row in diff]


def _window(path: np.ndarray, len_x: int, len_y: int, radius: int) -> list[tuple[int, int]]:
    """Fine-level runs ``(start_j, stop_j)`` per row ``i`` from the coarse ``path`` ``(m, 2)``."""
    span = np.arange(-radius, radius + 1)
    box = np.stack(np.meshgrid(span, span, indexing="ij"), axis=-1).reshape(-1, 2)
    coarse = (path[:, None, :] + box[None]).reshape(-1, 2)
    children = np.array([(0, 0), (0, 1), (1, 0), (1, 1)])
    fine = (2 * coarse[:, None, :] + children[None]).reshape(-1, 2)
    fine = fine[(fine[:, 0] >= 0) & (fine[:, 0] < len_x) & (fine[:, 1] >= 0) & (fine[:, 1] < len_y)]
    mask = np.zeros((len_x, len_y + 1), dtype=bool)  # a False column closes every run
    mask[fine[:, 0], fine[:, 1]] = True
    runs, start = [], 0
    for i in range(len_x):
        row = mask[i, start:]
        first = int(np.argmax(row))
        if not row[first]:
            raise ValueError(f"fastdtw window has no cell in row {i} at or after column {start}")
        length = int(np.argmin(row[first:]))
        start += first
        runs.append((start, start + length))
    return runs


def _dtw(x: np.ndarray, y: np.ndarray, runs: list[tuple[int, int]]) -> np.ndarray:
    """DTW path ``(n, 2)`` over the cells ``runs[i] = (start_j, stop_j)`` of each row ``i``."""
    len_x, len_y = len(x), len(y)
    rows = np.concatenate([np.full(b - a, i) for i, (a, b) in enumerate(runs)])
    cols = np.concatenate([np.arange(a, b) for a, b in runs])
    dist = iter(_distances(x, y, rows, cols))
    inf = float("inf")
    previous = [0.0] + [inf] * len_y  # cost row i - 1 (1-based columns); row 0: only (0, 0) is reachable
    moves = []  # per row: step to the predecessor, 0 up, 1 left, 2 diagonal
    for start, stop in runs:
        current = [inf] * (len_y + 1)
        row_moves = bytearray(stop - start)
        for j in range(start + 1, stop + 1):
            d = next(dist)
            best, move = previous[j] + d, 0
            left = current[j - 1] + d
            if left < best:
                best, move = left, 1
            diagonal = previous[j - 1] + d
            if diagonal < best:
                best, move = diagonal, 2
            current[j] = best
            row_moves[j - 1 - start] = move
        moves.append(row_moves)
        previous = current
    path = []
    i, j = len_x, len_y
    while i or j:
        path.append((i - 1, j - 1))
        move = moves[i - 1][j - 1 - runs[i - 1][0]]
        i, j = (i - 1, j) if move == 0 else (i, j - 1) if move == 1 else (i - 1, j - 1)
    return np.array(path[::-1], dtype=np.int64).reshape(-1, 2)


def fastdtw_path(x: np.ndarray, y: np.ndarray, radius: int = 1) -> np.ndarray:
    """FastDTW path ``(n, 2)`` (index into ``x``, index into ``y``) of frames ``(len, dims)``."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"need (frames, dims) inputs of equal dims, got {x.shape} and {y.shape}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("array must not contain infs or NaNs")
    if len(x) < radius + 2 or len(y) < radius + 2:
        return _dtw(x, y, [(0, len(y))] * len(x))
    half_x = (x[0:len(x) - len(x) % 2:2] + x[1:len(x):2][:len(x) // 2]) / 2
    half_y = (y[0:len(y) - len(y) % 2:2] + y[1:len(y):2][:len(y) // 2]) / 2
    coarse = fastdtw_path(half_x, half_y, radius)
    return _dtw(x, y, _window(coarse, len(x), len(y), radius))
