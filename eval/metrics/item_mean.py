"""Base for item-level metrics whose corpus value is the mean over scored items.

State is the per-item values keyed by item id, so shards merge exactly (and an item
scored twice is an error, not a silent double count). Items that raised
:class:`~eval.metrics.base.ItemError` are not part of the state: the caller records them.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Optional

import numpy as np

from eval.metrics.base import Metric


class ItemMeanMetric(Metric):
    """Subclasses define ``spec``, ``DEFAULTS`` (option -> default) and :meth:`score`."""

    DEFAULTS: dict[str, Any] = {}

    def __init__(self, backend: Optional[str] = None, device: str = "cpu", **options: Any):
        unknown = sorted(set(options) - set(self.DEFAULTS))
        if unknown:
            raise ValueError(
                f"unknown option(s) {unknown} for metric {self.spec.name}; known: {sorted(self.DEFAULTS) or 'none'}"
            )
        super().__init__(backend, device, **{**self.DEFAULTS, **options})
        self.weights_sha256: Optional[str] = None

    @property
    def key(self) -> str:
        """Name of the primary per-item value (the metric name)."""
        return self.spec.name

    def score(self, item: Any) -> dict[str, float]:
        """Per-item values; must include :attr:`key`. Raise ItemError when unscorable."""
        raise NotImplementedError

    def reset(self) -> None:
        self._values: dict[str, float] = {}

    def update(self, item: Any) -> Optional[Mapping[str, float]]:
        if item.id in self._values:
            raise ValueError(f"item {item.id!r} already scored by {self.spec.name}")
        values = self.score(item)
        value = float(values[self.key])
        if not math.isfinite(value):
            raise RuntimeError(f"{self.spec.name} produced non-finite {value} for {item.id!r} without ItemError")
        self._values[item.id] = value
        return values

    def compute(self) -> Mapping[str, float]:
        """``{name: mean, name_std: std, n: items}``; mean is NaN when nothing was scored."""
        values = np.array(list(self._values.values()), dtype=np.float64)
        if len(values) == 0:
            return {self.key: float("nan"), f"{self.key}_std": float("nan"), "n": 0.0}
        return {self.key: float(values.mean()), f"{self.key}_std": float(values.std()), "n": float(len(values))}

    def state(self) -> dict:
        ids = sorted(self._values)
        return {"backend": self.backend.name, "options": dict(self.options), "ids": ids,
                "values": np.array([self._values[i] for i in ids], dtype=np.float64)}

    def merge(self, other_state: dict) -> None:
        if other_state["backend"] != self.backend.name or dict(other_state["options"]) != dict(self.options):
            raise ValueError(f"cannot merge {self.spec.name} states with different backend/options")
        for item_id, value in zip(other_state["ids"], np.asarray(other_state["values"]).tolist()):
            if item_id in self._values:
                raise ValueError(f"item {item_id!r} present in both shards")
            self._values[item_id] = float(value)

    @property
    def info(self) -> dict:
        """Provenance: backend, paper comparability, options, weights hash."""
        return {"backend": self.backend.name, "paper_comparable": self.backend.paper,
                "options": dict(self.options), "weights_sha256": self.weights_sha256, "n": len(self._values)}
