"""Monotonic alignment search (MAS, Glow-TTS) and length regulation.

Shapes: ``log_p`` ``(batch, text_len, mel_len)`` log-likelihood of mel frame j
under token i; masks ``(batch, text_len)`` / ``(batch, mel_len)`` booleans (or
lengths). The result ``path`` ``(batch, text_len, mel_len)`` is 0/1 with exactly
one token per valid mel frame, monotonic, every valid token used at least once.

Recurrence: ``Q[i, j] = log_p[i, j] + max(Q[i, j-1], Q[i-1, j-1])`` from (0, 0)
to (T_x-1, T_y-1); backtracking moves to token i-1 when ``i == j`` or
``Q[i, j-1] < Q[i-1, j-1]`` (ties keep the current token). :func:`mas_reference`
is the plain-Python statement of this; :func:`mas` is vectorised over the batch
and the text axis (numpy, float64) and gives the identical path.
"""

from __future__ import annotations

import functools
import logging
import math

import numpy as np
import torch

log = logging.getLogger(__name__)

def mas_reference(log_p: np.ndarray, text_len: int, mel_len: int) -> np.ndarray:
    """Plain-Python DP for one item; ``log_p`` ``(T_x, T_y)``; returns path ``(T_x, T_y)``."""
    if text_len > mel_len:
        raise ValueError(f"cannot align {text_len} tokens to {mel_len} frames")
    tx, ty = text_len, mel_len
    neg = -math.inf
    q = [[neg] * ty for _ in range(tx)]
    for j in range(ty):
        for i in range(min(j + 1, tx)):
            if j == 0:
                best = 0.0 if i == 0 else neg
            else:
                stay = q[i][j - 1]
                move = q[i - 1][j - 1] if i > 0 else neg
                best = max(stay, move)
            q[i][j] = float(log_p[i][j]) + best if best != neg else neg
    path = np.zeros(log_p.shape, dtype=np.float32)
    i = tx - 1
    for j in range(ty - 1, -1, -1):
        path[i, j] = 1.0
        if i > 0 and (i == j or q[i][j - 1] < q[i - 1][j - 1]):
            i -= 1
    return path


@functools.lru_cache(maxsize=1)
def _numba_kernel():
    """Compile the per-item DP with numba (None when numba is not installed)."""
    try:
        import numba
    except ImportError:
        log.info("numba not installed: MAS uses the vectorised numpy backend")
        return None

    @numba.njit(cache=False, nogil=True)
    def kernel(lp, tx_len, ty_len, path):  # pragma: no cover - compiled
        for k in range(lp.shape[0]):
            tx, ty = tx_len[k], ty_len[k]
            q = np.full((tx, ty), -np.inf)
            for j in range(ty):
                for i in range(min(j + 1, tx)):
                    if j == 0:
                        best = 0.0 if i == 0 else -np.inf
                    else:
                        best = q[i, j - 1]
                        if i > 0 and q[i - 1, j - 1] > best:
                            best = q[i - 1, j - 1]
                    if best != -np.inf:
                        q[i, j] = lp[k, i, j] + best
            i = tx - 1
            for j in range(ty - 1, -1, -1):
                path[k, i, j] = 1.0
                if i > 0 and (i == j or q[i, j - 1] < q[i - 1, j - 1]):
                    i -= 1

    return kernel


