"""The metric interface: a declared spec plus mergeable ``update/compute/reset`` state.

A metric file defines one :class:`Metric` subclass with a class attribute ``spec``.
Item-level metrics return a value per item from :meth:`Metric.update` and aggregate
to a corpus value in :meth:`Metric.compute`; corpus-level metrics (FID, corpus WER)
accumulate sufficient statistics that merge exactly across shards.

Failures are never numbers: :meth:`Metric.update` raises :class:`ItemError` (with a
reason) for an item that cannot be scored, and the caller records it per item.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Optional


class ItemError(Exception):
    """An item that cannot be scored by a metric, with the reason why."""

    def __init__(self, reason: str, *, code: str = "failed"):
        self.reason = reason
        self.code = code
        super().__init__(reason)


@dataclasses.dataclass(frozen=True)
class BackendSpec:
    name: str  # e.g. "pytorch-fid", "fd_mobilenetv2"
    paper: bool  # comparable to the paper's numbers?
    weights: tuple[str, ...] = ()  # WeightsSpec names
    description: str = ""
    output_name: Optional[str] = None  # name shown in outputs when it differs (fd_mobilenetv2)


@dataclasses.dataclass(frozen=True)
class MetricSpec:
    name: str
    version: str
    level: str  # "item" or "corpus"
    needs: tuple[str, ...]  # subset of: gen_video, gen_audio, ref_video, ref_audio, source_image, text
    higher_is_better: bool
    backends: tuple[BackendSpec, ...]
    unit: str = ""
    outputs: tuple[str, ...] = ()  # sub-values for multi-valued metrics (lse: ("lse_c", "lse_d"))
    description: str = ""

    def backend(self, name: Optional[str]) -> BackendSpec:
        if name is None:
            return self.backends[0]
        for b in self.backends:
            if b.name == name:
                return b
        from ttsf.names import UnknownName

        raise UnknownName(f"backend of metric {self.name}", name, [b.name for b in self.backends])


class Metric:
    """Base class. Subclasses set ``spec`` and implement the four methods."""

    spec: MetricSpec
    #: corpus-level metrics whose value is ``scale * sum(num) / sum(den)`` of per-item
    #: values declare ``{output: (num key, den key, scale)}``; the harness then reports a
    #: bootstrap CI over items for them (e.g. corpus WER from per-item edit counts).
    ratio_outputs: Mapping[str, tuple[str, str, float]] = {}

    def __init__(self, backend: Optional[str] = None, device: str = "cpu", **options: Any):
        self.backend = self.spec.backend(backend)
        self.device = device
        self.options = options
        self.reset()

    def reset(self) -> None:
        raise NotImplementedError

    def update(self, item: Any) -> Optional[Mapping[str, float]]:
        """Score one item; return its per-item values (None for corpus-only metrics)."""
        raise NotImplementedError

    def compute(self) -> Mapping[str, float]:
        """Corpus value(s) from the accumulated state."""
        raise NotImplementedError

    def state(self) -> dict:
        """Mergeable state (numpy arrays / numbers / lists), for sharded runs."""
        raise NotImplementedError

    def merge(self, other_state: dict) -> None:
        """Add another shard's :meth:`state` into this one."""
        raise NotImplementedError
