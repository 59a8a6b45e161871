"""Griffin-Lim phase reconstruction: a weights-free vocoder, used only when chosen explicitly."""

from __future__ import annotations

import numpy as np
import torch

from ttsf.media import MelConfig
from ttsf.vocoder.base import Vocoder


class GriffinLim(Vocoder):
    """Invert the mel filterbank (least squares) and run librosa's Griffin-Lim (``n_iter`` iterations)."""

    name = "griffin-lim"

    def __init__(self, mel_config: MelConfig = MelConfig(), n_iter: int = 32):
        self.mel_config = mel_config
        self.n_iter = n_iter

    def _generate(self, mel: torch.Tensor) -> torch.Tensor:
        import librosa

        c = self.mel_config
        m = mel.numpy().astype(np.float64)
        m = np.exp(m) if c.log == "ln" else np.power(10.0, m)
        out = []
        for item in m:
            spec = librosa.feature.inverse.mel_to_stft(
                item ** (1.0 / c.power if c.power != 1 else 1.0), sr=c.sample_rate, n_fft=c.n_fft, power=1.0,
                fmin=c.f_min, fmax=c.f_max, htk=c.htk, norm=c.mel_norm)
            wav = librosa.griffinlim(spec, n_iter=self.n_iter, hop_length=c.hop_length, win_length=c.win_length,
                                     n_fft=c.n_fft, center=True, random_state=0)
            out.append(np.clip(wav, -1, 1))
        n = max(len(w) for w in out)
        return torch.from_numpy(np.stack([np.pad(w, (0, n - len(w))) for w in out]).astype(np.float32))
