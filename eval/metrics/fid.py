"""FID: Fréchet distance between Inception pool3 features of generated and real frames.

Corpus-level. The state is ``sum x``, ``sum x x^T`` and ``n`` per side (float64), so
shards merge exactly, plus each clip's feature mean and frame count per side (keyed by
item id; ``d`` floats per clip) for the confidence interval. Backends:

- ``pytorch-fid`` (paper): pytorch-fid's InceptionV3, 2048-d, weights
  ``pt_inception-2015-12-05-6726825d.pth``; frames are scaled to [0, 1] and resized
  bilinearly to 299x299 inside the network exactly as pytorch-fid does.
- ``fd_mobilenetv2`` (offline, NOT comparable to published FID): the same Fréchet
  distance on 1280-d MobileNetV2 ImageNet features (224x224 bilinear).

``weights=PATH`` uses that file instead of the registry's (its sha256 is recorded).
Every decoded frame (25 fps) of every clip is used unless ``frame_stride`` > 1.
FID is biased upward for small N; N and the resize filter are recorded in
:attr:`FID.info`, and N below the feature dimension adds a warning.

Confidence interval (:meth:`FID.corpus_ci`, called by the harness with the run seed):
percentile 95% interval of a paired clip bootstrap. ``bootstrap`` (default
:data:`BOOTSTRAP_RESAMPLES`) resamples of the items with replacement, each item
contributing its generated and its real clip; the resampled Gaussians have exact means
and between-clip covariances, the pooled within-clip scatter scaled by the resample's
frame count (see :func:`~eval.metrics.functional.frechet.resampled_gaussian`).
``bootstrap=0`` disables it (the reason is recorded in ``info``).
"""

from __future__ import annotations

import logging
import numbers
import time
from pathlib import Path
from typing import Any, Mapping, Optional

import numpy as np
import torch

from eval.metrics import visual
from eval.metrics.base import BackendSpec, Metric, MetricSpec
from eval.metrics.functional.frechet import (
    ClipBootstrap,
    ClipStats,
    clamp_at_zero,
    frechet_distance,
    gaussian_from_sums,
)
from ttsf.inputs import parse_int

log = logging.getLogger(__name__)