def mas(log_p: torch.Tensor, text_lengths: torch.Tensor, mel_lengths: torch.Tensor,
        backend: str = "auto") -> torch.Tensor:
    """Batched exact MAS; ``log_p`` ``(batch, T_x, T_y)`` -> 0/1 path of the same shape.

    backend: ``"numba"`` (compiled loops), ``"numpy"`` (vectorised over batch and text
    axis) or ``"auto"`` (numba when installed). Both equal :func:`mas_reference`.
    """
    device, dtype = log_p.device, log_p.dtype
    lp = log_p.detach().cpu().double().numpy()
    tx_len = text_lengths.detach().cpu().numpy().astype(np.int64)
    ty_len = mel_lengths.detach().cpu().numpy().astype(np.int64)
    if np.any(tx_len > ty_len):
        bad = int(np.argmax(tx_len > ty_len))
        raise ValueError(f"item {bad}: cannot align {tx_len[bad]} tokens to {ty_len[bad]} frames")
    if backend not in ("auto", "numba", "numpy"):
        raise ValueError(f"backend must be auto, numba or numpy, got {backend!r}")
    kernel = _numba_kernel() if backend in ("auto", "numba") else None
    if backend == "numba" and kernel is None:
        raise RuntimeError("MAS backend 'numba' requested but numba is not installed")
    if kernel is not None:
        path = np.zeros(lp.shape, dtype=np.float32)
        kernel(np.ascontiguousarray(lp), tx_len, ty_len, path)
        return torch.from_numpy(path).to(device=device, dtype=dtype)
    return _mas_numpy(lp, tx_len, ty_len).to(device=device, dtype=dtype)


def _mas_numpy(lp: np.ndarray, tx_len: np.ndarray, ty_len: np.ndarray) -> torch.Tensor:
    b, tx, ty = lp.shape
    rows = np.arange(tx)[None, :]
    valid_row = rows < tx_len[:, None]
    q = np.full((b, tx, ty), -np.inf)
    prev = np.full((b, tx), -np.inf)
    for j in range(ty):
        if j == 0:
            best = np.where(rows == 0, 0.0, -np.inf) * np.ones((b, 1))
        else:
            shifted = np.concatenate([np.full((b, 1), -np.inf), prev[:, :-1]], axis=1)
            best = np.maximum(prev, shifted)
        cur = np.where((rows <= j) & valid_row, lp[:, :, j] + best, -np.inf)
        q[:, :, j] = cur
        prev = cur
    path = np.zeros((b, tx, ty), dtype=np.float32)
    idx = tx_len - 1
    bi = np.arange(b)
    for j in range(ty - 1, -1, -1):
        active = j < ty_len
        path[bi[active], idx[active], j] = 1.0
        if j == 0:
            break
        stay = q[bi, idx, j - 1]
        move = q[bi, np.maximum(idx - 1, 0), j - 1]
        step = active & (idx > 0) & ((idx == j) | (stay < move))
        idx = idx - step.astype(np.int64)
    return torch.from_numpy(path)


def gaussian_log_prior(mu: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """log N(y_j; mu_i, I) for every pair: mu ``(B, C, T_x)``, y ``(B, C, T_y)`` -> ``(B, T_x, T_y)``."""
    c = mu.shape[1]
    d2 = (mu.pow(2).sum(1)[:, :, None] - 2 * torch.einsum("bct,bcs->bts", mu, y) + y.pow(2).sum(1)[:, None, :])
    return -0.5 * d2 - 0.5 * c * math.log(2 * math.pi)


def sequence_mask(lengths: torch.Tensor, max_len: int | None = None) -> torch.Tensor:
    """``(batch,)`` lengths -> ``(batch, max_len)`` bool mask."""
    max_len = int(lengths.max()) if max_len is None else max_len
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]


def path_from_durations(durations: torch.Tensor, text_mask: torch.Tensor, mel_len: int | None = None) -> torch.Tensor:
    """Hard alignment from integer durations ``(B, T_x)`` -> path ``(B, T_x, T_y)``."""
    durations = (durations * text_mask).long()
    ends = durations.cumsum(1)
    mel_len = int(ends[:, -1].max()) if mel_len is None else mel_len
    starts = ends - durations
    frames = torch.arange(mel_len, device=durations.device)[None, None, :]
    return ((frames >= starts[:, :, None]) & (frames < ends[:, :, None])).to(torch.float32)


def regulate(x: torch.Tensor, path: torch.Tensor) -> torch.Tensor:
    """Length regulation: token features ``(B, C, T_x)`` -> frame features ``(B, C, T_y)``."""
    return torch.bmm(x, path.to(x.dtype))
