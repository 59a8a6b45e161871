"""``python -m eval.run``: evaluate systems and print the paper's tables.

    python -m eval.run --table 1                       # synthetic corpus, offline backends
    python -m eval.run --table 1 --data-root DIR       # LRS2 split, the paper's backends
    python -m eval.run run --table 3 --systems gt,still --metrics wer,mcd --limit 10
    python -m eval.run ls tables|systems|metrics|splits|backends
    python -m eval.run table RUN_DIR --format tex      # re-render a finished run
    python -m eval.run score --system-dir DIR --split NAME --name NAME
    python -m eval.run --table 1 --split dir:PATH --systems gt,still --offline   # your folder of clips
    python -m eval.run selfcheck --data-root DIR [--limit N]   # is the lip-sync pipeline sane on GT clips?
    torchrun --nproc-per-node 2 -m eval.run --table 1  # distributed scoring (gloo)
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys
from pathlib import Path
from typing import Optional

from ttsf.inputs import InputError, check_device, nonneg_int, output_file, safe_name, safe_name_arg, seed_int
from ttsf.names import UnknownName
from ttsf.paths import EVAL_RUNS

log = logging.getLogger("eval.run")

SUBCOMMANDS = ("run", "ls", "table", "score")
#: items scored by default on the bundled synthetic corpus (keeps `make demo` within ~5 min on 2 cores)
DEMO_LIMIT = 4
LS_WHAT = ("tables", "systems", "metrics", "splits", "backends")


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _backends(text: str) -> dict[str, str]:
    out = {}
    for part in _csv(text):
        if "=" not in part:
            raise argparse.ArgumentTypeError(f"--backend wants metric=backend, got {part!r}")
        k, v = part.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _add_run_args(p: argparse.ArgumentParser, table_required: bool = True) -> None:
    p.add_argument("--table", default="1" if not table_required else None, required=table_required,
                   help="1, 2, 3, 5, 4 (MOS: with --mos ANSWERS_DIR, see docs/mos.md), fig5 (t-SNE figure)")
    p.add_argument("--split", default=None, help="split name (default: synth_test without --data-root, "
                   "else the table's paper split)")
    p.add_argument("--systems", type=_csv, default=None, help="comma list (default: the table's ready systems)")
    p.add_argument("--metrics", type=_csv, default=None, help="comma list (default: the table's columns)")
    p.add_argument("--backend", type=_backends, default={}, help="metric=backend,… overrides")
    p.add_argument("--limit", type=nonneg_int, default=None,
                   help="first K items of the split; 0 = all. Default: all, except the bundled synthetic corpus "
                        f"without --data-root, where the demo scores {DEMO_LIMIT} items spread over the speakers")
    p.add_argument("--data-root", default=None, help="folder holding lrs2/, lrs3/, vox2/ (or a synthetic corpus)")
    p.add_argument("--corpus", choices=("default", "tiny"), default="default",
                   help="bundled synthetic corpus preset used without --data-root (default: default)")
    p.add_argument("--out", default=EVAL_RUNS, help=f"runs folder (default {EVAL_RUNS})")
    p.add_argument("--run-id", type=safe_name_arg("--run-id"), default=None,
                   help="run folder name inside --out: letters, digits, '.', '_', '-' "
                        "(default: a hash of the configuration)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--seed", type=seed_int, default=0)
    p.add_argument("--format", choices=("md", "tex", "csv"), default="md", help="printed table format")
    p.add_argument("--check", type=Path, default=None, metavar="REF.json",
                   help="exit 1 when any reference value drifts beyond its tolerance")
    p.add_argument("--write-reference", type=Path, default=None, metavar="REF.json",
                   help="write this run's values as a reference file (for --check)")
    p.add_argument("--quiet", action="store_true", help="no progress bars, warnings only")
    p.add_argument("--mos", type=Path, default=None, metavar="ANSWERS_DIR",
                   help="table 4: score the raters' answer files in this folder (see docs/mos.md)")
    p.add_argument("--mos-key", type=Path, default=None, metavar="KEY.json",
                   help="the study's key.json (default: ANSWERS_DIR/key.json or ANSWERS_DIR/../key.json)")
    p.add_argument("--allow-placeholder", action="store_true",
                   help="run baselines whose weights are random-init placeholders (tests only: their rows are "
                        "marked placeholder, never comparable)")
    p.add_argument("--offline", action="store_true",
                   help="every metric without a --backend uses its offline backend (the one the synthetic demo "
                        "uses; not paper-comparable), e.g. on --split dir:PATH where the paper's weights are absent")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m eval.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    _add_run_args(sub.add_parser("run", help="generate, score and print a table"), table_required=False)
    p = sub.add_parser("ls", help="list tables, systems, metrics, splits or backends with readiness")
    p.add_argument("what", choices=LS_WHAT)
    p.add_argument("--data-root", default=None)
    p = sub.add_parser("table", help="re-render a finished run")
    p.add_argument("run_dir", type=Path)
    p.add_argument("--format", choices=("md", "tex", "csv"), default="md")
    p = sub.add_parser("score", help="score outputs already on disk (<id>.mp4 / <id>.wav)")
    p.add_argument("--system-dir", required=True, type=Path)
    p.add_argument("--name", required=True, help="row name for these outputs")
    _add_run_args(p, table_required=False)
    return parser


def _setup_logging(quiet: bool, rank: int) -> None:
    level = logging.WARNING if quiet or rank else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    # OpenCV 5's DNN engine prints "[ WARN ] setPreferableTarget ... not supported" for every
    # YuNet/SFace network it builds: harmless, but it buries the progress output. Errors stay on.
    import cv2.utils.logging as cv_logging

    cv_logging.setLogLevel(cv_logging.LOG_LEVEL_ERROR)


def _config(args):
    from eval.run.runner import RunConfig

    return RunConfig(table=str(args.table), split=args.split, systems=args.systems, metrics=args.metrics,
                     backends=args.backend, limit=args.limit, data_root=args.data_root, out=args.out,
                     device=args.device, seed=args.seed, run_id=args.run_id, quiet=args.quiet,
                     corpus=args.corpus, allow_placeholder=args.allow_placeholder)


def cmd_mos(args) -> int:
    """``--table 4 --mos ANSWERS_DIR``: Table 4 from human ratings (eval.mos), written like a run folder."""
    from eval.mos.keyfile import CliError
    from eval.mos.score import report_text, score_files
    from eval.tables.render import render, write_tables
    from ttsf.atomic import atomic_write_json

    if str(args.table) not in ("4", "table4"):
        print(f"error: --mos scores MOS answers for table 4, not table {args.table}", file=sys.stderr)
        return 2
    key = args.mos_key or next((p for p in (args.mos / "key.json", args.mos.parent / "key.json") if p.is_file()),
                               args.mos / "key.json")
    try:
        results = score_files([args.mos], key)
        run_dir = Path(args.out) / (args.run_id or results["run_id"])
        atomic_write_json(run_dir / "results.json", results)
        write_tables(results, run_dir)
    except (CliError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(render(results, args.format))
    print(report_text(results), end="")
    print(f"run folder: {run_dir}")
    return 0


def _offline_backends(args) -> dict[str, str]:
    """``--offline``: the offline backend of every metric of the run not named in ``--backend``."""
    from eval.run.plugins import choose_backend, metric_class
    from eval.tables.specs import get_table

    out = dict(args.backend)
    for name in args.metrics or get_table(str(args.table)).metrics():
        if name not in out:
            out[name] = choose_backend(metric_class(name), synthetic=True).name
    return out


def cmd_run(args, systems_override: Optional[list[str]] = None) -> int:
    if getattr(args, "mos", None) is not None:
        return cmd_mos(args)
    from eval.run.distributed import init_world, shutdown
    from eval.run.runner import RunError, run

    problem = _precheck(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    world = init_world()
    _setup_logging(args.quiet, world.rank)
    try:
        bind_rank_device(args.device)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        shutdown(world)
        return 2
    if getattr(args, "offline", False):
        args.backend = _offline_backends(args)
    cfg, demo_note = _run_config(args, systems_override)
    refusal = _demo_checkpoint_refusal(cfg)
    if refusal:
        print(f"error: {refusal}", file=sys.stderr)
        shutdown(world)
        return 2
    try:
        result = run(cfg, world)
    except (RunError, UnknownName, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        shutdown(world)
        return 2
    shutdown(world)
    if result is None:
        return 0
    _print_run(result, args.format, demo_note)
    if args.write_reference:
        _write_reference(result, args.write_reference)
    if args.check:
        from eval.run.check import check

        ok, report = check(result.results, args.check)
        print(report)
        return 0 if ok else 1
    return 0


def _precheck(args) -> Optional[str]:
    """Everything the run's end needs, checked before it starts: the problem, or None."""
    try:
        check_device(args.device)
        if args.check is not None:
            from eval.run.check import load_reference

            load_reference(args.check)
        if args.write_reference is not None:
            output_file(args.write_reference, "--write-reference")
    except (ValueError, OSError) as exc:  # InputError is a ValueError
        return str(exc)
    return None


