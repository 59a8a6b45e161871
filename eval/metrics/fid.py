"""FID: Fréchet distance between Inception pool3 features of generated and real frames.

Corpus-level. The state is ``sum x``, ``sum x x^T`` and ``n`` per side (float64), so
shards merge exactly. Backends:

- ``pytorch-fid`` (paper): pytorch-fid's InceptionV3, 2048-d, weights
  ``pt_inception-2015-12-05-6726825d.pth``; frames are scaled to [0, 1] and resized
  bilinearly to 299x299 inside the network exactly as pytorch-fid does.
- ``fd_mobilenetv2`` (offline, NOT comparable to published FID): the same Fréchet
  distance on 1280-d MobileNetV2 ImageNet features (224x224 bilinear).

``weights=PATH`` uses that file instead of the registry's (its sha256 is recorded).
Every decoded frame (25 fps) of every clip is used unless ``frame_stride`` > 1.
FID is biased upward for small N; N and the resize filter are recorded in
:attr:`FID.info`, and N below the feature dimension adds a warning.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Mapping, Optional

import numpy as np
import torch

from eval.metrics import visual
from eval.metrics.base import BackendSpec, Metric, MetricSpec
from eval.metrics.functional.frechet import frechet_distance, gaussian_from_sums

log = logging.getLogger(__name__)

SIDES = ("gen", "ref")
_FIELDS = {"gen": "gen_video", "ref": "ref_video"}


class FID(Metric):
    """Fréchet Inception Distance over video frames (lower is better)."""

    spec = MetricSpec(
        name="fid",
        version="1.0",
        level="corpus",
        needs=("gen_video", "ref_video"),
        higher_is_better=False,
        backends=(
            BackendSpec(
                "pytorch-fid", paper=True, weights=("pt_inception",),
                description="pytorch-fid InceptionV3 pool3 (2048-d), bilinear resize to 299",
            ),
            BackendSpec(
                "fd_mobilenetv2", paper=False, weights=("mobilenet_v2_offline",),
                description="Fréchet distance on MobileNetV2 ImageNet pooled features (1280-d)",
                output_name="fd_mobilenetv2",
            ),
        ),
        outputs=("fid",),
        description="Fréchet distance between feature Gaussians of generated and real frames",
    )

    def __init__(self, backend: Optional[str] = None, device: str = "cpu", *, frame_stride: int = 1,
                 batch_size: int = 32, weights: Optional[str] = None, **options: Any):
        super().__init__(backend, device, **options)
        self.weights_path = weights
        if frame_stride < 1:
            raise ValueError(f"frame_stride must be >= 1, got {frame_stride}")
        self.frame_stride = frame_stride
        self.batch_size = batch_size
        self._net: Optional[torch.nn.Module] = None
        self.weights_sha256: Optional[str] = None

    # ------------------------------------------------------------------ network
    @property
    def output_name(self) -> str:
        return self.backend.output_name or "fid"

    @property
    def dims(self) -> int:
        return 2048 if self.backend.name == "pytorch-fid" else 1280

    @property
    def resize(self) -> str:
        from eval.metrics.nets.inception import FID_RESIZE
        from eval.metrics.nets.mobilenet import MOBILENET_RESIZE

        return FID_RESIZE if self.backend.name == "pytorch-fid" else MOBILENET_RESIZE

    def network(self) -> torch.nn.Module:
        """The feature network, loaded on first use."""
        if self._net is None:
            from eval.metrics.nets.weights import file_sha256, locate

            path = Path(self.weights_path) if self.weights_path else locate(self.backend.weights[0])
            self.weights_sha256 = file_sha256(path)
            if self.backend.name == "pytorch-fid":
                from eval.metrics.nets.inception import InceptionPool3, build_fid_inception

                net = InceptionPool3(build_fid_inception(path))
            else:
                from eval.metrics.nets.mobilenet import MobileNetV2Features

                net = MobileNetV2Features(path)
            self._net = net.eval().to(self.device)
        return self._net

    @torch.no_grad()
    def features(self, images: np.ndarray) -> np.ndarray:
        """RGB ``uint8`` ``(n, H, W, 3)`` -> features ``(n, dims)`` float64."""
        net = self.network()
        out = []
        for start in range(0, len(images), self.batch_size):
            batch = torch.from_numpy(np.ascontiguousarray(images[start:start + self.batch_size]))
            batch = batch.to(self.device).permute(0, 3, 1, 2).float() / 255.0
            out.append(net(batch).double().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.dims))

    # ------------------------------------------------------------------ state
    def reset(self) -> None:
        dims = self.dims
        self._sum = {side: np.zeros(dims) for side in SIDES}
        self._outer = {side: np.zeros((dims, dims)) for side in SIDES}
        self._n = {side: 0 for side in SIDES}
        self.warnings: list[str] = []

    def add_features(self, side: str, feats: np.ndarray) -> None:
        """Accumulate ``(n, dims)`` features into ``side`` ("gen" or "ref")."""
        feats = np.asarray(feats, dtype=np.float64)
        self._sum[side] += feats.sum(0)
        self._outer[side] += feats.T @ feats
        self._n[side] += len(feats)

    def update(self, item: Any) -> Optional[Mapping[str, float]]:
        """Add the frames of ``item.gen_video`` and (when given) ``item.ref_video``."""
        item.require("gen_video")
        fields = [side for side in SIDES if getattr(item, _FIELDS[side]) is not None]
        decoded = {side: visual.frames(item, _FIELDS[side])[:: self.frame_stride] for side in fields}
        for side in fields:
            self.add_features(side, self.features(decoded[side]))
        return None

    def compute(self) -> Mapping[str, float]:
        from eval.metrics.base import ItemError

        for side in SIDES:
            if self._n[side] < 2:
                raise ItemError(f"FID needs >= 2 {side} frames, got {self._n[side]}", code="too_few")
        warnings = []
        for side in SIDES:
            if self._n[side] < self.dims:
                warnings.append(
                    f"{side}: {self._n[side]} frames < {self.dims} feature dims: covariance is singular and "
                    f"{self.output_name} is strongly biased; compare only at equal N"
                )
        self.warnings = warnings
        for message in warnings:
            log.warning(message)
        mu_g, sigma_g = gaussian_from_sums(self._sum["gen"], self._outer["gen"], self._n["gen"])
        mu_r, sigma_r = gaussian_from_sums(self._sum["ref"], self._outer["ref"], self._n["ref"])
        value = frechet_distance(mu_g, sigma_g, mu_r, sigma_r)
        return {self.output_name: value, "n_gen": float(self._n["gen"]), "n_ref": float(self._n["ref"])}

    @property
    def info(self) -> dict:
        """Provenance of the last result: backend, weights hash, N, resize filter, warnings."""
        return {
            "backend": self.backend.name, "paper_comparable": self.backend.paper,
            "weights_sha256": self.weights_sha256, "n_gen": self._n["gen"], "n_ref": self._n["ref"],
            "dims": self.dims, "resize": self.resize, "frame_stride": self.frame_stride,
            "warnings": list(self.warnings),
        }

    def state(self) -> dict:
        return {
            "backend": self.backend.name,
            **{f"sum_{s}": self._sum[s].copy() for s in SIDES},
            **{f"outer_{s}": self._outer[s].copy() for s in SIDES},
            **{f"n_{s}": self._n[s] for s in SIDES},
        }

    def merge(self, other_state: dict) -> None:
        if other_state["backend"] != self.backend.name:
            raise ValueError(f"cannot merge {other_state['backend']} state into {self.backend.name}")
        for side in SIDES:
            self._sum[side] += other_state[f"sum_{side}"]
            self._outer[side] += other_state[f"outer_{side}"]
            self._n[side] += int(other_state[f"n_{side}"])
