"""TTS configuration: a frozen dataclass with YAML overrides.

Defaults are the Matcha-TTS sizes used by TTSF (SPEC §1): encoder 192 channels,
filter 768, 2 heads, 6 layers, kernel 3, dropout 0.1; duration predictor filter
256; decoder U-Net channels (256, 256), 1 block, 2 mid blocks, 2 heads, snake-beta;
sigma_min 1e-4; 10 Euler steps. ``configs/tts/*.yaml`` override fields; a YAML file
may hold the fields at top level or under a ``model:`` key.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Mapping, Optional, Union

from ttsf.config import DictConfig, read_yaml
from ttsf.media import MelConfig

COND_MODES = ("none", "speaker_embedding", "face")


def _default_mel() -> MelConfig:
    from ttsf.vocoder.torchscript import HIFIGAN_TS_MEL

    return HIFIGAN_TS_MEL


@dataclasses.dataclass(frozen=True)
class TTSConfig(DictConfig):
    n_vocab: int = 0  # 0: the front-end's symbol table size (filled in by __post_init__)
    n_mels: int = 80
    # text encoder
    d_emb: int = 192
    enc_channels: int = 192
    enc_filter: int = 768
    enc_heads: int = 2
    enc_layers: int = 6
    enc_kernel: int = 3
    enc_dropout: float = 0.1
    prenet: bool = True
    # duration predictor
    dp_filter: int = 256
    dp_kernel: int = 3
    dp_dropout: float = 0.1
    # decoder (1-D U-Net with transformer blocks)
    dec_channels: tuple[int, ...] = (256, 256)
    dec_blocks: int = 1
    dec_mid_blocks: int = 2
    dec_heads: int = 2
    dec_head_dim: int = 64
    dec_dropout: float = 0.05
    dec_act: str = "snakebeta"
    #: training only: the CFM loss uses a random window of this many mel frames per item
    #: (Matcha-TTS ``out_size``; None = whole utterances)
    decoder_segment: Optional[int] = None
    # conditioning
    cond_mode: str = "none"
    cond_dim: int = 0  # size of the conditioning vector given to forward/synthesise
    cond_emb_dim: int = 64  # the vector is projected to this size before entering the networks
    n_speakers: int = 0  # speaker_embedding mode: rows of the learned speaker table
    # flow matching / inference
    sigma_min: float = 1e-4
    n_steps: int = 10
    temperature: float = 0.667
    # audio features: must equal the vocoder's recipe
    mel: MelConfig = dataclasses.field(default_factory=_default_mel)
    mel_mean: float = 0.0
    mel_std: float = 1.0

    def __post_init__(self):
        if self.n_vocab == 0:
            from ttsf.tts.text import SYMBOLS

            object.__setattr__(self, "n_vocab", len(SYMBOLS))
        object.__setattr__(self, "dec_channels", tuple(int(c) for c in self.dec_channels))
        if isinstance(self.mel, Mapping):
            object.__setattr__(self, "mel", MelConfig(**self.mel))
        if self.cond_mode not in COND_MODES:
            raise ValueError(f"cond_mode must be one of {COND_MODES}, got {self.cond_mode!r}")
        if self.cond_mode == "none" and self.cond_dim:
            raise ValueError("cond_dim must be 0 when cond_mode is 'none'")
        if self.cond_mode != "none" and self.cond_dim <= 0:
            raise ValueError(f"cond_mode {self.cond_mode!r} needs cond_dim > 0 (512 for f_id)")
        if self.cond_mode == "speaker_embedding" and self.n_speakers <= 0:
            raise ValueError("cond_mode 'speaker_embedding' needs n_speakers > 0")
        if self.n_mels != self.mel.n_mels:
            raise ValueError(f"n_mels {self.n_mels} differs from the mel recipe's {self.mel.n_mels}")
        if self.mel_std <= 0:
            raise ValueError("mel_std must be > 0")
        if self.enc_channels % self.enc_heads or (self.d_enc % self.enc_heads):
            raise ValueError("encoder width must be divisible by enc_heads")
        if self.dec_act not in ("snakebeta", "gelu"):
            raise ValueError("dec_act must be 'snakebeta' or 'gelu'")

    @property
    def conditioned(self) -> bool:
        return self.cond_mode != "none"

    @property
    def d_enc(self) -> int:
        """Width of the encoder output f_t (encoder channels + projected condition)."""
        return self.enc_channels + (self.cond_emb_dim if self.conditioned else 0)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["dec_channels"] = list(self.dec_channels)
        return d

    def replace(self, **kw) -> "TTSConfig":
        return dataclasses.replace(self, **kw)


def load_config(path: Union[str, Path], overrides: Optional[Mapping[str, Any]] = None) -> TTSConfig:
    """Read a YAML file (fields at top level or under ``model:``) into a :class:`TTSConfig`."""
    data = read_yaml(path)
    fields = dict(data["model"] if "model" in data else data)
    fields.update(overrides or {})
    return TTSConfig.from_dict(fields)
