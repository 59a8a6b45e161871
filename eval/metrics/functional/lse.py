"""LSE-C / LSE-D from SyncNet embeddings, following joonson/syncnet_python exactly.

- MFCC: python_speech_features defaults (25 ms rectangular frames, 10 ms hop, 512-point
  FFT power spectrum, 26 mel filters, 13 cepstra, lifter 22, c0 replaced by log frame
  energy), on 16 kHz audio at int16 scale.
- Windows: video frames ``v .. v+4`` against MFCC frames ``4v .. 4v+19`` for
  ``v = 0 .. min(T_video, samples // 640) - 6``.
- Distances: for every window, the Euclidean distance (``pairwise_distance``,
  eps 1e-6) to the audio windows shifted by ``-vshift .. +vshift`` (zero embeddings
  beyond the ends), averaged over windows per shift.
- ``LSE-D`` = min mean distance, ``LSE-C`` = median - min, ``offset`` = vshift - argmin.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ttsf.pretrained.mfcc import mfcc

VIDEO_WINDOW = 5  # frames
AUDIO_WINDOW = 20  # MFCC frames (4 per video frame)


def n_windows(n_video_frames: int, n_audio_samples: int) -> int:
    """Number of 5-frame windows syncnet_python scores (may be <= 0 for short clips)."""
    return min(n_video_frames, n_audio_samples // 640) - VIDEO_WINDOW


def offset_distances(video_emb: torch.Tensor, audio_emb: torch.Tensor, vshift: int = 15) -> torch.Tensor:
    """Per-window distances to shifted audio: ``(windows, 2 * vshift + 1)``.

    Args:
        video_emb, audio_emb: ``(windows, dim)`` embeddings of aligned windows.
    """
    span = 2 * vshift + 1
    padded = F.pad(audio_emb, (0, 0, vshift, vshift))
    rows = [F.pairwise_distance(video_emb[[i], :].repeat(span, 1), padded[i:i + span, :])
            for i in range(len(video_emb))]
    return torch.stack(rows, 0)


def lse_from_distances(distances: torch.Tensor, vshift: int = 15) -> dict:
    """LSE-D, LSE-C and AV offset from ``(windows, 2 * vshift + 1)`` distances.

    Returns a dict with ``lse_d`` (min of the per-offset mean distance), ``lse_c``
    (median minus min; torch's lower median), ``offset`` (``vshift - argmin``, video
    frames; positive = audio leads) and ``mean_dist`` ``(2 * vshift + 1,)``.
    """
    mean_dist = distances.mean(0)
    min_value, min_index = torch.min(mean_dist, 0)
    confidence = torch.median(mean_dist) - min_value
    return {
        "lse_d": float(min_value),
        "lse_c": float(confidence),
        "offset": int(vshift - int(min_index)),
        "mean_dist": mean_dist.numpy().copy(),
    }


def lse_from_curve(curve, vshift: int = 15) -> dict:
    """:func:`lse_from_distances` of one mean-distance-per-lag curve ``(2 * vshift + 1,)`` (float64)."""
    return lse_from_distances(torch.as_tensor(np.asarray(curve, dtype=np.float64))[None, :], vshift)


@torch.no_grad()
def video_embeddings(net, crops_bgr: np.ndarray, count: int, batch_size: int = 20, device: str = "cpu") -> torch.Tensor:
    """Embeddings ``(count, dim)`` of the 5-frame windows starting at frames ``0 .. count-1``.

    Args:
        crops_bgr: ``uint8`` ``(T, 224, 224, 3)`` BGR face crops at 25 fps (``count <= T - 4``).
    """
    video = torch.from_numpy(np.ascontiguousarray(crops_bgr)).permute(3, 0, 1, 2).float()  # (3, T, H, W)
    out = []
    for start in range(0, count, batch_size):
        lips = torch.stack([video[:, v:v + VIDEO_WINDOW] for v in range(start, min(count, start + batch_size))])
        out.append(net.forward_lip(lips.to(device)).cpu())
    return torch.cat(out)


@torch.no_grad()
def audio_embeddings(net, audio: np.ndarray, count: int, batch_size: int = 20, device: str = "cpu") -> torch.Tensor:
    """Embeddings ``(count, dim)`` of the MFCC windows ``4v .. 4v+19`` for ``v = 0 .. count-1``.

    Args:
        audio: ``(samples,)`` 16 kHz audio at int16 scale.
    """
    cc = torch.from_numpy(mfcc(audio).T.copy()).float()  # (13, M)
    out = []
    for start in range(0, count, batch_size):
        mf = torch.stack([cc[None, :, 4 * v:4 * v + AUDIO_WINDOW]
                          for v in range(start, min(count, start + batch_size))])
        out.append(net.forward_aud(mf.to(device)).cpu())
    return torch.cat(out)


def syncnet_embeddings(net, crops_bgr: np.ndarray, audio: np.ndarray, batch_size: int = 20,
                       device: str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Video and audio embeddings ``(windows, dim)`` of every aligned window (see module doc)."""
    count = n_windows(len(crops_bgr), len(audio))
    if count < 1:
        raise ValueError(f"too short for one SyncNet window: {len(crops_bgr)} frames, {len(audio)} samples")
    return (video_embeddings(net, crops_bgr, count, batch_size, device),
            audio_embeddings(net, audio, count, batch_size, device))
