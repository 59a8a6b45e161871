"""Load a vocoder by name or checkpoint path."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Union

from ttsf.media import MelConfig
from ttsf.vocoder.base import PathLike, Vocoder, VocoderError
from ttsf.vocoder.griffin_lim import GriffinLim
from ttsf.vocoder.hifigan import HifiGanVocoder
from ttsf.vocoder.torchscript import TorchScriptHifiGan


def load_vocoder(name_or_path: Union[str, PathLike] = "hifigan-ts", device: str = "cpu",
                 mel_config: Optional[MelConfig] = None) -> Vocoder:
    """Load a vocoder by name (``"hifigan-ts"``, ``"griffin-lim"``) or checkpoint path.

    ``mel_config`` is used only by recipes without a fixed one (Griffin-Lim, and user
    HiFi-GAN checkpoints whose file does not store a recipe).
    """
    name = str(name_or_path)
    if name in ("hifigan-ts", "default"):
        return TorchScriptHifiGan(device=device)
    if name == "griffin-lim":
        return GriffinLim(mel_config or MelConfig())
    path = Path(name)
    if path.suffix == ".ts":
        return TorchScriptHifiGan(path, device=device, mel_config=mel_config)
    if path.suffix in (".pt", ".pth", ".ckpt") or path.name.startswith("g_"):
        return HifiGanVocoder.from_checkpoint(path, device=device, mel_config=mel_config)
    raise VocoderError(
        f"unknown vocoder {name!r}: use 'hifigan-ts' (default, bundled), 'griffin-lim', "
        "a HiFi-GAN generator checkpoint (.pt/.pth/g_XXXXXXXX) or a TorchScript .ts file"
    )
