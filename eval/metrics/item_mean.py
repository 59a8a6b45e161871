"""Base for item-level metrics whose corpus value is the mean over scored items.

Every per-item metric (``mcd``, ``f0_rmse``, ``csim``, ``idsim``, ``diversity``, ``lse``)
keeps the same state: for each item id, the per-item values it *declares* with
:meth:`ItemMetric.add_state` (in the manner of torchmetrics' ``add_state``; by default one
value named after the metric). One class therefore does for all of them what a sharded,
resumable run needs:

- :meth:`~ItemMetric.update` refuses an item id scored twice and a non-finite declared value
  (a failure must be an :class:`~eval.metrics.base.ItemError`, never a number);
- :meth:`~ItemMetric.merge` adds another shard's :meth:`~ItemMetric.state` exactly (an id in
  both shards, or another backend or options, is an error);
- :meth:`~ItemMetric.compute` gives ``{name: mean, name_std: std}`` per declared value and
  the count ``n_items``; with no item scored it raises ``ItemError(code="empty")``, so the
  corpus value is missing with that reason, never 0 or NaN.

Items that raised :class:`~eval.metrics.base.ItemError` are not part of the state: the caller
records them.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Optional

import numpy as np

from eval.metrics.base import ItemError, Metric

#: The key of the number of scored items in every per-item metric's :meth:`ItemMetric.compute`.
COUNT_KEY = "n_items"


class ItemMetric(Metric):
    """Subclasses define ``spec`` and :meth:`score`, and declare the per-item values they keep
    with :meth:`add_state` in ``__init__`` (none declared: the value named ``spec.name``)."""

    def __init__(self, backend: Optional[str] = None, device: str = "cpu", **options: Any):
        self._declared: list[str] = []
        super().__init__(backend, device, **options)
        self.weights_sha256: Optional[str] = None

    def add_state(self, name: str) -> None:
        """Keep the per-item value ``name`` (a key of :meth:`score`'s result) in the state."""
        if name in self._declared:
            raise ValueError(f"{self.spec.name}: state {name!r} declared twice")
        if self._items:
            raise RuntimeError(f"{self.spec.name}: declare state {name!r} before scoring")
        self._declared.append(name)

    @property
    def state_names(self) -> tuple[str, ...]:
        """The declared per-item values, in declaration order."""
        return tuple(self._declared) or (self.spec.name,)

    def score(self, item: Any) -> Mapping[str, float]:
        """Per-item values; must include every name of :attr:`state_names` (more are returned to
        the caller but not kept). Raise ItemError when unscorable."""
        raise NotImplementedError

    def reset(self) -> None:
        self._items: dict[str, dict[str, float]] = {}

    def update(self, item: Any) -> Optional[Mapping[str, float]]:
        if item.id in self._items:
            raise ValueError(f"item {item.id!r} already scored by {self.spec.name}")
        values = self.score(item)
        kept = {}
        for name in self.state_names:
            value = float(values[name])
            if not math.isfinite(value):
                raise RuntimeError(f"{self.spec.name} produced non-finite {name} {value} for {item.id!r} "
                                   "without ItemError")
            kept[name] = value
        self._items[item.id] = kept
        return values

    def compute(self) -> Mapping[str, float]:
        """``{name: mean, name_std: std}`` per declared value and ``n_items``."""
        if not self._items:
            raise ItemError(f"no item was scored by {self.spec.name}", code="empty")
        out = {}
        for name in self.state_names:
            values = np.array([v[name] for v in self._items.values()], dtype=np.float64)
            out[name] = float(values.mean())
            out[f"{name}_std"] = float(values.std())
        out[COUNT_KEY] = float(len(self._items))
        return out

    def state(self) -> dict:
        ids = sorted(self._items)
        return {"backend": self.backend.name, "options": dict(self.options), "ids": ids,
                "values": {name: np.array([self._items[i][name] for i in ids], dtype=np.float64)
                           for name in self.state_names}}

    def merge(self, other_state: dict) -> None:
        if other_state["backend"] != self.backend.name or dict(other_state["options"]) != dict(self.options):
            raise ValueError(f"cannot merge {self.spec.name} states with different backend/options "
                             f"({other_state['backend']} into {self.backend.name})")
        if set(other_state["values"]) != set(self.state_names):
            raise ValueError(f"cannot merge {self.spec.name} state with values {sorted(other_state['values'])} "
                             f"into one with {sorted(self.state_names)}")
        columns = {name: np.asarray(other_state["values"][name]).tolist() for name in self.state_names}
        for k, item_id in enumerate(other_state["ids"]):
            if item_id in self._items:
                raise ValueError(f"item {item_id!r} present in both shards")
            self._items[item_id] = {name: float(columns[name][k]) for name in self.state_names}

    @property
    def info(self) -> dict:
        """Provenance: backend, paper comparability, options, weights hash."""
        return {"backend": self.backend.name, "paper_comparable": self.backend.paper,
                "options": dict(self.options), "weights_sha256": self.weights_sha256, COUNT_KEY: len(self._items)}


class ItemMeanMetric(ItemMetric):
    """An :class:`ItemMetric` whose options are declared in ``DEFAULTS`` (option -> default);
    an unknown option is refused."""

    DEFAULTS: dict[str, Any] = {}

    def __init__(self, backend: Optional[str] = None, device: str = "cpu", **options: Any):
        unknown = sorted(set(options) - set(self.DEFAULTS))
        if unknown:
            raise ValueError(
                f"unknown option(s) {unknown} for metric {self.spec.name}; known: {sorted(self.DEFAULTS) or 'none'}"
            )
        super().__init__(backend, device, **{**self.DEFAULTS, **options})

    @property
    def key(self) -> str:
        """Name of the primary per-item value (the metric name)."""
        return self.spec.name
