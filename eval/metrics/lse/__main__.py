"""CLI: ``python -m eval.metrics.lse train --corpus DIR --out CKPT`` (offline SyncNet)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from pathlib import Path


def main(argv=None) -> int:
    from eval.metrics.lse.train import TrainConfig, train

    defaults = TrainConfig()
    parser = argparse.ArgumentParser(prog="python -m eval.metrics.lse")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("train", help="train the offline SyncNet on a synthetic corpus")
    p.add_argument("--corpus", required=True, type=Path, help="corpus root holding synth_train.jsonl")
    p.add_argument("--out", required=True, type=Path, help="checkpoint to write")
    p.add_argument("--manifest", default="synth_train.jsonl")
    p.add_argument("--cache", type=Path, default=None, help="folder to keep prepared crops between runs")
    p.add_argument("--init", type=Path, default=None, help="continue from this checkpoint (same width/embed-dim)")
    for field in dataclasses.fields(TrainConfig):
        p.add_argument(f"--{field.name.replace('_', '-')}", type=type(getattr(defaults, field.name)),
                       default=getattr(defaults, field.name))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cfg = TrainConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)})
    record = train(args.corpus, args.out, cfg, args.manifest, args.cache, args.init)
    print(json.dumps(record, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
