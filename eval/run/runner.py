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
from eval.cache import FileHasher, content_key
from eval.data.selection import spread_subset
from eval.run.aggregate import (
    Aggregate,
    aggregate_generation,
    aggregate_metric,
    results_record,
    write_records,
)
from eval.run.distributed import World
from eval.run.generate import GenRecord, generate_item
from eval.run.lock import RunLock, RunLocked
from eval.run.plugins import MetricPlan, plan_metric
from eval.run.score import MetricRun, score_system
from eval.systems.base import Context, System
from eval.tables.specs import TableSpec, get_table
from ttsf.atomic import atomic_write_json
from ttsf.data.manifest import Item
from ttsf.inputs import SAFE_NAME, InputError, inside, safe_name, writable_dir
from ttsf.names import UnknownName
from ttsf.paths import EVAL_RUNS

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
    out: str = EVAL_RUNS
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


@dataclasses.dataclass
class RunState:
    """What a run has resolved before scoring starts, shared by its steps (rank 0 aggregates from it)."""

    cfg: RunConfig
    spec: TableSpec
    world: World
    started: str  # ISO time the run started
    wall0: float  # perf_counter at the start
    split_name: str = ""
    synthetic: bool = False
    manifest: Any = None
    root: Optional[Path] = None
    items: list[Item] = dataclasses.field(default_factory=list)
    systems: list[System] = dataclasses.field(default_factory=list)
    skipped: dict[str, str] = dataclasses.field(default_factory=dict)
    plans: list[MetricPlan] = dataclasses.field(default_factory=list)
    metric_objs: dict[str, Any] = dataclasses.field(default_factory=dict)
    run_id: str = ""
    run_dir: Optional[Path] = None
    timing: collections.Counter = dataclasses.field(default_factory=collections.Counter)


def run(cfg: RunConfig, world: Optional[World] = None) -> Optional[RunResult]:
    """Run the evaluation; returns the result on rank 0 (``None`` on other ranks)."""
    world = world or World()
    wall0 = time.perf_counter()
    started = res.now_iso()
    _check_names(cfg)
    spec = get_table(cfg.table)
    if spec.kind not in ("metrics", "figure"):
        raise RunError(f"{spec.title} is not computed by `eval.run`: {spec.note or spec.kind}")
    state = RunState(cfg, spec, world, started, wall0)
    _load_items(state)
    _setup(state)
    lock = _lock(state)
    try:
        if world.is_main:
            atomic_write_json(state.run_dir / "config.json",
                              {"config": dataclasses.asdict(cfg), "split": state.split_name,
                               "split_sha256": state.manifest.sha256, "run_id": state.run_id})
        world.barrier()
        gathered = world.gather(_evaluate(state))
        if not world.is_main:
            return None
        return _finish(state, gathered)
    finally:
        if lock is not None:
            lock.release()


def _check_names(cfg: RunConfig) -> None:
    """``--out``, ``--run-id`` and the system labels, refused before any work."""
    check_out(cfg.out)
    if cfg.run_id is not None:
        _checked(safe_name, cfg.run_id, "--run-id")
    for text in cfg.systems or []:
        label, sys_spec = parse_system(text)
        if label != sys_spec or not sys_spec.startswith("dir:"):  # a bare dir:PATH is named by a hash
            _checked(safe_name, label, "system name")


def _load_items(state: RunState) -> None:
    """The split, its data root and the items to score (``--limit``) into ``state``."""
    from eval.data.roots import DataRootError
    from eval.data.splits import load_split

    cfg = state.cfg
    state.split_name, state.synthetic = split_name, synthetic = resolve_split(state.spec, cfg)
    data_t0 = time.perf_counter()
    data_root = cfg.data_root
    if data_root is None and synthetic:
        from eval.synth import default_corpus

        data_root = str(default_corpus(cfg.corpus))  # built on demand, cached
    try:
        manifest, root = load_split(split_name, data_root)
    except DataRootError as exc:
        raise RunError(str(exc)) from exc
    if not Path(root).is_dir():
        raise RunError(f"the data of split {split_name} is not there: {root} does not exist "
                       f"(data root {data_root}); see `python -m eval.run ls splits`")
    data_prep = time.perf_counter() - data_t0
    state.manifest, state.root = manifest, Path(root)
    # --limit K: a deterministic subset spread over speakers (not the first K ids, which
    # would all come from one speaker)
    state.items = (spread_subset(manifest.items, min(cfg.limit, len(manifest)), LIMIT_SEED)
                   if cfg.limit else list(manifest.items))
    if not state.items:
        raise RunError(f"split {split_name} has no items")
    state.timing["data_prep"] = data_prep  # building the synthetic corpus (first use) + reading the split