def _run_config(args, systems_override: Optional[list[str]]):
    """The RunConfig of the flags, and the demo-subset note when the default demo limit applies."""
    cfg = _config(args)
    if systems_override is not None:
        cfg.systems = systems_override
    demo_note = None
    if cfg.data_root is None and (cfg.split is None or cfg.split.startswith("synth")):
        log.info("no --data-root: using the synthetic corpus (built on demand) with offline metric backends")
        if cfg.limit is None:
            cfg.limit = DEMO_LIMIT
            demo_note = (f"demo subset: {DEMO_LIMIT} items of the synthetic test split, spread over its speakers "
                         "(pass --limit 0 to score all of it)")
    if cfg.limit == 0:
        cfg.limit = None
    return cfg, demo_note


def _print_run(result, fmt: str, demo_note: Optional[str]) -> None:
    """The table, notes on missing weights, placeholders and failures, and where the run's files are."""
    from eval.tables.render import render

    print(render(result.results, fmt))
    if demo_note:
        print(demo_note)
    _print_missing_weights(result.results)
    _print_placeholders(result.results)
    _print_failures(result)
    t = result.results["timing"]
    wall = result.results["provenance"]["wall_time_s"]
    print(f"run folder: {result.run_dir}")
    print(f"  results:  {result.run_dir / 'results.json'}")
    print(f"  items:    {result.run_dir / 'items.jsonl'}")
    print(f"  tables:   {result.run_dir}/table{result.results['table']}.{{md,tex,csv}}")
    print(f"  wall {wall:.1f} s: data preparation {t.get('data_prep', 0.0):.1f} s, systems and metrics "
          f"{t['model_s']:.1f} s, harness {t['harness_overhead_s']:.1f} s")


