"""Metric registry: every metric by name, loaded lazily (``"module:Class"``).

>>> from eval.metrics import REGISTRY, create
>>> REGISTRY.names()
['csim', 'diversity', 'f0_rmse', 'fid', 'idsim', 'lse', 'mcd', 'wer']
>>> metric = create("mcd", mode="dtw")   # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any, Optional

from eval.registry import Registry

REGISTRY: Registry = Registry("metric")
REGISTRY.register("fid", "eval.metrics.fid:FID")
REGISTRY.register("idsim", "eval.metrics.idsim:IDSim")
REGISTRY.register("lse", "eval.metrics.lse:LSE")
REGISTRY.register("diversity", "eval.metrics.diversity:Diversity")
REGISTRY.register("wer", "eval.metrics.wer:WER")
REGISTRY.register("mcd", "eval.metrics.mcd:MCD")
REGISTRY.register("csim", "eval.metrics.csim:CSim")
REGISTRY.register("f0_rmse", "eval.metrics.f0_rmse:F0RMSE")


def get(name: str):
    """The metric class ``name`` (imports its module on first use)."""
    return REGISTRY.get(name)


def create(name: str, backend: Optional[str] = None, device: str = "cpu", **options: Any):
    """An instance of metric ``name`` with ``backend`` (default: the paper backend).

    Raises :class:`ttsf.names.UnknownName` for an unknown metric or backend and
    :class:`ttsf.weights.errors.MissingWeights` when the backend's weights are absent.
    """
    return REGISTRY.get(name)(backend=backend, device=device, **options)
