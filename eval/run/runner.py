"""One evaluation run: resolve the split, systems and metrics; generate; score; aggregate.

Run layout (``<out>/<run_id>/``)::

    config.json           the resolved configuration (written first)
    samples/<system>/     generated <id>.mp4 / <id>.wav (+ <id>.gen.json cache sidecars)
    state/<system>/       per-metric checkpoints (resume after a kill)
    items.jsonl           one line per item x metric output: value, or error + reason
    results.json          aggregate scores + provenance (schema: eval.results)
    table<N>.{md,tex,csv} rendered tables (ours beside the paper's)

The run id is a hash of the configuration, so rerunning the same command resumes the
same folder: finished generations and per-item scores are reused.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import dataclasses
import logging
import time
from pathlib import Path
from typing import Any, Optional

from eval import results as res
from eval.cache import FileHasher, canonical_json, content_key
from ttsf.atomic import atomic_write_json, atomic_write_text
from ttsf.data.manifest import Item
from eval.data.selection import spread_subset
from eval.run.distributed import World
from eval.run.generate import GenRecord, generate_item
from eval.run.plugins import MetricPlan, plan_metric, weights_hashes
from eval.run.score import MetricRun, score_system
from eval.systems.base import Context, System
from ttsf.names import UnknownName
from eval.run.lock import RunLock, RunLocked
from eval.tables.specs import TableSpec, get_table
from ttsf.inputs import SAFE_NAME, InputError, inside, safe_name, writable_dir

#: seed of the --limit subset (recorded in results.json with the limit)
LIMIT_SEED = "ttsf-bench/limit/v1"

log = logging.getLogger(__name__)


class RunError(Exception):
    """A run that cannot start (bad configuration); the message says what to do."""


@dataclasses.dataclass
class RunConfig:
    """Everything that defines a run (the CLI flags)."""

    table: str = "1"
    split: Optional[str] = None
    systems: Optional[list[str]] = None  # None: the table's defaults that are ready
    metrics: Optional[list[str]] = None  # None: the table's columns
    backends: dict = dataclasses.field(default_factory=dict)  # metric -> backend
    limit: Optional[int] = None
    data_root: Optional[str] = None
    out: str = "results/runs"
    device: str = "cpu"
    seed: int = 0
    run_id: Optional[str] = None
    quiet: bool = False
    metric_options: dict = dataclasses.field(default_factory=dict)  # metric -> {option: value}
    corpus: str = "default"  # bundled synthetic corpus preset used without --data-root
    allow_placeholder: bool = False  # accept random-init placeholder weights (tests; rows marked placeholder)

    def identity(self) -> dict:
        """The fields that select what is computed (the run id hashes these)."""
        return {k: getattr(self, k) for k in ("table", "split", "systems", "metrics", "backends", "limit",
                                               "data_root", "device", "seed", "metric_options", "corpus")}


@dataclasses.dataclass
class RunResult:
    run_dir: Path
    results: dict
    failures: list  # (system, metric, n_failed, n_total, top reason)


def resolve_split(spec: TableSpec, cfg: RunConfig) -> tuple[str, bool]:
    """``(split name, synthetic?)`` for the run."""
    from eval.data.splits import split_def

    if cfg.split:
        name = cfg.split
    elif cfg.data_root is None and spec.synth_split:
        name = spec.synth_split
    elif spec.paper_split:
        name = spec.paper_split
    else:
        raise RunError(f"table {spec.key} has no default split; pass --split")
    return name, split_def(name).dataset == "synth"


def parse_system(text: str) -> tuple[str, str]:
    """``"name=dir:PATH"`` or ``"name"`` -> ``(label, system spec)``."""
    if "=" in text and text.split("=", 1)[1].startswith("dir:"):
        label, spec = text.split("=", 1)
        return label, spec
    return text, text


def create_systems(spec: TableSpec, cfg: RunConfig, synthetic: bool) -> tuple[list[System], dict[str, str]]:
    """The systems to run and, for defaults that are not ready, why they were skipped."""
    from eval.systems import create

    explicit = cfg.systems is not None
    wanted = cfg.systems if explicit else spec.default_systems(synthetic)
    systems, skipped = [], {}
    for text in wanted:
        label, sys_spec = parse_system(text)
        try:
            system = create(sys_spec, name=label) if sys_spec.startswith("dir:") else create(sys_spec)
        except UnknownName:
            if explicit:
                raise
            skipped[label] = "not registered in eval/systems"
            continue
        except ImportError as exc:
            if explicit:
                raise RunError(f"system {label!r} cannot be loaded: {exc}") from exc
            skipped[label] = f"cannot be loaded: {exc}"
            continue
        system.allow_placeholder = cfg.allow_placeholder
        ok, reason = system.readiness()
        if not ok:
            if explicit:
                raise RunError(f"system {label!r} is not ready: {reason}")
            skipped[label] = reason
            continue
        systems.append(system)
    if not systems:
        raise RunError("no system to run: " + "; ".join(f"{k}: {v}" for k, v in skipped.items()))
    names = [s.name for s in systems]
    if len(set(names)) != len(names):
        raise RunError(f"duplicate system names: {names}")
    return systems, skipped


def plan_metrics(spec: TableSpec, cfg: RunConfig, synthetic: bool) -> list[MetricPlan]:
    explicit = cfg.metrics is not None
    names = cfg.metrics if explicit else spec.metrics()
    plans = [plan_metric(n, synthetic, cfg.backends.get(n), explicit) for n in names]
    unknown = set(cfg.backends) - {p.name for p in plans} - {p.key for p in plans}
    if unknown:
        raise RunError(f"--backend given for metric(s) not in this run: {', '.join(sorted(unknown))}")
    return plans


def make_run_id(cfg: RunConfig, split_name: str, split_sha: str) -> str:
    digest = content_key("run", cfg.identity(), split_sha)[:10]
    if split_name.startswith("dir:"):  # a folder split: its path is no folder name
        split_name = "dir-" + "".join(c if c.isalnum() or c in "._-" else "_" for c in Path(split_name[4:]).name)
    return f"table{cfg.table}-{split_name}-{digest}"


def _bar(total: int, desc: str, disable: bool, position: Optional[int] = None):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, disable=disable, unit="item", dynamic_ncols=True, leave=False,
                position=position)


def _score_bars(stack: contextlib.ExitStack, system: str, runs: list[MetricRun], total: int, quiet: bool):
    """The items bar of ``system`` (position 0) and one bar per metric to run beneath it (1..k)."""
    items = stack.enter_context(_bar(total, f"score {system}", quiet, position=0))
    per_metric = {}
    for pos, r in enumerate((r for r in runs if r.unavailable is None), start=1):
        per_metric[r.key] = stack.enter_context(_bar(total, f"  {r.key}", quiet, position=pos))
    return items, per_metric


def run(cfg: RunConfig, world: Optional[World] = None) -> Optional[RunResult]:
    """Run the evaluation; returns the result on rank 0 (``None`` on other ranks)."""
    world = world or World()
    wall0 = time.perf_counter()
    started = res.now_iso()
    check_out(cfg.out)
    if cfg.run_id is not None:
        _checked(safe_name, cfg.run_id, "--run-id")
    for text in cfg.systems or []:
        label, sys_spec = parse_system(text)
        if label != sys_spec or not sys_spec.startswith("dir:"):  # a bare dir:PATH is named by a hash
            _checked(safe_name, label, "system name")
    spec = get_table(cfg.table)
    if spec.kind not in ("metrics", "figure"):
        raise RunError(f"{spec.title} is not computed by `eval.run`: {spec.note or spec.kind}")
    split_name, synthetic = resolve_split(spec, cfg)
    from eval.data.splits import load_split

    data_t0 = time.perf_counter()
    data_root = cfg.data_root
    if data_root is None and synthetic:
        from eval.synth import default_corpus

        data_root = str(default_corpus(cfg.corpus))  # built on demand, cached
    from eval.data.roots import DataRootError

    try:
        manifest, root = load_split(split_name, data_root)
    except DataRootError as exc:
        raise RunError(str(exc)) from exc
    if not Path(root).is_dir():
        raise RunError(f"the data of split {split_name} is not there: {root} does not exist "
                       f"(data root {data_root}); see `python -m eval.run ls splits`")
    data_prep = time.perf_counter() - data_t0
    root = Path(root)
    # --limit K: a deterministic subset spread over speakers (not the first K ids, which
    # would all come from one speaker)
    items: list[Item] = (spread_subset(manifest.items, min(cfg.limit, len(manifest)), LIMIT_SEED)
                         if cfg.limit else list(manifest.items))
    if not items:
        raise RunError(f"split {split_name} has no items")
    timing = collections.Counter()
    timing["data_prep"] = data_prep  # building the synthetic corpus (first use) + reading the split
    t = time.perf_counter()
    systems, skipped = create_systems(spec, cfg, synthetic)
    plans = plan_metrics(spec, cfg, synthetic)
    timing["setup_model"] += time.perf_counter() - t
    if world.is_main:
        for plan in plans:
            for name in sorted(plan.missing):
                log.warning("%s/%s needs weights %r (column shown as missing): python -m eval.weights download %s",
                            plan.key, plan.backend.name, name, name)
    run_id = cfg.run_id or make_run_id(cfg, split_name, manifest.sha256)
    run_dir = _run_dir(cfg.out, run_id)
    lock = RunLock(run_dir, started) if world.is_main else None
    refused = None
    if lock is not None:
        try:
            lock.acquire()
        except RunLocked as exc:
            refused = str(exc)
        except OSError as exc:
            refused = f"cannot write the run folder {run_dir}: {exc.strerror or exc}"
    if world.distributed:  # every rank learns whether rank 0 holds the lock (none waits at a barrier forever)
        import torch.distributed as dist

        box = [refused]
        dist.broadcast_object_list(box, src=0)
        refused = box[0]
    if refused is not None:
        raise RunError(refused)
    try:
        if world.is_main:
            atomic_write_json(run_dir / "config.json", {"config": dataclasses.asdict(cfg), "split": split_name,
                                                        "split_sha256": manifest.sha256, "run_id": run_id})
        world.barrier()
        my_items = world.shard(items)
        quiet = cfg.quiet or not world.is_main
        hasher = FileHasher()
        payload: dict[str, Any] = {"gen": {}, "metrics": {}}
        metric_objs: dict[str, Any] = {}
        t = time.perf_counter()
        for plan in plans:
            if plan.unavailable is None:
                try:
                    metric_objs[plan.key] = plan.create(cfg.device, **cfg.metric_options.get(plan.name, {}))
                except Exception as exc:  # a metric that cannot even be built: its column is missing with the reason
                    plan.unavailable = f"cannot create metric: {type(exc).__name__}: {exc}"
        timing["setup_model"] += time.perf_counter() - t
        tag = f"r{world.rank}of{world.size}"
        for system in systems:
            out_dir = run_dir / "samples" / _safe(system.name)
            ctx = Context(root, out_dir, cfg.seed, cfg.device)
            gens: dict[str, GenRecord] = {}
            with _bar(len(my_items), f"generate {system.name}", quiet) as bar:
                for item in my_items:
                    t = time.perf_counter()
                    rec = generate_item(system, item, ctx, hasher)
                    timing["generate_total"] += time.perf_counter() - t
                    timing["generate_model"] += rec.seconds
                    gens[item.id] = rec
                    bar.update(1)
            runs = []
            for plan in plans:
                metric = metric_objs.get(plan.key)
                reason = plan.unavailable
                if reason is None:
                    lacking = _lacking(system, metric)
                    reason = f"{system.name} produces no {' or '.join(lacking)}" if lacking else None
                runs.append(MetricRun(plan.key, metric, run_dir / "state" / _safe(system.name) / f"{plan.key}.{tag}.ckpt",
                                      unavailable=reason))
            t = time.perf_counter()
            with contextlib.ExitStack() as stack:
                bar, metric_bars = _score_bars(stack, system.name, runs, len(my_items), quiet)
                part = score_system(system.name, my_items, gens, root, runs, cfg.seed, hasher, progress=bar.update,
                                    metric_progress=lambda key, n: metric_bars[key].update(n) if key in metric_bars else None)
            timing["score_total"] += time.perf_counter() - t
            for k, v in part.items():
                timing[f"score_{k}"] += v
            payload["gen"][system.name] = {i: dataclasses.asdict(g) | {"video": _s(g.video), "audio": _s(g.audio)}
                                           for i, g in gens.items()}
            payload["metrics"][system.name] = {
                r.key: {"unavailable": r.unavailable, "payload": r.payload(), "resumed": r.resumed, "seconds": r.seconds,
                        "state": copy.deepcopy(r.metric.state()) if r.unavailable is None else None}
                for r in runs
            }
            timing["metric_update"] += sum(r.seconds for r in runs)
        payload["timing"] = dict(timing)
        gathered = world.gather(payload)
        if not world.is_main:
            return None
        return _finish(cfg, spec, run_id, run_dir, split_name, manifest, items, systems, skipped, plans, metric_objs,
                       gathered, started, wall0, world, root)
    finally:
        if lock is not None:
            lock.release()


def _checked(check, value, what):
    try:
        return check(value, what)
    except InputError as exc:
        raise RunError(str(exc)) from exc


def check_out(out) -> Path:
    """``--out``: a folder that exists (or can be created) and is writable; RunError otherwise."""
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise RunError(f"--out {path} exists and is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunError(f"--out {path}: cannot create the folder: {exc.strerror or exc}") from exc
    problem = writable_dir(path)
    if problem:
        raise RunError(f"--out {path} is not writable ({problem})")
    return path


def _run_dir(out, run_id: str) -> Path:
    """``<out>/<run_id>``, refused unless it is a safe name that stays inside ``out``."""
    _checked(safe_name, run_id, "run id")
    return _checked(lambda rid, what: inside(out, rid, what), run_id, "run id")


def _s(p: Optional[Path]) -> Optional[str]:
    return str(p) if p is not None else None


def _safe(name: str) -> str:
    """A folder name for a system (``dir:PATH`` systems, and any name that is not a safe
    file name, get a hash)."""
    if name.startswith("dir:") or not SAFE_NAME.fullmatch(name):
        return "dir-" + content_key(name)[:8]
    return name


def _lacking(system: System, metric) -> list[str]:
    need = set(metric.spec.needs)
    out = []
    if "gen_video" in need and "video" not in system.produces:
        out.append("video")
    if "gen_audio" in need and "audio" not in system.produces:
        out.append("audio")
    return out


def _top_reason(errors: dict) -> str:
    counts = collections.Counter(e["reason"] for e in errors.values())
    reason, n = counts.most_common(1)[0]
    more = f" (+{len(counts) - 1} other reasons)" if len(counts) > 1 else ""
    return f"{reason} [{n}x]{more}"


def _finish(cfg, spec, run_id, run_dir, split_name, manifest, items, systems, skipped, plans, metric_objs,
            gathered, started, wall0, world, root) -> RunResult:
    n_total = len(items)
    item_lines: list[dict] = []
    scores: dict[str, dict] = {}
    details: dict[str, dict] = {}
    failures: list[tuple] = []
    gen_summary: dict[str, dict] = {}
    timing = collections.Counter()
    for k, part in enumerate(gathered):
        if k:  # data preparation happens on every rank at once: count it once
            part["timing"].pop("data_prep", None)
        timing.update(part["timing"])
    compute_s = 0.0
    figure_states: dict[str, dict] = {}
    metric_seconds: dict[str, dict] = {}
    compute_seconds: dict[str, dict] = {}
    for system in systems:
        gens = {}
        for part in gathered:
            gens.update(part["gen"][system.name])
        gen_failed = {i: g for i, g in gens.items() if g["error"]}
        gen_summary[system.name] = {"n": len(gens), "ok": len(gens) - len(gen_failed), "failed": len(gen_failed),
                                    "cached": sum(1 for g in gens.values() if g["cached"])}
        for i, g in sorted(gen_failed.items()):
            item_lines.append({"system": system.name, "id": i, "stage": "generate", "error": g["error"],
                               "reason": g["reason"]})
        scores[system.name] = {}
        details[system.name] = {}
        for plan in plans:
            parts = [p["metrics"][system.name][plan.key] for p in gathered]
            metric_seconds.setdefault(system.name, {})[plan.key] = round(sum(p["seconds"] for p in parts), 3)
            unavailable = next((p["unavailable"] for p in parts if p["unavailable"]), None)
            values: dict = {}
            errors: dict = {}
            for p in parts:
                values.update(p["payload"]["values"])
                errors.update(p["payload"]["errors"])
            for i in sorted(set(values) | set(errors)):
                if i in errors:
                    item_lines.append({"system": system.name, "id": i, "metric": plan.key, **errors[i]})
                for out, v in sorted(values.get(i, {}).items()):
                    line = {"system": system.name, "id": i, "metric": plan.key, "output": out, "value": v}
                    if v is None:
                        line.update(error="non_finite", reason="the metric returned a non-finite value")
                    item_lines.append(line)
            outputs = _outputs(plan)
            if unavailable:
                for out in outputs:
                    scores[system.name][out] = res.score_cell(None, unavailable, plan.key, 0, n_total, 0, None, None)
                continue
            metric = metric_objs[plan.key]
            n_ok = n_total - len(errors)
            if n_ok == 0:
                reason = f"all {n_total} items failed: {_top_reason(errors)}"
                for out in outputs:
                    scores[system.name][out] = res.score_cell(None, reason, plan.key, 0, n_total, len(errors), None, None)
                failures.append((system.name, plan.key, len(errors), n_total, _top_reason(errors)))
                continue
            if errors:
                failures.append((system.name, plan.key, len(errors), n_total, _top_reason(errors)))
            t = time.perf_counter()
            metric.reset()
            for p in parts:
                metric.merge(p["state"])
            try:
                computed = dict(metric.compute())
            except Exception as exc:  # recorded as a missing value with the reason, never a number
                from eval.metrics.base import ItemError

                reason = exc.reason if isinstance(exc, ItemError) else f"{type(exc).__name__}: {exc}"
                computed = {}
                for out in outputs:
                    scores[system.name][out] = res.score_cell(None, f"compute failed: {reason}", plan.key, n_ok,
                                                              n_total, len(errors), None, None)
            corpus_cis: dict = {}
            ci_hook = getattr(metric, "corpus_ci", None)  # corpus-level CIs the metric makes itself (FID)
            if computed and callable(ci_hook):
                try:
                    corpus_cis = dict(ci_hook(cfg.seed))
                except Exception as exc:  # the value stands; its CI is missing with the reason
                    log.exception("%s/%s: confidence interval failed", system.name, plan.key)
                    corpus_cis = {out: {"ci95": None, "method": None, "reason": f"CI failed: {type(exc).__name__}: {exc}"}
                                  for out in outputs}
            compute_s += time.perf_counter() - t
            compute_seconds.setdefault(system.name, {})[plan.key] = round(time.perf_counter() - t, 3)
            if spec.kind == "figure":
                figure_states[system.name] = copy.deepcopy(metric.state())
            info = getattr(metric, "info", None)
            if isinstance(info, dict):
                details[system.name][plan.key] = info
            allowed = set(outputs) | set(plan.cls.spec.outputs)
            extra = {k: v for k, v in computed.items() if k not in allowed}
            if extra:
                details[system.name].setdefault(plan.key, {})["extra_outputs"] = extra
            ci_reasons = {out: c["reason"] for out, c in corpus_cis.items() if c.get("ci95") is None and c.get("reason")}
            if ci_reasons:
                details[system.name].setdefault(plan.key, {})["ci_reasons"] = ci_reasons
            for out, value in computed.items():
                if out not in allowed:
                    continue
                per_item = [v[out] for v in values.values() if v.get(out) is not None]
                item_level = metric.spec.level == "item" and bool(per_item)
                summary = res.summarise(per_item, cfg.seed) if item_level else None
                n = len(per_item) if item_level else n_ok
                ci_method = "percentile bootstrap of the item mean (1000 resamples)" if summary and summary.ci95 else None
                ratio = getattr(plan.cls, "ratio_outputs", {}).get(out)
                if not item_level and ratio is not None:
                    num_key, den_key, scale = ratio
                    pairs = [(v[num_key], v[den_key]) for v in values.values()
                             if v.get(num_key) is not None and v.get(den_key) is not None]
                    ci = res.ratio_bootstrap_ci([a for a, _ in pairs], [b for _, b in pairs], cfg.seed, scale=scale)
                    if ci is not None:
                        summary = res.Summary(len(pairs), float(value), None, ci)
                        ci_method = f"percentile bootstrap over items of the corpus ratio {num_key}/{den_key} (1000 resamples)"
                corpus_ci = corpus_cis.get(out)
                if not item_level and corpus_ci is not None and corpus_ci.get("ci95") is not None:
                    summary = res.Summary(n, float(value), None, tuple(corpus_ci["ci95"]))
                    ci_method = corpus_ci["method"]
                scores[system.name][out] = res.score_cell(
                    float(value), None, plan.key, n, n_total, n_total - n, summary, ci_method)
    figure = None
    if spec.kind == "figure":
        from eval.tables.figure5 import write_figure

        t = time.perf_counter()
        figure = write_figure(run_dir, figure_states, {it.id: it.speaker for it in items}, cfg.seed)
        compute_s += time.perf_counter() - t
    timing["compute"] = compute_s
    wall = time.perf_counter() - wall0
    # Model time: building systems/metrics (imports, weights), generating, metric update/compute.
    # Everything else (split loading, hashing, checkpoints, aggregation, writing) is harness overhead.
    model = timing["setup_model"] / max(1, world.size) + timing["generate_model"] / max(1, world.size) \
        + timing["metric_update"] / max(1, world.size) + compute_s
    results = {
        "schema": res.SCHEMA_VERSION,
        "run_id": run_id,
        "table": spec.key,
        "split": {"name": split_name, "sha256": manifest.sha256, "n_items": n_total, "limit": cfg.limit,
                  "limit_rule": f"spread_subset(seed={LIMIT_SEED!r})" if cfg.limit else None,
                  "synthetic": split_name.startswith("synth"), "data_root": cfg.data_root, "root": str(root),
                  "corpus": cfg.corpus if split_name.startswith("synth") and cfg.data_root is None else None},
        "config": dataclasses.asdict(cfg),
        "seed": cfg.seed,
        "provenance": {**res.provenance(cfg.device), "started": started, "finished": res.now_iso(),
                       "wall_time_s": round(wall, 3), "world_size": world.size},
        "timing": {**{k: round(v, 4) for k, v in sorted(timing.items())}, "model_s": round(model, 4),
                   "harness_overhead_s": round(max(0.0, wall - model - timing["data_prep"]), 4)},
        "systems": {s.name: {"config": s.config(), "provenance": s.provenance(), "produces": list(s.produces),
                             "speech_source": s.speech_source, "generation": gen_summary[s.name],
                             **_placeholder_marks(s)} for s in systems},
        "systems_skipped": skipped,
        "metrics": {p.key: _metric_meta(p) for p in plans},
        "scores": scores,
        "details": details,
        "figure": figure,
        "metric_seconds": metric_seconds,  # time inside metric.update this session, per system and metric
        "compute_seconds": compute_seconds,  # time of merge + compute (+ a metric's own CI), per system and metric
        "failures": [{"system": s, "metric": m, "n_failed": f, "n_total": t, "reason": r} for s, m, f, t, r in failures],
    }
    item_lines.sort(key=lambda d: (d["system"], d["id"], d.get("metric", ""), d.get("output", "")))
    atomic_write_text(run_dir / "items.jsonl", "".join(canonical_json(line) + "\n" for line in item_lines))
    atomic_write_json(run_dir / "results.json", results)
    from eval.tables.render import write_tables

    write_tables(results, run_dir)
    return RunResult(run_dir, results, failures)


def _placeholder_marks(system: System) -> dict:
    """``placeholder`` (the random-init weight files) and ``comparable: false`` for such a row."""
    files = system.placeholder_files()
    return {"placeholder": files, "comparable": False} if files else {}


def _outputs(plan: MetricPlan) -> list[str]:
    if plan.cls is None:
        return [plan.key]
    spec = plan.cls.spec
    outs = list(spec.outputs) or [spec.name]
    if plan.backend is not None and plan.backend.output_name and len(outs) == 1:
        outs = [plan.backend.output_name]
    return outs


def _metric_meta(plan: MetricPlan) -> dict:
    if plan.cls is None:
        return {"unavailable": plan.unavailable}
    spec = plan.cls.spec
    b = plan.backend
    return {
        "version": spec.version, "level": spec.level, "higher_is_better": spec.higher_is_better, "unit": spec.unit,
        "needs": list(spec.needs), "backend": b.name, "backend_paper": b.paper,
        "output_name": b.output_name, "weights": weights_hashes(b), "unavailable": plan.unavailable,
        "missing_weights": plan.missing,
    }
