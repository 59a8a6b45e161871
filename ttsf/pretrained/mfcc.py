"""SyncNet's audio front end: MFCCs as python_speech_features computes them (25 ms
rectangular frames, 10 ms hop, 512-point FFT power spectrum, 26 mel filters, 13 cepstra,
lifter 22, c0 replaced by log frame energy), on 16 kHz audio at int16 scale. Shared by the
LSE metrics (:mod:`eval.metrics.functional.lse`) and the sync loss's training data."""

from __future__ import annotations

import functools

import numpy as np

MFCC_RATE = 16000


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
