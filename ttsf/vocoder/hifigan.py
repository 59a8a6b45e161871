"""HiFi-GAN generator (Kong et al. 2020, V1 layout) for 16 kHz mels with hop 160.

The default :class:`HifiGanConfig` is V1 (512 initial channels, MRF kernels 3/7/11,
dilations 1/3/5) with upsampling rates ``(8, 5, 2, 2)`` (product 160) and kernels
``(16, 10, 4, 4)`` — the layout of the bundled 16 kHz TorchScript model, whose
weights this generator reproduces exactly (see tests). Parameter names follow the
original implementation (``conv_pre``, ``ups.i``, ``resblocks.k.convs1.j``, …), so a
user's generator checkpoint (``g_XXXXXXXX`` holding ``{"generator": state_dict}``,
with weight-norm ``weight_g``/``weight_v`` pairs) loads directly; weight norm is
folded into plain weights at load time. A ``config.json`` next to the checkpoint (the
original training config) sets the layout and the mel recipe.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
from pathlib import Path
from typing import Optional, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from ttsf.hashing import sha256_file
from ttsf.media import MelConfig
from ttsf.vocoder.base import Vocoder, VocoderError

LRELU = 0.1


@dataclasses.dataclass(frozen=True)
class HifiGanConfig:
    n_mels: int = 80
    upsample_rates: tuple[int, ...] = (8, 5, 2, 2)
    upsample_kernel_sizes: tuple[int, ...] = (16, 10, 4, 4)
    upsample_initial_channel: int = 512
    resblock_kernel_sizes: tuple[int, ...] = (3, 7, 11)
    resblock_dilation_sizes: tuple[tuple[int, ...], ...] = ((1, 3, 5), (1, 3, 5), (1, 3, 5))

    @property
    def hop(self) -> int:
        return math.prod(self.upsample_rates)

    @property
    def receptive_radius(self) -> int:
        """Mel frames on each side an output sample depends on (:func:`ttsf.vocoder.chunks.receptive_radius`)."""
        from ttsf.vocoder.chunks import receptive_radius

        return receptive_radius(self.upsample_rates, self.upsample_kernel_sizes, self.resblock_kernel_sizes,
                                self.resblock_dilation_sizes)

    @classmethod
    def from_json(cls, d: dict) -> "HifiGanConfig":
        if str(d.get("resblock", "1")) != "1":
            raise VocoderError("only HiFi-GAN resblock type 1 (V1/V3-style MRF of V1) is supported")
        return cls(
            n_mels=int(d.get("num_mels", 80)),
            upsample_rates=tuple(d["upsample_rates"]),
            upsample_kernel_sizes=tuple(d["upsample_kernel_sizes"]),
            upsample_initial_channel=int(d["upsample_initial_channel"]),
            resblock_kernel_sizes=tuple(d["resblock_kernel_sizes"]),
            resblock_dilation_sizes=tuple(tuple(x) for x in d["resblock_dilation_sizes"]),
        )


def mel_config_from_json(d: dict) -> MelConfig:
    """The original HiFi-GAN config's audio keys -> :class:`MelConfig` (reflect padding, ln, 1e-5)."""
    return MelConfig(sample_rate=int(d["sampling_rate"]), n_fft=int(d["n_fft"]), win_length=int(d["win_size"]),
                     hop_length=int(d["hop_size"]), n_mels=int(d["num_mels"]), f_min=float(d.get("fmin", 0)),
                     f_max=None if d.get("fmax") in (None, "null") else float(d["fmax"]))


