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

import functools

import numpy as np
import torch
import torch.nn.functional as F

MFCC_RATE = 16000
VIDEO_WINDOW = 5  # frames
AUDIO_WINDOW = 20  # MFCC frames (4 per video frame)


def _hz_to_mel(hz):
    return 2595.0 * np.log10(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def _mel_to_hz(mel):
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


@functools.lru_cache(maxsize=4)
def _filterbank(n_filters: int, n_fft: int, sample_rate: int) -> np.ndarray:
    """Triangular mel filters ``(n_filters, n_fft // 2 + 1)`` on python_speech_features' bin grid."""
    points = np.linspace(_hz_to_mel(0), _hz_to_mel(sample_rate / 2), n_filters + 2)
    bins = np.floor((n_fft + 1) * _mel_to_hz(points) / sample_rate)
    bank = np.zeros((n_filters, n_fft // 2 + 1))
    for j in range(n_filters):
        left, centre, right = int(bins[j]), int(bins[j + 1]), int(bins[j + 2])
        for i in range(left, centre):
            bank[j, i] = (i - bins[j]) / (bins[j + 1] - bins[j])
        for i in range(centre, right):
            bank[j, i] = (bins[j + 2] - i) / (bins[j + 2] - bins[j + 1])
    return bank


def mfcc(signal: np.ndarray, sample_rate: int = MFCC_RATE, n_ceps: int = 13, n_filters: int = 26,
         n_fft: int = 512, win: float = 0.025, hop: float = 0.01, preemph: float = 0.97,
         lifter: int = 22) -> np.ndarray:
    """MFCC ``(frames, n_ceps)`` of a mono signal, numerically as ``python_speech_features.mfcc``.

    Args:
        signal: ``(samples,)`` at int16 scale (syncnet_python reads 16-bit wav samples).
    """
    from scipy.fft import dct

    x = np.asarray(signal, dtype=np.float64)
    x = np.append(x[0], x[1:] - preemph * x[:-1])
    frame_len = int(np.floor(win * sample_rate + 0.5))
    frame_step = int(np.floor(hop * sample_rate + 0.5))
    n_frames = 1 if len(x) <= frame_len else 1 + int(np.ceil((len(x) - frame_len) / frame_step))
    padded = np.concatenate([x, np.zeros(max(0, (n_frames - 1) * frame_step + frame_len - len(x)))])
    index = np.arange(frame_len)[None, :] + frame_step * np.arange(n_frames)[:, None]
    frames = padded[index]
    power = np.abs(np.fft.rfft(frames, n_fft)) ** 2 / n_fft
    eps = np.finfo(float).eps
    energy = power.sum(1)
    energy = np.where(energy == 0, eps, energy)
    feats = power @ _filterbank(n_filters, n_fft, sample_rate).T
    feats = np.where(feats == 0, eps, feats)
    ceps = dct(np.log(feats), type=2, axis=1, norm="ortho")[:, :n_ceps]
    ceps = ceps * (1 + (lifter / 2.0) * np.sin(np.pi * np.arange(n_ceps) / lifter))
    ceps[:, 0] = np.log(energy)
    return ceps


def to_int16_scale(audio: np.ndarray) -> np.ndarray:
    """Float audio in [-1, 1] -> int16 sample values (as a 16-bit wav would hold them)."""
    return np.clip(np.round(np.asarray(audio, dtype=np.float64) * 32768.0), -32768, 32767)


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
        mf = torch.stack([cc[None, :, 4 * v:4 * v + AUDIO_WINDOW] for v in range(start, min(count, start + batch_size))])
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
