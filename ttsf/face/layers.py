"""StyleGAN2-style building blocks: equalised learning rate, modulated convolution.

Simplifications versus StyleGAN2 (documented in docs/model.md): bilinear resampling
instead of the FIR blur kernel, and no per-pixel noise injection (so a seed fully
determines the output).
"""

from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

LRELU_GAIN = math.sqrt(2.0)


def lrelu(x: torch.Tensor) -> torch.Tensor:
    """Leaky ReLU (slope 0.2) scaled by sqrt(2), StyleGAN2's fused activation."""
    return F.leaky_relu(x, 0.2) * LRELU_GAIN


def upsample2x(x: torch.Tensor) -> torch.Tensor:
    """2x bilinear upsampling (``align_corners=False``) of ``(B, C, H, W)``, contiguous out.

    PyTorch's CPU kernel is faster on channels-last input (same numbers, bit for bit), so
    the input is laid out that way first.
    """
    x = x.contiguous(memory_format=torch.channels_last)
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


class EqualLinear(nn.Module):
    """Linear layer with equalised learning rate: ``(batch, in) -> (batch, out)``."""

    def __init__(self, in_dim: int, out_dim: int, bias_init: float = 0.0, lr_mul: float = 1.0,
                 activation: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_dim,), float(bias_init)))
        self.scale = lr_mul / math.sqrt(in_dim)
        self.lr_mul = lr_mul
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)
        return lrelu(out) if self.activation else out


class EqualConv2d(nn.Module):
    """2-D convolution with equalised learning rate, ``(B, C_in, H, W) -> (B, C_out, H', W')``."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int = 1, padding: int = 0,
                 bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_ch, in_ch, kernel, kernel))
        self.scale = 1 / math.sqrt(in_ch * kernel * kernel)
        self.bias = nn.Parameter(torch.zeros(out_ch)) if bias else None
        self.stride, self.padding = stride, padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, self.stride, self.padding)


class ModulatedConv2d(nn.Module):
    """StyleGAN2 modulated convolution (grouped implementation).

    ``forward(x (B, C_in, H, W), style (B, style_dim)) -> (B, C_out, H', W')``; the style
    is mapped to per-input-channel scales; with ``demodulate`` each output filter is
    renormalised to unit norm. ``upsample`` doubles H and W first (bilinear).
    """

    def __init__(self, in_ch: int, out_ch: int, kernel: int, style_dim: int,
                 demodulate: bool = True, upsample: bool = False):
        super().__init__()
        self.in_ch, self.out_ch, self.kernel = in_ch, out_ch, kernel
        self.weight = nn.Parameter(torch.randn(1, out_ch, in_ch, kernel, kernel))
        self.scale = 1 / math.sqrt(in_ch * kernel * kernel)
        self.modulation = EqualLinear(style_dim, in_ch, bias_init=1.0)
        self.demodulate = demodulate
        self.upsample = upsample

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """Modulation on the activations: ``conv(x * s, W) * d`` with one shared ``W``.

        The same numbers as convolving each sample with its own modulated (and demodulated)
        weights (:meth:`forward_grouped`, StyleGAN2's fused form), to float rounding, but
        one batched convolution instead of a grouped one with per-sample weights: about
        2x faster on CPU at 64 px.
        """
        out, demod = self.conv_and_demod(x, style)
        return out if demod is None else out * demod

    def conv_and_demod(self, x: torch.Tensor, style: torch.Tensor) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        """``conv(x * s, W)`` ``(B, out, H', W')`` and the demodulation ``(B, out, 1, 1)`` (None without).

        The scales go on before the upsampling (bilinear resampling is linear per channel,
        so that is the same to float rounding, on a quarter of the pixels).
        """
        b, c = x.shape[:2]
        s = self.modulation(style)  # (B, in)
        weight = self.scale * self.weight[0]  # (out, in, k, k)
        x = x * s.view(b, c, 1, 1)
        if self.upsample:
            x = upsample2x(x)
        out = F.conv2d(x, weight, padding=self.kernel // 2)
        if not self.demodulate:
            return out, None
        # 1 / ||W_o * s||: sum over (in, k, k) of W^2 s^2
        demod = torch.rsqrt(s.pow(2) @ weight.pow(2).sum([2, 3]).t() + 1e-8)  # (B, out)
        return out, demod.view(b, self.out_ch, 1, 1)

    def forward_grouped(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """The fused form: per-sample modulated weights, one grouped convolution (reference)."""
        b, c, h, w = x.shape
        s = self.modulation(style).view(b, 1, c, 1, 1)
        weight = self.scale * self.weight * s  # (B, out, in, k, k)
        if self.demodulate:
            demod = torch.rsqrt(weight.pow(2).sum([2, 3, 4]) + 1e-8)
            weight = weight * demod.view(b, self.out_ch, 1, 1, 1)
        weight = weight.view(b * self.out_ch, c, self.kernel, self.kernel)
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
            h, w = h * 2, w * 2
        out = F.conv2d(x.reshape(1, b * c, h, w), weight, padding=self.kernel // 2, groups=b)
        return out.view(b, self.out_ch, h, w)


class StyledConv(nn.Module):
    """Modulated 3x3 conv + bias + scaled leaky ReLU."""

    def __init__(self, in_ch: int, out_ch: int, style_dim: int, upsample: bool = False):
        super().__init__()
        self.conv = ModulatedConv2d(in_ch, out_ch, 3, style_dim, upsample=upsample)
        self.bias = nn.Parameter(torch.zeros(1, out_ch, 1, 1))

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """``lrelu(conv(x, style) + bias)`` in two passes over the output: ``sqrt(2) * lrelu(z)``
        is ``lrelu(sqrt(2) * z)`` (to float rounding), so the gain goes into the demodulation
        and the bias, then one fused multiply-add and an in-place leaky ReLU."""
        out, demod = self.conv.conv_and_demod(x, style)
        bias = self.bias * LRELU_GAIN
        out = torch.addcmul(bias, out, demod * LRELU_GAIN) if demod is not None else out.mul_(LRELU_GAIN).add_(bias)
        return F.leaky_relu_(out, 0.2)


class ConvLayer(nn.Sequential):
    """Equalised conv (+ optional 2x bilinear downsample first) + activation."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, downsample: bool = False,
                 activate: bool = True):
        layers: list[nn.Module] = []
        if downsample:
            layers.append(nn.AvgPool2d(2))
        layers.append(EqualConv2d(in_ch, out_ch, kernel, padding=kernel // 2, bias=True))
        if activate:
            layers.append(_LReLU())
        super().__init__(*layers)


class _LReLU(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return lrelu(x)


class ResBlock(nn.Module):
    """StyleGAN2 residual downsampling block: ``(B, C_in, H, W) -> (B, C_out, H/2, W/2)``."""

    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.conv1 = ConvLayer(in_ch, in_ch, 3)
        self.conv2 = ConvLayer(in_ch, out_ch, 3, downsample=True)
        self.skip = ConvLayer(in_ch, out_ch, 1, downsample=True, activate=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.conv2(self.conv1(x)) + self.skip(x)) / math.sqrt(2)
