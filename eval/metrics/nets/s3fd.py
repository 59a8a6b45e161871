"""S3FD face detector (Zhang et al. 2017) as used by joonson/syncnet_python.

VGG16 trunk, L2-normalised conv3_3/conv4_3/conv5_3 sources (scales 10, 8, 5), fc6
(dilation 6) / fc7, two extra stages, six box/score heads (max-out background on the
first). Parameter names match syncnet_python's ``S3FDNet`` so ``sfd_face.pth`` loads
directly. Detection as syncnet_python: RGB image resized by ``scale`` (bilinear), BGR
means (104, 117, 123) subtracted channel-reversed, priors of sizes 16..512 at strides
4..128, variances (0.1, 0.2), NMS 0.3, then boxes above ``conf_threshold`` and NMS 0.1.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

MIN_SIZES = (16, 32, 64, 128, 256, 512)
STEPS = (4, 8, 16, 32, 64, 128)
VARIANCE = (0.1, 0.2)
BGR_MEAN = (104.0, 117.0, 123.0)

_VGG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "C", 512, 512, 512, "M", 512, 512, 512, "M")


class L2Norm(nn.Module):
    def __init__(self, channels: int, scale: float):
        super().__init__()
        self.weight = nn.Parameter(torch.full((channels,), float(scale)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x / (x.pow(2).sum(1, keepdim=True).sqrt() + 1e-10) * self.weight.view(1, -1, 1, 1)


class S3FDNet(nn.Module):
    """``(1, 3, H, W)`` mean-subtracted image -> per-prior face scores ``(P,)`` and boxes ``(P, 4)``
    (x1, y1, x2, y2, fractions of the image)."""

    def __init__(self):
        super().__init__()
        layers: list[nn.Module] = []
        cin = 3
        for spec in _VGG:
            if spec == "M":
                layers.append(nn.MaxPool2d(2, 2))
            elif spec == "C":
                layers.append(nn.MaxPool2d(2, 2, ceil_mode=True))
            else:
                layers += [nn.Conv2d(cin, spec, 3, 1, padding=1), nn.ReLU(inplace=True)]
                cin = spec
        layers += [nn.Conv2d(512, 1024, 3, 1, padding=6, dilation=6), nn.ReLU(inplace=True),
                   nn.Conv2d(1024, 1024, 1, 1), nn.ReLU(inplace=True)]
        self.vgg = nn.ModuleList(layers)
        self.L2Norm3_3 = L2Norm(256, 10)
        self.L2Norm4_3 = L2Norm(512, 8)
        self.L2Norm5_3 = L2Norm(512, 5)
        self.extras = nn.ModuleList([nn.Conv2d(1024, 256, 1, 1), nn.Conv2d(256, 512, 3, 2, padding=1),
                                     nn.Conv2d(512, 128, 1, 1), nn.Conv2d(128, 256, 3, 2, padding=1)])
        channels = (256, 512, 512, 1024, 512, 256)
        self.loc = nn.ModuleList([nn.Conv2d(c, 4, 3, 1, padding=1) for c in channels])
        self.conf = nn.ModuleList([nn.Conv2d(c, 4 if i == 0 else 2, 3, 1, padding=1) for i, c in enumerate(channels)])

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        height, width = x.shape[2:]
        sources = []
        cuts = {16: self.L2Norm3_3, 23: self.L2Norm4_3, 30: self.L2Norm5_3}
        for index, layer in enumerate(self.vgg):
            if index in cuts:
                sources.append(cuts[index](x))
            x = layer(x)
        sources.append(x)
        for index, layer in enumerate(self.extras):
            x = F.relu(layer(x))
            if index % 2 == 1:
                sources.append(x)
        scores, boxes = [], []
        for k, source in enumerate(sources):
            conf = self.conf[k](source)
            if k == 0:  # max-out background
                conf = torch.cat([conf[:, :3].max(1, keepdim=True).values, conf[:, 3:]], 1)
            prob = torch.softmax(conf.permute(0, 2, 3, 1).reshape(-1, 2), -1)[:, 1]
            loc = self.loc[k](source).permute(0, 2, 3, 1).reshape(-1, 4)
            fh, fw = source.shape[2:]
            ys, xs = torch.meshgrid(torch.arange(fh), torch.arange(fw), indexing="ij")
            cx = (xs.reshape(-1) + 0.5) / (width / STEPS[k])
            cy = (ys.reshape(-1) + 0.5) / (height / STEPS[k])
            size = torch.tensor([MIN_SIZES[k] / width, MIN_SIZES[k] / height])
            centre = torch.stack([cx, cy], 1) + loc[:, :2] * VARIANCE[0] * size
            extent = size * torch.exp(loc[:, 2:] * VARIANCE[1])
            boxes.append(torch.cat([centre - extent / 2, centre + extent / 2], 1))
            scores.append(prob)
        return torch.cat(scores), torch.cat(boxes)


class S3FDDetector:
    """Faces in an RGB image as ``(n, 5)`` rows ``x1, y1, x2, y2, score`` in pixels."""

    def __init__(self, net: S3FDNet):
        self.net = net.eval()

    @classmethod
    def load(cls, path=None) -> "S3FDDetector":
        from eval.metrics.nets.weights import load_state_dict, locate

        net = S3FDNet()
        net.load_state_dict(load_state_dict(path if path is not None else locate("sfd_face")))
        return cls(net)

    @torch.no_grad()
    def detect(self, rgb: np.ndarray, conf_threshold: float = 0.9, scale: float = 0.25) -> np.ndarray:
        import cv2
        from torchvision.ops import nms

        height, width = rgb.shape[:2]
        scaled = cv2.resize(rgb, (0, 0), fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR).astype(np.float32)
        scaled -= np.array(BGR_MEAN[::-1], dtype=np.float32)  # syncnet_python's channel-order quirk
        x = torch.from_numpy(scaled).permute(2, 0, 1)[None]
        scores, boxes = self.net(x)
        keep = scores > 0.05
        scores, boxes = scores[keep], boxes[keep]
        kept = nms(boxes, scores, 0.3)[:750]
        scores, boxes = scores[kept], boxes[kept] * torch.tensor([width, height, width, height])
        strong = scores > conf_threshold
        out = torch.cat([boxes[strong], scores[strong, None]], 1).double().numpy()
        if len(out) > 1:
            out = out[nms(torch.from_numpy(out[:, :4]), torch.from_numpy(out[:, 4]), 0.1).numpy()]
        return out
