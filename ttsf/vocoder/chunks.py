"""A HiFi-GAN's speech in time pieces that can run in parallel (issue 17).

A HiFi-GAN is a stack of convolutions, so an output sample depends on the mel frames
within a fixed radius only (:func:`receptive_radius`). Vocoding a piece of the mel with
at least that many frames of real context on each side and keeping its middle gives
the samples of the whole-utterance call, to float rounding (the convolution kernels
may sum in another order on another length).
"""

from __future__ import annotations

import math
from typing import Callable, Optional

import torch

from ttsf.vocoder.base import Vocoder


def receptive_radius(upsample_rates, upsample_kernel_sizes, resblock_kernel_sizes,
                     resblock_dilation_sizes, pre_kernel: int = 7, post_kernel: int = 7) -> int:
    """Mel frames on each side that a HiFi-GAN (V1 layout) output sample can depend on.

    Bound in mel frames: ``conv_pre``'s half kernel; per stage, the transposed
    convolution's kernel and the widest MRF resblock's reach ``sum((k - 1) / 2 * (d + 1))``
    in samples of that stage's rate; ``conv_post``'s half kernel at the output rate.
    """
    radius, rate = (pre_kernel - 1) / 2, 1
    for u, k in zip(upsample_rates, upsample_kernel_sizes):
        rate *= u
        mrf = max((rk - 1) / 2 * sum(d + 1 for d in dil)
                  for rk, dil in zip(resblock_kernel_sizes, resblock_dilation_sizes))
        radius += (k + mrf) / rate
    return math.ceil(radius + (post_kernel - 1) / 2 / rate)


def vocoder_pieces(vocoder: Vocoder, mel: torch.Tensor, parts: int,
                   context: Optional[int] = None) -> list[Callable[[], torch.Tensor]]:
    """``parts`` calls whose outputs, concatenated on the last axis, are ``vocoder(mel)``.

    mel ``(batch, n_mels, frames)``; each call returns ``(batch, hop * piece frames)``.
    ``context``: frames of real mel on each side of a piece (default the vocoder's
    ``context_frames``). One call (the whole mel) when the vocoder has no finite
    receptive field (``context_frames`` None, e.g. Griffin-Lim) or the pieces would be
    shorter than two contexts.
    """
    context = getattr(vocoder, "context_frames", None) if context is None else context
    t = mel.shape[-1]
    if context is None or parts <= 1 or t < 2 * context * parts:
        return [lambda: vocoder(mel)]
    bounds = [round(i * t / parts) for i in range(parts + 1)]
    hop = vocoder.hop_length

    def piece(a: int, b: int) -> Callable[[], torch.Tensor]:
        lo, hi = max(0, a - context), min(t, b + context)
        return lambda: vocoder(mel[:, :, lo:hi])[:, (a - lo) * hop:(b - lo) * hop]

    return [piece(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
