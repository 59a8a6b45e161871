"""Scoring stage: every metric on every generated item, resumable after a kill.

Items are scored item-outer / metric-inner so the metrics share one
:class:`~eval.metrics.sample.Sample` (decoded frames, face tracks) per item. After each
item every metric's checkpoint ``<run>/state/<system>/<metric>.r<rank>of<world>.ckpt``
is rewritten atomically with the metric's mergeable state, the per-item values and
errors, and the content key of each finished item (metric name, version, backend and
options + hashes of every input file + text + seed + code version). On restart a
checkpoint whose keys all match the current items is merged back into a fresh metric
and its items are skipped; any mismatch discards it (a state cannot be un-merged).
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import os
import time
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from eval.cache import FileHasher, content_key, load_state, save_state
from eval.metrics.base import ItemError, Metric
from eval.run.generate import GenRecord
from eval.systems.inputs import IMAGE_SUFFIXES, source_image
from ttsf import media
from ttsf.data.manifest import Item, ManifestError, read_text, resolve
from ttsf.weights.errors import MissingWeights

log = logging.getLogger(__name__)

#: Version of the scored per-item results and metric states this stage checkpoints; part of
#: every score's content key (:func:`metric_identity`), so a bump makes old checkpoints stale
#: (recomputed, never merged). 2: every per-item metric keeps its state through
#: :class:`eval.metrics.item_mean.ItemMetric` (issue 13: declared values, ``n_items``).
SCORE_VERSION = "2"

FIELDS = ("gen_video", "gen_audio", "ref_video", "ref_audio", "source_image", "text")


@dataclasses.dataclass
class ItemInputs:
    """What a Sample is built from, what is missing (with reasons) and the content signature."""

    fields: dict[str, Any]
    missing: dict[str, str]
    signature: dict[str, Any]


def gather_inputs(item: Item, root: Path, gen: GenRecord, hasher: FileHasher) -> ItemInputs:
    """Paths, text and content signature of one item's inputs (a video source frame is decoded later)."""
    fields: dict[str, Any] = {}
    missing: dict[str, str] = {}
    sig: dict[str, Any] = {}
    for role in ("video", "audio"):
        name = f"gen_{role}"
        path = getattr(gen, role)
        if not gen.ok:
            missing[name] = f"generation failed: {gen.reason}"
        elif path is None:
            missing[name] = f"the system produced no {role}"
        else:
            fields[name] = Path(path)
            sig[name] = hasher(path)
    for role in ("ref_video", "ref_audio"):
        rel = getattr(item, role)
        if rel is None:
            missing[role] = f"item has no {role}"
            continue
        try:
            path = resolve(root, rel, f"item {item.id} {role}")
        except ManifestError as exc:
            missing[role] = str(exc)
            continue
        if not path.is_file():
            missing[role] = f"{role} not found: {path}"
            continue
        fields[role] = path
        sig[role] = hasher(path)
    try:
        src = resolve(root, item.source.path, f"item {item.id} source")
        if not src.is_file():
            raise media.MediaError(src, "file does not exist")
        sig["source_image"] = [hasher(src), item.source.frame]
        if src.suffix.lower() in IMAGE_SUFFIXES and item.source.frame == 0:
            fields["source_image"] = src
    except (ManifestError, media.MediaError) as exc:
        missing["source_image"] = f"source image: {exc}"
    try:
        fields["text"] = read_text(item, root)
        sig["text"] = fields["text"]
    except ManifestError as exc:
        missing["text"] = str(exc)
    return ItemInputs(fields, missing, sig)


def metric_identity(metric: Metric) -> dict:
    """What a per-item score depends on besides the inputs: metric, version, backend, options, the
    network runtime where it is not torch, and the sha256 of every weights file (a retrained
    checkpoint invalidates cached scores)."""
    from eval.run.plugins import weights_hashes
    from ttsf.weights import file_sha256

    weights = weights_hashes(metric.backend)
    explicit = getattr(metric, "weights_path", None)
    if explicit:
        path = Path(explicit)
        weights["explicit"] = file_sha256(path) if path.is_file() else f"missing:{path}"
    identity = {"score_version": SCORE_VERSION, "name": metric.spec.name, "version": metric.spec.version,
                "backend": metric.backend.name,
                "options": {k: str(v) for k, v in sorted(metric.options.items())}, "weights": weights}
    # eval.metrics.nets.ort: a network run by another runtime than torch gets its own scores (every
    # score cached before runtimes existed was computed in torch, so torch keeps the old keys)
    runtime = getattr(metric, "runtime", None)
    if runtime not in (None, "torch"):
        identity["runtime"] = runtime
    return identity