def _setup(state: RunState) -> None:
    """Systems, metric plans, the run id and folder into ``state``; warns about missing weights."""
    t = time.perf_counter()
    state.systems, state.skipped = create_systems(state.spec, state.cfg, state.synthetic)
    state.plans = plan_metrics(state.spec, state.cfg, state.synthetic)
    state.timing["setup_model"] += time.perf_counter() - t
    if state.world.is_main:
        for plan in state.plans:
            for name in sorted(plan.missing):
                log.warning("%s/%s needs weights %r (column shown as missing): python -m eval.weights download %s",
                            plan.key, plan.backend.name, name, name)
    state.run_id = state.cfg.run_id or make_run_id(state.cfg, state.split_name, state.manifest.sha256)
    state.run_dir = _run_dir(state.cfg.out, state.run_id)


def _lock(state: RunState) -> Optional[RunLock]:
    """Rank 0 takes the run folder's lock; every rank raises RunError when it is refused."""
    world, run_dir = state.world, state.run_dir
    lock = RunLock(run_dir, state.started) if world.is_main else None
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
    return lock


def _create_metrics(state: RunState) -> None:
    """One metric object per available plan; a metric that cannot be built makes its plan unavailable."""
    t = time.perf_counter()
    for plan in state.plans:
        if plan.unavailable is None:
            try:
                state.metric_objs[plan.key] = plan.create(state.cfg.device,
                                                          **state.cfg.metric_options.get(plan.name, {}))
            except Exception as exc:  # a metric that cannot even be built: its column is missing with the reason
                plan.unavailable = f"cannot create metric: {type(exc).__name__}: {exc}"
    state.timing["setup_model"] += time.perf_counter() - t


def _evaluate(state: RunState) -> dict:
    """Generate and score this rank's share of the items with every system: the payload rank 0 gathers."""
    my_items = state.world.shard(state.items)
    quiet = state.cfg.quiet or not state.world.is_main
    hasher = FileHasher()
    payload: dict[str, Any] = {"gen": {}, "metrics": {}}
    _create_metrics(state)
    for system in state.systems:
        gens = _generate(state, system, my_items, hasher, quiet)
        runs = _metric_runs(state, system)
        _score(state, system, my_items, gens, runs, hasher, quiet)
        payload["gen"][system.name] = {i: dataclasses.asdict(g) | {"video": _s(g.video), "audio": _s(g.audio)}
                                       for i, g in gens.items()}
        payload["metrics"][system.name] = {
            r.key: {"unavailable": r.unavailable, "payload": r.payload(), "resumed": r.resumed, "seconds": r.seconds,
                    "state": copy.deepcopy(r.metric.state()) if r.unavailable is None else None}
            for r in runs
        }
        state.timing["metric_update"] += sum(r.seconds for r in runs)
    payload["timing"] = dict(state.timing)
    return payload


def _generate(state: RunState, system: System, my_items: list[Item], hasher: FileHasher,
              quiet: bool) -> dict[str, GenRecord]:
    out_dir = state.run_dir / "samples" / _safe(system.name)
    ctx = Context(state.root, out_dir, state.cfg.seed, state.cfg.device)
    gens: dict[str, GenRecord] = {}
    with _bar(len(my_items), f"generate {system.name}", quiet) as bar:
        for item in my_items:
            t = time.perf_counter()
            rec = generate_item(system, item, ctx, hasher)
            state.timing["generate_total"] += time.perf_counter() - t
            state.timing["generate_model"] += rec.seconds
            gens[item.id] = rec
            bar.update(1)
    return gens


def _metric_runs(state: RunState, system: System) -> list[MetricRun]:
    """One MetricRun per plan for ``system`` (unavailable with the reason where it cannot be scored)."""
    tag = f"r{state.world.rank}of{state.world.size}"
    runs = []
    for plan in state.plans:
        metric = state.metric_objs.get(plan.key)
        reason = plan.unavailable
        if reason is None:
            lacking = _lacking(system, metric)
            reason = f"{system.name} produces no {' or '.join(lacking)}" if lacking else None
        ckpt = state.run_dir / "state" / _safe(system.name) / f"{plan.key}.{tag}.ckpt"
        runs.append(MetricRun(plan.key, metric, ckpt, unavailable=reason))
    return runs


