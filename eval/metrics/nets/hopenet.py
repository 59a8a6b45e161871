"""Hopenet (Ruiz et al. 2018): ResNet-50 with three 66-bin heads (yaw, pitch, roll).

Parameter names follow deep-head-pose's ``hopenet.Hopenet`` (torchvision ResNet names
plus ``fc_yaw``, ``fc_pitch``, ``fc_roll``), so ``hopenet_robust_alpha1.pkl`` loads
directly. Input: RGB face crop resized to 224 and ImageNet-normalised.
"""

from __future__ import annotations

import torch
from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin: int, width: int, stride: int):
        super().__init__()
        cout = width * self.expansion
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + (x if self.downsample is None else self.downsample(x)))


class Hopenet(nn.Module):
    """Normalised images ``(batch, 3, 224, 224)`` -> logits ``(batch, 66)`` x 3 (yaw, pitch, roll)."""

    def __init__(self, layers=(3, 4, 6, 3), num_bins: int = 66):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = 64
        for index, (blocks, width) in enumerate(zip(layers, (64, 128, 256, 512))):
            stage = []
            for b in range(blocks):
                stage.append(Bottleneck(cin, width, 2 if (b == 0 and index > 0) else 1))
                cin = width * Bottleneck.expansion
            setattr(self, f"layer{index + 1}", nn.Sequential(*stage))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc_yaw = nn.Linear(2048, num_bins)
        self.fc_pitch = nn.Linear(2048, num_bins)
        self.fc_roll = nn.Linear(2048, num_bins)
        self.fc_finetune = nn.Linear(2048 + 3, 3)  # present in the checkpoint, unused at inference

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.avgpool(x).flatten(1)
        return self.fc_yaw(x), self.fc_pitch(x), self.fc_roll(x)


def load_hopenet(path) -> Hopenet:
    """Hopenet from ``hopenet_robust_alpha1.pkl`` (a state dict; ``weights_only=True``)."""
    from eval.metrics.nets.weights import load_state_dict

    state = load_state_dict(path)
    state = {k.removeprefix("module."): v for k, v in state.items()}
    net = Hopenet()
    missing, unexpected = net.load_state_dict(state, strict=False)
    essential = [k for k in missing if not k.startswith("fc_finetune")]
    if essential or unexpected:
        raise ValueError(f"{path}: not a Hopenet state dict (missing {essential[:5]}, unexpected {unexpected[:5]})")
    return net.eval()