@dataclasses.dataclass
class MetricRun:
    """One metric's progress on one system within this rank."""

    key: str  # metric name in results
    metric: Optional[Metric]
    ckpt: Path
    unavailable: Optional[str] = None
    done: dict = dataclasses.field(default_factory=dict)  # id -> item content key
    values: dict = dataclasses.field(default_factory=dict)  # id -> {output: value}
    errors: dict = dataclasses.field(default_factory=dict)  # id -> {"error": code, "reason": str}
    seconds: float = 0.0  # time inside metric.update
    resumed: int = 0

    def payload(self) -> dict:
        return {"done": self.done, "values": self.values, "errors": self.errors, "seconds": self.seconds}

    def save(self) -> float:
        """Write the checkpoint; returns the seconds it took."""
        start = time.perf_counter()
        save_state(self.ckpt, {"payload": self.payload(), "state": self.metric.state()})
        return time.perf_counter() - start

    def restore(self, keys: dict[str, str]) -> None:
        """Merge a matching checkpoint into the (reset) metric; discard a stale one."""
        saved = load_state(self.ckpt)
        if saved is None:
            return
        done = saved["payload"]["done"]
        stale = [i for i, k in done.items() if keys.get(i) != k]
        if stale:
            log.info("%s: checkpoint %s is stale for %d item(s) (e.g. %s): recomputing", self.key, self.ckpt,
                     len(stale), stale[0])
            return
        self.metric.reset()
        self.metric.merge(saved["state"])
        self.done = dict(done)
        self.values = saved["payload"]["values"]
        self.errors = saved["payload"]["errors"]
        self.seconds = 0.0  # time of this session only (the restored items cost nothing now)
        self.resumed = len(done)


def _clean_values(values: Any) -> Optional[dict]:
    if values is None:
        return None
    out = {}
    for k, v in dict(values).items():
        v = float(v)
        out[str(k)] = v if np.isfinite(v) else None
    return out


def score_system(
    system_name: str,
    items: list[Item],
    gens: dict[str, GenRecord],
    root: Path,
    metrics: list[MetricRun],
    seed: int,
    hasher: FileHasher,
    progress: Callable[[int], None] = lambda n: None,
    set_postfix: Callable[[str], None] = lambda s: None,
    metric_progress: Callable[[str, int], None] = lambda key, n: None,
) -> dict:
    """Score ``items`` with every available metric; returns timing (seconds) by part.

    Progress callbacks: ``progress(n)`` when ``n`` items are finished by every metric,
    ``set_postfix(key)`` when metric ``key`` starts an item, and ``metric_progress(key, n)``
    when metric ``key`` has finished ``n`` more items (once at the start with the items
    restored from its checkpoint, then 1 per item, failed items included).
    """
    timing = {"checkpoint": 0.0, "inputs": 0.0}
    active = [m for m in metrics if m.unavailable is None]
    need_source = any("source_image" in m.metric.spec.needs for m in active)
    start = time.perf_counter()
    inputs, keys = _content_keys(items, gens, root, active, seed, hasher)
    for m in active:
        m.metric.reset()
        m.restore(keys[m.key])
    timing["inputs"] += time.perf_counter() - start
    for m in active:
        if m.done:
            metric_progress(m.key, len(m.done))
    progress(sum(1 for item in items if all(item.id in m.done for m in active)))
    for item in items:
        todo = [m for m in active if m.unavailable is None and item.id not in m.done]
        if not todo:
            continue
        start = time.perf_counter()
        sample = _sample(item, inputs[item.id], root, need_source)
        timing["inputs"] += time.perf_counter() - start
        for m in todo:
            set_postfix(m.key)
            if not _score_item(m, sample, inputs[item.id], system_name):
                continue  # weights missing: the metric is unavailable, the item is not marked done
            m.done[item.id] = keys[m.key][item.id]
            timing["checkpoint"] += m.save()
            metric_progress(m.key, 1)
        progress(1)
    return timing