class ResBlock(nn.Module):
    """HiFi-GAN resblock type 1: for each dilation, lrelu -> dilated conv -> lrelu -> conv, residual."""

    def __init__(self, channels: int, kernel: int, dilations: Sequence[int]):
        super().__init__()
        self.convs1 = nn.ModuleList(nn.Conv1d(channels, channels, kernel, dilation=d, padding=(kernel * d - d) // 2)
                                    for d in dilations)
        self.convs2 = nn.ModuleList(nn.Conv1d(channels, channels, kernel, padding=(kernel - 1) // 2) for _ in dilations)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for c1, c2 in zip(self.convs1, self.convs2):  # in place on the convolutions' fresh outputs
            x = c2(F.leaky_relu_(c1(F.leaky_relu(x, LRELU)), LRELU)).add_(x)
        return x


class HifiGanGenerator(nn.Module):
    """mel ``(batch, n_mels, frames)`` -> waveform ``(batch, 1, hop * frames)``."""

    def __init__(self, cfg: HifiGanConfig = HifiGanConfig()):
        super().__init__()
        self.cfg = cfg
        ch = cfg.upsample_initial_channel
        self.conv_pre = nn.Conv1d(cfg.n_mels, ch, 7, padding=3)
        self.ups = nn.ModuleList()
        self.resblocks = nn.ModuleList()
        for i, (u, k) in enumerate(zip(cfg.upsample_rates, cfg.upsample_kernel_sizes)):
            cin, cout = ch // 2 ** i, ch // 2 ** (i + 1)
            # (k - u) odd: pad one more and add output_padding 1, so each stage gives exactly u * frames
            self.ups.append(nn.ConvTranspose1d(cin, cout, k, u, padding=(k - u + 1) // 2, output_padding=(k - u) % 2))
            for rk, rd in zip(cfg.resblock_kernel_sizes, cfg.resblock_dilation_sizes):
                self.resblocks.append(ResBlock(cout, rk, rd))
        self.conv_post = nn.Conv1d(ch // 2 ** len(cfg.upsample_rates), 1, 7, padding=3)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = self.conv_pre(mel)
        nk = len(self.cfg.resblock_kernel_sizes)
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, LRELU))
            out = self.resblocks[i * nk](x)
            for j in range(1, nk):
                out.add_(self.resblocks[i * nk + j](x))
            x = out.div_(nk)
        return torch.tanh(self.conv_post(F.leaky_relu(x)))


def channels_last_2d(generator: HifiGanGenerator) -> HifiGanGenerator:
    """A copy of ``generator`` whose 1-D convolutions are ``(1, k)`` 2-D ones with channels-last weights.

    Call it on ``mel[:, :, None]`` (``(batch, n_mels, 1, frames)``, channels-last): it
    returns ``(batch, 1, 1, hop * frames)``, the same numbers as ``generator(mel)`` to float
    rounding, about 1.7x faster on CPU (oneDNN's channels-last kernels; measured in
    docs/model.md). Weight norm must already be folded (:func:`fold_weight_norm`).
    """
    g = copy.deepcopy(generator)
    for name, m in list(g.named_modules()):
        if isinstance(m, nn.ConvTranspose1d):
            new = nn.ConvTranspose2d(m.in_channels, m.out_channels, (1, m.kernel_size[0]), (1, m.stride[0]),
                                     (0, m.padding[0]), (0, m.output_padding[0]))
        elif isinstance(m, nn.Conv1d):
            new = nn.Conv2d(m.in_channels, m.out_channels, (1, m.kernel_size[0]), padding=(0, m.padding[0]),
                            dilation=(1, m.dilation[0]))
        else:
            continue
        with torch.no_grad():
            new.weight.copy_(m.weight[:, :, None])
            new.bias.copy_(m.bias)
        parent, _, leaf = name.rpartition(".")
        setattr(g.get_submodule(parent) if parent else g, leaf, new)
    return g.to(memory_format=torch.channels_last).eval()


def fold_weight_norm(state: dict) -> dict:
    """Replace ``X.weight_g``/``X.weight_v`` pairs with ``X.weight = g * v / ||v||`` (norm over dims 1..)."""
    out = {}
    for k, v in state.items():
        if k.endswith(".weight_v"):
            base = k[: -len("_v")]
            g = state[base + "_g"]
            norm = v.flatten(1).norm(dim=1).view(-1, *([1] * (v.dim() - 1)))
            out[base] = g * v / norm
        elif not k.endswith(".weight_g"):
            out[k] = v
    return out


class HifiGanVocoder(Vocoder):
    """Our generator with user weights; the mel recipe comes from the config (or ``mel_config``)."""

    name = "hifigan"

    def __init__(self, generator: HifiGanGenerator, mel_config: MelConfig, sha256: Optional[str] = None):
        if mel_config.hop_length != generator.cfg.hop:
            raise VocoderError(f"generator upsamples by {generator.cfg.hop} but the mel hop is {mel_config.hop_length}")
        self.generator = generator.eval()
        self.mel_config = mel_config
        self.context_frames = generator.cfg.receptive_radius
        self.sha256 = sha256

    @classmethod
    def from_checkpoint(cls, path, device: str = "cpu", mel_config: Optional[MelConfig] = None,
                        config: Optional[HifiGanConfig] = None) -> "HifiGanVocoder":
        path = Path(path)
        if not path.is_file():
            raise VocoderError(
                f"HiFi-GAN checkpoint {path} not found. Put a 16 kHz HiFi-GAN generator checkpoint there "
                "(e.g. the one used by Face-TTS, naver-ai/facetts) with its config.json beside it, "
                "or use the bundled default: load_vocoder('hifigan-ts').")
        blob = torch.load(path, map_location="cpu", weights_only=True)
        state = blob.get("generator", blob) if isinstance(blob, dict) else None
        if not isinstance(state, dict) or "conv_pre.weight" not in state and "conv_pre.weight_v" not in state:
            raise VocoderError(f"{path}: not a HiFi-GAN generator checkpoint (no conv_pre weights)")
        cfg_json = path.parent / "config.json"
        if config is None and cfg_json.is_file():
            d = json.loads(cfg_json.read_text())
            config = HifiGanConfig.from_json(d)
            mel_config = mel_config or mel_config_from_json(d)
        config = config or HifiGanConfig()
        if mel_config is None:
            raise VocoderError(f"{path}: no config.json beside the checkpoint: pass mel_config= with its mel recipe")
        gen = HifiGanGenerator(config)
        try:
            gen.load_state_dict(fold_weight_norm(state))
        except RuntimeError as exc:
            raise VocoderError(f"{path}: weights do not fit the HiFi-GAN layout {config}: {exc}") from exc
        return cls(gen.to(device), mel_config, sha256_file(path))

    def _generate(self, mel: torch.Tensor) -> torch.Tensor:
        dev = next(self.generator.parameters()).device
        if dev.type == "cpu":  # channels-last 2-D convolutions: the same numbers to float rounding, faster
            if getattr(self, "_fast", None) is None:
                self._fast = channels_last_2d(self.generator)
            return self._fast(mel[:, :, None].contiguous(memory_format=torch.channels_last))[:, 0, 0]
        return self.generator(mel.to(dev)).squeeze(1).cpu()
