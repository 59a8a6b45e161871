"""The metric registry: all eight metrics, lazy loading, specs consistent with the weights registry."""

from __future__ import annotations

import subprocess
import sys

import pytest

from eval.metrics import REGISTRY, create
from ttsf import weights
from ttsf.names import UnknownName

TARGETS = {
    "fid": "eval.metrics.fid:FID",
    "idsim": "eval.metrics.idsim:IDSim",
    "lse": "eval.metrics.lse:LSE",
    "diversity": "eval.metrics.diversity:Diversity",
    "wer": "eval.metrics.wer:WER",
    "mcd": "eval.metrics.mcd:MCD",
    "csim": "eval.metrics.csim:CSim",
    "f0_rmse": "eval.metrics.f0_rmse:F0RMSE",
}
INPUTS = {"gen_video", "gen_audio", "ref_video", "ref_audio", "source_image", "text"}


def test_all_eight_metrics_are_registered():
    assert REGISTRY.names() == sorted(TARGETS)
    assert {name: REGISTRY.target(name) for name in REGISTRY.names()} == TARGETS


def test_importing_the_registry_loads_no_metric_module():
    code = ("import sys, eval.metrics; "
            "print(sorted(m for m in sys.modules if m.startswith('eval.metrics.') and m != 'eval.metrics.base'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_spec_is_complete_and_its_weights_are_registered(name):
    spec = REGISTRY.get(name).spec
    assert spec.name == name and spec.level in ("item", "corpus") and spec.version
    assert spec.needs and set(spec.needs) <= INPUTS
    assert spec.backends[0].paper, "the default backend is the paper's"
    known = weights.entries()
    for backend in spec.backends:
        for weight in backend.weights:
            assert weight in known, f"{name}/{backend.name} needs unregistered weights {weight!r}"


def test_unknown_names_suggest_close_matches():
    with pytest.raises(UnknownName, match="Did you mean: wer"):
        create("wre")
    with pytest.raises(UnknownName, match="Did you mean: resemblyzer"):
        create("csim", backend="resemblizer")
    with pytest.raises(ValueError, match="unknown option"):
        create("f0_rmse", hop=5)


def test_create_passes_backend_and_options():
    metric = create("mcd", mode="plain")
    assert metric.backend.name == "pymcd" and metric.options["mode"] == "plain"
    assert create("csim", backend="resemblyzer").backend.paper is False


def test_weights_entries_name_real_metric_backends():
    for entry in weights.entries().values():
        for use in entry.backends:
            metric, _, backend = use.partition("/")
            if metric in REGISTRY:
                names = [b.name for b in REGISTRY.get(metric).spec.backends]
                assert backend in names, f"{entry.name}: {use} is not a backend of {metric} ({names})"