def _write_reference(result, path: Path) -> None:
    """``--write-reference``: this run's values as a --check reference (keeping the file's tolerances)."""
    from eval.run.check import make_reference
    from ttsf.atomic import atomic_write_json

    tolerances = {}
    if path.exists():
        tolerances = json.loads(path.read_text("utf-8")).get("tolerances", {})
    command = "python -m eval.run " + " ".join(shlex.quote(a) for a in sys.argv[1:] if a)
    atomic_write_json(path, make_reference(result.results, tolerances, command))
    print(f"reference written: {path}")


def bind_rank_device(device: str):
    """Under torchrun with ``--device cuda``, rank LOCAL_RANK scores on ``cuda:LOCAL_RANK``: it is
    made the current device, so every ``"cuda"`` below (metrics, systems) lands there while the
    run configuration (and its run id) stays the same on every rank. Returns the device."""
    from ttsf.devices import local_device

    return local_device(device)


def _demo_checkpoint_refusal(cfg) -> Optional[str]:
    """TTSF's demo checkpoint is never used silently on a real split (eval/systems/ttsf_system.py)."""
    from eval.run.runner import RunError, parse_system, resolve_split
    from eval.systems.ttsf_system import refuse_demo_checkpoint
    from eval.tables.specs import get_table

    try:
        spec = get_table(cfg.table)
        split, synthetic = resolve_split(spec, cfg)
    except (RunError, UnknownName, KeyError):
        return None  # the run reports these itself
    wanted = cfg.systems if cfg.systems is not None else spec.default_systems(synthetic)
    return refuse_demo_checkpoint([parse_system(s)[1] for s in wanted], split, synthetic)


def _print_missing_weights(results: dict) -> None:
    missing = {}
    for name, meta in results["metrics"].items():
        for w in (meta.get("missing_weights") or {}):
            missing.setdefault(w, []).append(f"{name}/{meta.get('backend')}")
    if missing:
        print("missing weights (their columns are shown as missing):")
        for w, users in sorted(missing.items()):
            print(f"  {w} (for {', '.join(users)}):  python -m eval.weights download {w}")


def _print_placeholders(results: dict) -> None:
    for name, meta in results["systems"].items():
        if meta.get("placeholder"):
            print(f"PLACEHOLDER row {name}: random-init weights ({', '.join(meta['placeholder'])}); "
                  "its numbers are noise, never comparable")


def _print_failures(result) -> None:
    if not result.failures:
        print("failures: none")
        return
    print("failures:")
    for system, metric, n_failed, n_total, reason in result.failures:
        print(f"  {system} / {metric}: {n_failed}/{n_total} items failed — {reason}")


def cmd_score(args) -> int:
    label = args.name
    try:
        safe_name(label, "--name")
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.system_dir.is_dir():
        print(f"error: --system-dir {args.system_dir} is not a folder", file=sys.stderr)
        return 2
    return cmd_run(args, systems_override=[f"{label}=dir:{args.system_dir}"])


def cmd_table(args) -> int:
    from eval.results import load_results
    from eval.tables.render import render

    try:
        results = load_results(args.run_dir)
    except (OSError, ValueError) as exc:
        print(f"error: cannot read results of {args.run_dir}: {exc}", file=sys.stderr)
        return 2
    print(render(results, args.format), end="")
    return 0


def cmd_ls(args) -> int:
    from eval.run.listing import listing

    print(listing(args.what, args.data_root), end="")
    return 0


def main(argv: Optional[list[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "selfcheck":  # lip-sync pipeline check on GT clips (own parser)
        from eval.run.selfcheck import main as selfcheck_main

        return selfcheck_main(argv[1:])
    if not argv or argv[0] not in SUBCOMMANDS and argv[0] not in ("-h", "--help"):
        argv = ["run", *argv]
    args = build_parser().parse_args(argv)
    try:
        if args.cmd == "run":
            return cmd_run(args)
        if args.cmd == "score":
            return cmd_score(args)
        if args.cmd == "table":
            return cmd_table(args)
        return cmd_ls(args)
    except UnknownName as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
