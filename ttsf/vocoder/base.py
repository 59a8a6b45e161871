"""Vocoder interface and the mel-recipe compatibility check (loading by name: :mod:`ttsf.vocoder.load`)."""

from __future__ import annotations

import dataclasses
import logging
import os
from typing import Optional, Union

import torch

from ttsf.media import MelConfig

log = logging.getLogger(__name__)

PathLike = Union[str, os.PathLike]

#: Hop between mel frames, in samples, for every 16 kHz vocoder here (100 frames/s).
HOP = 160


class VocoderError(RuntimeError):
    """A vocoder that cannot be loaded or used (missing file, wrong mel recipe…)."""


class Vocoder:
    """A mel-to-waveform model with the mel recipe it expects.

    ``__call__(mel)``: mel ``(batch, n_mels, frames)`` (natural-log mel made with
    :attr:`mel_config`) -> waveform ``(batch, hop * frames)`` float in [-1, 1].
    """

    name: str = "vocoder"
    mel_config: MelConfig
    sha256: Optional[str] = None
    #: Mel frames on each side an output sample depends on (None: not finite, e.g. Griffin-Lim);
    #: :func:`ttsf.vocoder.chunks.vocoder_pieces` splits only vocoders that declare it.
    context_frames: Optional[int] = None

    @property
    def sample_rate(self) -> int:
        return self.mel_config.sample_rate

    @property
    def hop_length(self) -> int:
        return self.mel_config.hop_length

    def _generate(self, mel: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    @torch.inference_mode()
    def __call__(self, mel: torch.Tensor) -> torch.Tensor:
        if mel.dim() != 3 or mel.shape[1] != self.mel_config.n_mels:
            raise VocoderError(f"{self.name}: mel must be (batch, {self.mel_config.n_mels}, frames), "
                               f"got {tuple(mel.shape)}")
        if not torch.isfinite(mel).all():
            raise VocoderError(f"{self.name}: mel contains NaN or infinite values")
        wav = self._generate(mel.float())
        wav = wav.reshape(mel.shape[0], -1)
        n = mel.shape[-1] * self.hop_length
        if wav.shape[-1] < n:
            wav = torch.nn.functional.pad(wav, (0, n - wav.shape[-1]))
        return wav[:, :n]

    def describe(self) -> dict:
        """What produced a waveform (for result records)."""
        return {"name": self.name, "sha256": self.sha256, "mel_config": dataclasses.asdict(self.mel_config)}


def check_mel_config(mel_config: MelConfig, vocoder: Vocoder) -> None:
    """Raise :class:`VocoderError` unless ``mel_config`` is exactly the vocoder's recipe."""
    if mel_config != vocoder.mel_config:
        a, b = dataclasses.asdict(mel_config), dataclasses.asdict(vocoder.mel_config)
        diff = {k: (a[k], b[k]) for k in a if a[k] != b[k]}
        raise VocoderError(
            f"mel recipe mismatch between the TTS model and vocoder {vocoder.name!r}: "
            f"{ {k: f'model {v[0]!r} vs vocoder {v[1]!r}' for k, v in diff.items()} }. "
            "Train the TTS model with the vocoder's mel recipe (ttsf.vocoder.torchscript.HIFIGAN_TS_MEL "
            "for the default vocoder) or pick the matching vocoder."
        )