def _content_keys(items: list[Item], gens: dict[str, GenRecord], root: Path, active: list[MetricRun], seed: int,
                  hasher: FileHasher) -> tuple[dict[str, ItemInputs], dict[str, dict[str, str]]]:
    """Every item's inputs and, per metric, its content key (needed to validate checkpoints)."""
    inputs: dict[str, ItemInputs] = {}
    keys: dict[str, dict[str, str]] = {m.key: {} for m in active}
    identities = {m.key: metric_identity(m.metric) for m in active}
    for item in items:
        inp = gather_inputs(item, root, gens[item.id], hasher)
        inputs[item.id] = inp
        for m in active:
            keys[m.key][item.id] = content_key("score", identities[m.key], inp.signature,
                                               {k: inp.missing[k] for k in sorted(inp.missing)}, int(seed))
    return inputs, keys


def _sample(item: Item, inp: ItemInputs, root: Path, need_source: bool):
    """The item's Sample (a video source frame is decoded only when a metric needs it)."""
    if need_source and "source_image" not in inp.fields and "source_image" not in inp.missing:
        try:
            inp.fields["source_image"] = source_image(item, root)
        except (ManifestError, media.MediaError) as exc:
            inp.missing["source_image"] = f"source image: {exc}"
    from eval.metrics.sample import Sample

    return Sample(id=item.id, **{k: inp.fields.get(k) for k in FIELDS})


def _score_item(m: MetricRun, sample, inp: ItemInputs, system_name: str) -> bool:
    """One metric on one item: its values, or its error with the reason. False when missing weights
    made the metric unavailable (the item is then not finished)."""
    absent = [f for f in m.metric.spec.needs if f in inp.missing]
    if absent:
        m.errors[sample.id] = {"error": "missing_input",
                               "reason": "; ".join(f"{f}: {inp.missing[f]}" for f in absent)}
        return True
    t = time.perf_counter()
    try:
        vals = m.metric.update(sample)
    except ItemError as exc:
        m.errors[sample.id] = {"error": exc.code, "reason": exc.reason}
    except MissingWeights as exc:
        m.unavailable = f"weights missing: {exc}"
        m.seconds += time.perf_counter() - t
        log.error("%s: %s", m.key, exc)
        return False
    except Exception as exc:  # recorded per item (type and message); the run continues
        log.exception("metric %s failed on %s/%s", m.key, system_name, sample.id)
        m.errors[sample.id] = {"error": "exception", "reason": f"{type(exc).__name__}: {exc}"}
    else:
        cleaned = _clean_values(vals)
        if cleaned is not None:
            m.values[sample.id] = cleaned
    m.seconds += time.perf_counter() - t
    return True


def score_samples(plan, samples: list, device: str = "cpu", label: str = "",
                  item_extra: Optional[Callable[[Metric, Any], dict]] = None) -> tuple[Optional[Metric], dict]:
    """Score Samples built in memory with one metric plan (:class:`eval.run.plugins.MetricPlan`), item by
    item exactly as :func:`score_system` does but without generation or checkpoints (benches).

    ``item_extra(metric, sample)`` adds values to a scored item (e.g. a quantity the bench derives
    from what the metric cached on the sample). Returns the metric (None when it could not be
    built) and its part for :func:`eval.run.aggregate.aggregate_metric`.
    """
    metric, unavailable = None, plan.unavailable
    if unavailable is None:
        try:
            metric = plan.create(device)
        except Exception as exc:  # a metric that cannot even be built: its column is missing with the reason
            unavailable = f"cannot create metric: {type(exc).__name__}: {exc}"
    run = MetricRun(plan.key, metric, Path(os.devnull), unavailable=unavailable)
    if run.unavailable is None:
        metric.reset()
        complete = ItemInputs({}, {}, {})
        for sample in samples:
            if not _score_item(run, sample, complete, label):
                break  # weights missing: the metric is unavailable
            if item_extra is not None and sample.id in run.values:
                run.values[sample.id].update(_clean_values(item_extra(metric, sample)))
    part = {"unavailable": run.unavailable, "seconds": run.seconds, "payload": run.payload(),
            "state": copy.deepcopy(metric.state()) if run.unavailable is None else None}
    return metric, part