def _score(state: RunState, system: System, my_items: list[Item], gens: dict[str, GenRecord],
           runs: list[MetricRun], hasher: FileHasher, quiet: bool) -> None:
    t = time.perf_counter()
    with contextlib.ExitStack() as stack:
        bar, metric_bars = _score_bars(stack, system.name, runs, len(my_items), quiet)
        part = score_system(system.name, my_items, gens, state.root, runs, state.cfg.seed, hasher,
                            progress=bar.update,
                            metric_progress=lambda key, n: metric_bars[key].update(n) if key in metric_bars else None)
    state.timing["score_total"] += time.perf_counter() - t
    for k, v in part.items():
        state.timing[f"score_{k}"] += v


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


def _finish(state: RunState, gathered: list[dict]) -> RunResult:
    """Rank 0: aggregate the ranks' payloads, attach intervals, build results.json and write the run."""
    from eval.tables.render import write_tables

    timing = _merged_timing(gathered)
    agg = Aggregate()
    for system in state.systems:
        aggregate_generation(agg, system.name, gathered)
        agg.scores[system.name] = {}
        agg.details[system.name] = {}
        for plan in state.plans:
            aggregate_metric(agg, system.name, plan, state.metric_objs.get(plan.key),
                             [p["metrics"][system.name][plan.key] for p in gathered], len(state.items),
                             state.cfg.seed, keep_state=state.spec.kind == "figure")
    figure = _figure(state, agg)
    timing["compute"] = agg.compute_s
    results = _results_schema(state, agg, timing, figure)
    write_records(state.run_dir, agg.item_lines, results)
    write_tables(results, state.run_dir)
    return RunResult(state.run_dir, results, agg.failures)


def _merged_timing(gathered: list[dict]) -> collections.Counter:
    timing = collections.Counter()
    for k, part in enumerate(gathered):
        if k:  # data preparation happens on every rank at once: count it once
            part["timing"].pop("data_prep", None)
        timing.update(part["timing"])
    return timing


def _figure(state: RunState, agg: Aggregate) -> Optional[dict]:
    """The t-SNE figure of a figure table (its time counts as compute)."""
    if state.spec.kind != "figure":
        return None
    from eval.tables.figure5 import write_figure

    t = time.perf_counter()
    figure = write_figure(state.run_dir, agg.figure_states, {it.id: it.speaker for it in state.items}, state.cfg.seed)
    agg.compute_s += time.perf_counter() - t
    return figure


def _results_schema(state: RunState, agg: Aggregate, timing: collections.Counter, figure: Optional[dict]) -> dict:
    """results.json of the run (schema: eval.results)."""
    cfg, world, split_name = state.cfg, state.world, state.split_name
    split = {"name": split_name, "sha256": state.manifest.sha256, "n_items": len(state.items), "limit": cfg.limit,
             "limit_rule": f"spread_subset(seed={LIMIT_SEED!r})" if cfg.limit else None,
             "synthetic": split_name.startswith("synth"), "data_root": cfg.data_root, "root": str(state.root),
             "corpus": cfg.corpus if split_name.startswith("synth") and cfg.data_root is None else None}
    wall = time.perf_counter() - state.wall0
    provenance = {**res.provenance(cfg.device), "started": state.started, "finished": res.now_iso(),
                  "wall_time_s": round(wall, 3), "world_size": world.size}
    # Model time: building systems/metrics (imports, weights), generating, metric update/compute.
    # Everything else (split loading, hashing, checkpoints, aggregation, writing) is harness overhead.
    model = timing["setup_model"] / max(1, world.size) + timing["generate_model"] / max(1, world.size) \
        + timing["metric_update"] / max(1, world.size) + agg.compute_s
    timing_out = {**{k: round(v, 4) for k, v in sorted(timing.items())}, "model_s": round(model, 4),
                  "harness_overhead_s": round(max(0.0, wall - model - timing["data_prep"]), 4)}
    systems = {s.name: {"config": s.config(), "provenance": s.provenance(), "produces": list(s.produces),
                        "speech_source": s.speech_source, "generation": agg.gen_summary[s.name],
                        **_placeholder_marks(s)} for s in state.systems}
    return results_record(run_id=state.run_id, table=state.spec.key, split=split, config=dataclasses.asdict(cfg),
                          seed=cfg.seed, provenance=provenance, timing=timing_out, systems=systems,
                          skipped=state.skipped, plans=state.plans, agg=agg, figure=figure)


def _placeholder_marks(system: System) -> dict:
    """``placeholder`` (the random-init weight files) and ``comparable: false`` for such a row."""
    files = system.placeholder_files()
    return {"placeholder": files, "comparable": False} if files else {}