SIDES = ("gen", "ref")
_FIELDS = {"gen": "gen_video", "ref": "ref_video"}
#: default number of bootstrap resamples (option ``bootstrap``; 0 disables the CI)
BOOTSTRAP_RESAMPLES = 50
CI_LEVEL = 0.95


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
                 batch_size: int = 32, weights: Optional[str] = None, bootstrap: int = BOOTSTRAP_RESAMPLES,
                 runtime: Optional[str] = None, **options: Any):
        if isinstance(bootstrap, bool) or not isinstance(bootstrap, numbers.Integral) or bootstrap < 0:
            raise ValueError(f"bootstrap must be an integer >= 0 (0 disables the CI), got {bootstrap!r}")
        self.bootstrap = int(bootstrap)
        super().__init__(backend, device, **options)
        self.weights_path = weights
        self.frame_stride = parse_int(frame_stride, "frame_stride", lo=1)
        self.batch_size = parse_int(batch_size, "batch_size", lo=1)
        from eval.metrics.nets.ort import resolve_runtime

        self.runtime = resolve_runtime(runtime, self.backend.paper, device)
        self._net = None  # the torch module, or its ONNX Runtime wrapper (runtime "onnxruntime")
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

    def network(self):
        """The feature network, loaded on first use (a torch module, or the ONNX Runtime wrapper)."""
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
            net = net.eval().to(self.device)
            if self.runtime == "onnxruntime":
                from eval.metrics.nets.mobilenet import OrtMobileNetV2Features

                net = OrtMobileNetV2Features(net)
            self._net = net
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
        # per side: item id -> (clip feature mean (dims,), frame count)
        self._clips: dict[str, dict[str, tuple[np.ndarray, int]]] = {side: {} for side in SIDES}
        self.warnings: list[str] = []
        self._bootstrap_info: Optional[dict] = None
        self._value: Optional[float] = None  # the last compute() of this state
        self._clamped_from: Optional[float] = None  # the raw negative distance when compute() clamped it to 0

    def add_features(self, side: str, feats: np.ndarray, clip: Optional[str] = None) -> None:
        """Accumulate ``(n, dims)`` features into ``side`` ("gen" or "ref").

        ``clip``: the item id the frames belong to (one call per clip and side). Frames
        added without it count in the distance but leave the state without a CI.
        """
        feats = np.asarray(feats, dtype=np.float64)
        if clip is not None and clip in self._clips[side]:
            raise ValueError(f"clip {clip!r} was already added to the {side} side")
        self._sum[side] += feats.sum(0)
        self._outer[side] += feats.T @ feats
        self._n[side] += len(feats)
        self._value = None
        if clip is not None and len(feats):
            self._clips[side][clip] = (feats.mean(0), len(feats))

    def update(self, item: Any) -> Optional[Mapping[str, float]]:
        """Add the frames of ``item.gen_video`` and (when given) ``item.ref_video``."""
        item.require("gen_video")
        fields = [side for side in SIDES if getattr(item, _FIELDS[side]) is not None]
        decoded = {side: visual.frames(item, _FIELDS[side])[:: self.frame_stride] for side in fields}
        feats = {side: self.features(decoded[side]) for side in fields}  # both sides, then add: all or nothing
        for side in fields:
            self.add_features(side, feats[side], clip=item.id)
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
        value, raw = clamp_at_zero(frechet_distance(mu_g, sigma_g, mu_r, sigma_r))
        self._clamped_from = raw
        if raw is not None:
            message = (f"{self.output_name} came out {raw:.3g} (below 0: eigen-solver rounding on near-identical "
                       "sets); reported as 0")
            self.warnings.append(message)
            log.warning(message)
        self._value = value
        return {self.output_name: value, "n_gen": float(self._n["gen"]), "n_ref": float(self._n["ref"])}

    @property
    def info(self) -> dict:
        """Provenance of the last result: backend, weights hash, N, resize filter, warnings."""
        return {
            "backend": self.backend.name, "paper_comparable": self.backend.paper,
            "weights_sha256": self.weights_sha256, "n_gen": self._n["gen"], "n_ref": self._n["ref"],
            "dims": self.dims, "resize": self.resize, "frame_stride": self.frame_stride, "runtime": self.runtime,
            "clips": {s: len(self._clips[s]) for s in SIDES}, "bootstrap": self._bootstrap_info,
            "clamped_from": self._clamped_from, "warnings": list(self.warnings),
        }

    # ------------------------------------------------------------------ confidence interval
    def corpus_ci(self, seed: int = 0) -> dict[str, dict]:
        """Percentile 95% CI of the distance by a paired clip bootstrap over items.

        Returns ``{output name: {"ci95": (lo, hi) | None, "method": str | None,
        "reason": str | None}}``; the details (resamples, seed, seconds, dropped
        resamples) also go to ``info["bootstrap"]``. Deterministic for a given ``seed``
        and state, whatever the sharding (items are taken in sorted id order).
        """
        start = time.perf_counter()
        info = {"resamples": self.bootstrap, "seed": int(seed), "level": CI_LEVEL, "ci95": None, "reason": None}
        ci, reason = self._bootstrap_ci(int(seed), info)
        info.update(ci95=list(ci) if ci else None, reason=reason, seconds=round(time.perf_counter() - start, 3))
        self._bootstrap_info = info
        method = (f"percentile paired clip bootstrap over items (B={self.bootstrap}), within-clip scatter pooled"
                  if ci else None)
        return {self.output_name: {"ci95": ci, "method": method, "reason": reason}}

    def _bootstrap_ci(self, seed: int, info: dict) -> tuple[Optional[tuple[float, float]], Optional[str]]:
        if self.bootstrap == 0:
            return None, "bootstrap disabled (bootstrap=0)"
        for side in SIDES:
            keyed = sum(n for _, n in self._clips[side].values())
            if keyed != self._n[side]:
                return None, (f"{self._n[side] - keyed} of {self._n[side]} {side} frames have no clip id "
                              f"(added without one, or a state from before per-clip statistics): no clip bootstrap")
            if self._n[side] < 2:
                return None, f"fewer than 2 {side} frames"
        ids = sorted(set(self._clips["gen"]) | set(self._clips["ref"]))
        if len(ids) < 2:
            return None, f"fewer than 2 items ({len(ids)}): no bootstrap over items"
        stats = {}
        for side in SIDES:
            clips = self._clips[side]
            means = np.zeros((len(ids), self.dims))
            counts = np.zeros(len(ids))
            for row, i in enumerate(ids):
                if i in clips:
                    means[row], counts[row] = clips[i]
            stats[side] = ClipStats(means, counts, self._outer[side])
        boot = ClipBootstrap(stats["gen"], stats["ref"])
        values = boot.replicates(self.bootstrap, seed)
        finite = np.maximum(values[np.isfinite(values)], 0.0)  # each replicate clamped like the estimate
        info.update(items=len(ids), rank=boot.rank, dropped=int(values.size - finite.size))
        if finite.size < 2:
            return None, f"{finite.size} of {values.size} resamples had >= 2 frames on both sides"
        alpha = (1.0 - CI_LEVEL) / 2.0
        lo, hi = np.quantile(finite, [alpha, 1.0 - alpha])
        value = self._value if self._value is not None else self.compute()[self.output_name]
        shift = float(np.median(finite) - value)
        info.update(median_shift=shift, below_estimate=float(np.mean(finite < value)))
        # eigen-solver noise of the distance is ~1e-8 of the traces: not a reason to warn (gt vs itself)
        noise = 1e-6 * sum(float(np.trace(self._outer[s]) - self._sum[s] @ self._sum[s] / self._n[s]) / (self._n[s] - 1)
                           for s in SIDES)
        lo, hi = float(lo), float(hi)
        if not lo <= value <= hi:
            # The reported interval always contains the reported value: the percentile interval is
            # widened to reach it (the percentile bounds are kept in info["percentile_ci95"]).
            info["percentile_ci95"] = [lo, hi]
            if not lo - noise <= value <= hi + noise:
                message = (f"{self.output_name} = {value:.4g} lies outside its bootstrap interval [{lo:.4g}, "
                           f"{hi:.4g}]: resampled distances sit {shift:+.3g} from it (FD's small-sample bias grows "
                           "when clips repeat); the interval is widened to include the value; read its width, "
                           "not its location")
                if message not in self.warnings:
                    self.warnings.append(message)
                    log.warning(message)
            lo, hi = min(lo, value), max(hi, value)
        return (lo, hi), None

    # ------------------------------------------------------------------ mergeable state
    def state(self) -> dict:
        out = {
            "backend": self.backend.name,
            **{f"sum_{s}": self._sum[s].copy() for s in SIDES},
            **{f"outer_{s}": self._outer[s].copy() for s in SIDES},
            **{f"n_{s}": self._n[s] for s in SIDES},
        }
        for side in SIDES:  # per-clip means and frame counts, in sorted id order
            ids = sorted(self._clips[side])
            out[f"clip_ids_{side}"] = ids
            out[f"clip_mean_{side}"] = (np.stack([self._clips[side][i][0] for i in ids]) if ids
                                        else np.zeros((0, self.dims)))
            out[f"clip_n_{side}"] = np.array([self._clips[side][i][1] for i in ids], dtype=np.int64)
        return out

    def merge(self, other_state: dict) -> None:
        """Add another shard's state; an item id present in both is an error (a state without
        per-clip statistics merges, but then leaves no CI)."""
        if other_state["backend"] != self.backend.name:
            raise ValueError(f"cannot merge {other_state['backend']} state into {self.backend.name}")
        for side in SIDES:
            ids = list(other_state.get(f"clip_ids_{side}", []))
            twice = sorted(set(ids) & set(self._clips[side]))
            if twice:
                raise ValueError(f"{len(twice)} {side} clip(s) are in both states (e.g. {twice[0]!r}): "
                                 f"an item scored in two shards")
        self._value = None
        for side in SIDES:
            self._sum[side] += other_state[f"sum_{side}"]
            self._outer[side] += other_state[f"outer_{side}"]
            self._n[side] += int(other_state[f"n_{side}"])
            ids = list(other_state.get(f"clip_ids_{side}", []))
            means = np.asarray(other_state.get(f"clip_mean_{side}", np.zeros((0, self.dims))), dtype=np.float64)
            counts = np.asarray(other_state.get(f"clip_n_{side}", np.zeros(0)), dtype=np.int64)
            for i, mean, n in zip(ids, means, counts.tolist()):
                self._clips[side][i] = (mean.copy(), int(n))
