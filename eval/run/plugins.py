"""Looking up metrics and their backends for a run, and what is ready here.

Metric names are registry names (``fid``) or, for plug-ins outside the registry,
``package.module:Class`` targets (used by the tests' lightweight fake metrics).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, Optional

from eval.metrics.base import BackendSpec, Metric
from eval.registry import load_object
from ttsf.names import UnknownName
from ttsf.weights.errors import MissingWeights

log = logging.getLogger(__name__)


def metric_registry():
    """``eval.metrics.REGISTRY`` (imported lazily)."""
    from eval.metrics import REGISTRY

    return REGISTRY


def metric_names() -> list[str]:
    return metric_registry().names()


def metric_class(name: str) -> type[Metric]:
    """The metric class for a registry name or a ``module:Class`` target."""
    if ":" in name:
        cls = load_object(name)
    else:
        cls = metric_registry().get(name)
    if not hasattr(cls, "spec"):
        raise TypeError(f"{name}: not a Metric class (no spec)")
    return cls


def choose_backend(cls: type[Metric], synthetic: bool, override: Optional[str] = None) -> BackendSpec:
    """The backend to use: the override, else offline (synthetic) or paper (real data).

    Synthetic corpus runs prefer a backend that is not the paper's (``paper=False``,
    the offline ones that ship inside pip packages); real-data runs prefer the paper's.
    """
    spec = cls.spec
    if override:
        return spec.backend(override)
    wanted = [b for b in spec.backends if b.paper != synthetic]
    return (wanted or list(spec.backends))[0]


def missing_weights(backend: BackendSpec) -> dict[str, str]:
    """``{weights name: message}`` for every weights file of ``backend`` not present here."""
    out: dict[str, str] = {}
    if not backend.weights:
        return out
    try:
        from ttsf.weights import locate
    except ImportError as exc:  # the weights registry is not available
        return {w: f"weights registry unavailable ({exc})" for w in backend.weights}
    for name in backend.weights:
        try:
            locate(name, verify=False)
        except MissingWeights as exc:
            out[name] = str(exc)
        except KeyError as exc:
            out[name] = f"weights {name!r} are not in the weights registry ({exc})"
    return out


def weights_hashes(backend: BackendSpec) -> dict[str, Optional[str]]:
    """sha256 of each weights file the backend uses (``None`` when not found)."""
    out: dict[str, Optional[str]] = {}
    try:
        from ttsf.weights import file_sha256, locate
    except ImportError:
        return {w: None for w in backend.weights}
    for name in backend.weights:
        try:
            out[name] = file_sha256(locate(name, verify=False))
        except (MissingWeights, KeyError, OSError):
            out[name] = None
    return out


@dataclasses.dataclass
class MetricPlan:
    """A metric chosen for a run: its class and backend, or why it cannot run."""

    name: str  # as requested (registry name or target)
    key: str  # spec name used in results
    cls: Optional[type[Metric]]
    backend: Optional[BackendSpec]
    unavailable: Optional[str] = None  # reason it cannot run at all
    missing: dict = dataclasses.field(default_factory=dict)  # weights name -> message

    def create(self, device: str, **options: Any) -> Metric:
        assert self.cls is not None and self.backend is not None
        return self.cls(backend=self.backend.name, device=device, **options)


def plan_metric(name: str, synthetic: bool, backend_override: Optional[str], explicit: bool) -> MetricPlan:
    """Resolve one metric for a run. Unknown names raise only when ``explicit``."""
    try:
        cls = metric_class(name)
    except UnknownName:
        if explicit:
            raise
        return MetricPlan(name, name, None, None, unavailable=f"metric {name!r} is not registered in eval.metrics")
    except ImportError as exc:
        if explicit and ":" in name:
            raise
        return MetricPlan(name, name, None, None, unavailable=f"metric {name!r} cannot be imported: {exc}")
    backend = choose_backend(cls, synthetic, backend_override)
    plan = MetricPlan(name, cls.spec.name, cls, backend)
    plan.missing = missing_weights(backend)
    if plan.missing:
        plan.unavailable = f"weights missing for backend {backend.name}: {', '.join(sorted(plan.missing))}"
    return plan
