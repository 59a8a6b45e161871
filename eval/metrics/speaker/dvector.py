"""Resemblyzer GE2E d-vector (offline C-SIM backend), loaded with ``weights_only=True``.

Network: 3-layer LSTM (40 mel -> 256) + linear 256 -> 256 + ReLU, L2-normalised.
Utterance embedding (Resemblyzer 0.1.4 ``embed_utterance``): the preprocessed waveform
(volume normalised to -30 dBFS, increase only; long silences cut with webrtcvad) is split
into 1.6 s partials at 1.3 partials/s (last one kept when >= 75 % covered, zero padded);
the partial embeddings are averaged and L2-normalised. Audio preprocessing and the mel
filterbank are Resemblyzer's own functions, so embeddings equal its ``VoiceEncoder``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

SAMPLE_RATE = 16000
N_MELS = 40
HIDDEN = 256
LAYERS = 3
RATE = 1.3
MIN_COVERAGE = 0.75


class DVectorEncoder(nn.Module):
    """Mel partials ``(batch, frames, 40)`` -> embeddings ``(batch, 256)`` (L2-normalised)."""

    def __init__(self, weights: Path | None = None):
        super().__init__()
        self.lstm = nn.LSTM(N_MELS, HIDDEN, LAYERS, batch_first=True)
        self.linear = nn.Linear(HIDDEN, HIDDEN)
        if weights is not None:
            checkpoint = torch.load(weights, map_location="cpu", weights_only=True)
            state = checkpoint.get("model_state", checkpoint)
            own = {k: v for k, v in state.items() if k.startswith(("lstm.", "linear."))}
            self.load_state_dict(own, strict=True)

    def forward(self, mels: torch.Tensor) -> torch.Tensor:
        _, (hidden, _) = self.lstm(mels)
        raw = torch.relu(self.linear(hidden[-1]))
        return raw / torch.norm(raw, dim=1, keepdim=True)


def preprocess(wav: np.ndarray, sample_rate: int) -> np.ndarray:
    """Resemblyzer preprocessing of mono float audio ``(samples,)`` -> 16 kHz ``(samples',)``."""
    from resemblyzer.audio import preprocess_wav

    return preprocess_wav(np.asarray(wav, dtype=np.float32),
                          source_sr=int(sample_rate) if sample_rate != SAMPLE_RATE else None)


@torch.no_grad()
def embed_utterance(model: DVectorEncoder, wav: np.ndarray) -> np.ndarray:
    """Embedding ``(256,)`` of a preprocessed 16 kHz utterance ``(samples,)``."""
    from resemblyzer.audio import wav_to_mel_spectrogram
    from resemblyzer.voice_encoder import VoiceEncoder

    wav_slices, mel_slices = VoiceEncoder.compute_partial_slices(len(wav), RATE, MIN_COVERAGE)
    stop = wav_slices[-1].stop
    if stop >= len(wav):
        wav = np.pad(wav, (0, stop - len(wav)), "constant")
    mel = wav_to_mel_spectrogram(wav)
    mels = torch.from_numpy(np.array([mel[s] for s in mel_slices]))
    partials = model(mels).cpu().numpy()
    raw = partials.mean(axis=0)
    return raw / np.linalg.norm(raw, 2)
