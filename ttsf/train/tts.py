"""Train the TTS branch: ``python -m ttsf.train tts --config configs/tts/NAME.yaml``.

The YAML file has three sections: ``model`` (:class:`ttsf.tts.config.TTSConfig`
fields), ``data`` (:class:`DataConfig`) and ``train`` (:class:`TrainConfig`).
``mel_mean``/``mel_std`` left null are computed from the training data at start
(``--mel-stats`` prints them and exits). Checkpoints (``last.pt``, and
``step_XXXXXXX.pt`` every ``ckpt_every`` steps) hold plain state dicts + config and
resume automatically. Losses go to ``losses.csv`` (step, epoch, loss, loss_prior,
loss_duration, loss_cfm, lr, seconds). Multi-GPU: ``torchrun --nproc_per_node N -m
ttsf.train tts --config …`` (DDP; rank 0 logs and saves).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import logging
import os
import time
from pathlib import Path
from typing import Optional

import torch
import yaml

from ttsf.data.roots import resolve_named

log = logging.getLogger("ttsf.train.tts")


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """``corpus``: ``"synth:default"``/``"synth:tiny"`` (built by eval.synth) or None to use
    ``train_manifest`` + ``root`` (paths relative to the current directory)."""

    corpus: Optional[str] = None
    train_manifest: Optional[str] = None
    root: Optional[str] = None
    max_seconds: Optional[float] = None
    limit: Optional[int] = None

    def resolve(self) -> tuple[Path, Path]:
        if self.corpus is not None:
            root = resolve_named(self.corpus)
            return root / "synth_train.jsonl", root
        if not self.train_manifest or not self.root:
            raise ValueError("data needs either corpus or both train_manifest and root")
        return Path(self.train_manifest), Path(self.root)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    seed: int = 1234
    batch_size: int = 16
    lr: float = 1e-4
    max_steps: int = 100000
    max_minutes: Optional[float] = None  # stop (and save) after this much wall-clock time
    grad_clip: float = 1.0
    log_every: int = 10
    ckpt_every: int = 1000
    keep_every_ckpt: bool = False
    out_dir: str = "results/runs/tts"
    threads: Optional[int] = None
    device: str = "cpu"


def _section(cls, data: dict, name: str):
    d = dict(data.get(name) or {})
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - names)
    if unknown:
        raise ValueError(f"unknown {name} fields {unknown}; valid: {sorted(names)}")
    return cls(**d)


def read_yaml(path: Path) -> dict:
    data = yaml.safe_load(Path(path).read_text()) or {}
    unknown = sorted(set(data) - {"model", "data", "train"})
    if unknown:
        raise ValueError(f"{path}: unknown sections {unknown} (expected model, data, train)")
    return data


def _dist():
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return dist.get_rank(), world


def apply_sets(data: dict, sets: dict) -> dict:
    """``{"section.key": value}`` (``--set``) applied to the YAML's ``model``/``data``/``train``."""
    out = {k: dict(v or {}) for k, v in data.items()}
    for key, value in sets.items():
        section, _, field = key.partition(".")
        if section not in ("model", "data", "train") or not field or "." in field:
            raise ValueError(f"--set {key}: expected model.KEY, data.KEY or train.KEY")
        out.setdefault(section, {})[field] = value
    return out


def build(config_path: Path, overrides: dict, need_stats: bool = True, sets: Optional[dict] = None):
    """Read config + data; return (TTSConfig, TrainConfig, utterances, speakers, data report)."""
    from ttsf.tts.config import TTSConfig
    from ttsf.tts.data import load_utterances, mel_statistics

    data = read_yaml(config_path)
    data = apply_sets(data, sets or {})
    model_fields = dict(data.get("model") or {})
    train_cfg = _section(TrainConfig, data, "train")
    train_cfg = dataclasses.replace(train_cfg, **{k: v for k, v in overrides.items() if v is not None})
    data_cfg = _section(DataConfig, data, "data")
    manifest, root = data_cfg.resolve()
    probe = TTSConfig.from_dict({k: v for k, v in model_fields.items() if k not in ("mel_mean", "mel_std", "n_speakers")}
                                | ({"n_speakers": 1} if model_fields.get("cond_mode") == "speaker_embedding" else {}))
    utts, report = load_utterances(manifest, root, probe.mel, max_seconds=data_cfg.max_seconds, limit=data_cfg.limit)
    speakers = sorted({u.speaker for u in utts if u.speaker is not None})
    if model_fields.get("cond_mode") == "speaker_embedding":
        if len(speakers) == 0 or any(u.speaker is None for u in utts):
            raise ValueError("cond_mode speaker_embedding needs a speaker on every training item")
        model_fields["n_speakers"] = len(speakers)
    if need_stats and (model_fields.get("mel_mean") is None or model_fields.get("mel_std") is None):
        mean, std = mel_statistics(utts)
        log.info("mel statistics from %d utterances: mean %.4f std %.4f", len(utts), mean, std)
        model_fields["mel_mean"], model_fields["mel_std"] = mean, std
    model_fields = {k: v for k, v in model_fields.items() if v is not None}
    cfg = TTSConfig.from_dict(model_fields)
    return cfg, train_cfg, utts, speakers, {"manifest": str(manifest), "root": str(root), "sha256": report.manifest_sha256,
                                            "used": report.used, "skipped": report.skipped}


def train(config_path: Path, overrides: dict, resume: str = "auto", export: Optional[Path] = None,
          sets: Optional[dict] = None) -> dict:
    from ttsf.tts.checkpoint import read_checkpoint, save_checkpoint
    from ttsf.tts.data import batch_indices, collate
    from ttsf.tts.model import TTS

    from ttsf.devices import local_device

    cfg, tcfg, utts, speakers, data_info = build(config_path, overrides, sets=sets)
    device = local_device(tcfg.device)  # cuda -> cuda:LOCAL_RANK, current device before NCCL starts
    rank, world = _dist()
    if tcfg.threads:
        torch.set_num_threads(tcfg.threads)
    out = Path(tcfg.out_dir)
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        if data_info["skipped"]:
            log.warning("%d training items skipped (see %s)", len(data_info["skipped"]), out / "data.json")
        (out / "data.json").write_text(json.dumps(data_info, indent=1, sort_keys=True))
    torch.manual_seed(tcfg.seed)
    model = TTS(cfg).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=tcfg.lr)
    step = epoch = 0
    last = out / "last.pt"
    resume_from = None if resume == "no" else (Path(resume) if resume != "auto" else (last if last.exists() else None))
    if resume_from is not None:
        blob = read_checkpoint(resume_from)
        if blob["config"] != cfg.to_dict():
            raise ValueError(f"{resume_from}: its model config differs from {config_path}; use --resume no or another out_dir")
        model.load_state_dict(blob["model"])
        opt.load_state_dict(blob["optimizer"])
        torch.set_rng_state(blob["rng"])
        step, epoch = blob["step"], blob["epoch"]
        log.info("resumed from %s at step %d (epoch %d)", resume_from, step, epoch)
    net = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    spk_index = {s: i for i, s in enumerate(speakers)}
    csv_path = out / "losses.csv"
    fields = ["step", "epoch", "loss", "loss_prior", "loss_duration", "loss_cfm", "lr", "seconds"]
    if rank == 0 and (resume_from is None or not csv_path.exists()):  # a fresh run starts a fresh log
        with open(csv_path, "w", newline="") as f:
            csv.writer(f).writerow(fields)
    t0 = time.time()
    history = []
    meta = {"seed": tcfg.seed, "data": {k: data_info[k] for k in ("manifest", "sha256", "used")},
            "torch": str(torch.__version__), "train": dataclasses.asdict(tcfg)}

    def save(path):
        if rank == 0:
            save_checkpoint(path, model, cfg, speakers, opt, step, epoch, meta)

    done = step >= tcfg.max_steps
    while not done:
        gen = torch.Generator().manual_seed(tcfg.seed * 100003 + epoch)
        model.train()
        for idx in batch_indices(len(utts), tcfg.batch_size, gen, rank, world):
            b = collate([utts[i] for i in idx], spk_index if cfg.cond_mode == "speaker_embedding" else None)
            cond = model.speaker_cond(b["speakers"].to(device)) if cfg.cond_mode == "speaker_embedding" else None
            res = net(b["tokens"].to(device), b["token_lengths"].to(device), b["mel"].to(device),
                      b["mel_lengths"].to(device), cond)
            opt.zero_grad(set_to_none=True)
            res["loss"].backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), tcfg.grad_clip)
            opt.step()
            step += 1
            row = {k: float(res[k].detach()) for k in ("loss", "loss_prior", "loss_duration", "loss_cfm")}
            history.append(row["loss"])
            if rank == 0 and (step % tcfg.log_every == 0 or step == 1):
                with open(csv_path, "a", newline="") as f:
                    csv.writer(f).writerow([step, epoch] + [f"{row[k]:.6f}" for k in fields[2:6]]
                                           + [tcfg.lr, f"{time.time() - t0:.1f}"])
                log.info("step %d epoch %d loss %.4f (prior %.4f dur %.4f cfm %.4f)", step, epoch, row["loss"],
                         row["loss_prior"], row["loss_duration"], row["loss_cfm"])
            if step % tcfg.ckpt_every == 0:
                save(last)
                if tcfg.keep_every_ckpt:
                    save(out / f"step_{step:07d}.pt")
            out_of_time = tcfg.max_minutes is not None and (time.time() - t0) > 60 * tcfg.max_minutes
            if world > 1 and tcfg.max_minutes is not None:  # every rank must stop at the same step
                flag = torch.tensor([float(out_of_time)], device=device)
                torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
                out_of_time = bool(flag.item())
            if step >= tcfg.max_steps or out_of_time:
                done = True
                break
        else:
            epoch += 1
    save(last)
    if export is not None and rank == 0:
        save_checkpoint(export, model, cfg, speakers, step=step, epoch=epoch, extra=meta, half=True)
    if world > 1:
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
    return {"steps": step, "epoch": epoch, "losses": history, "out_dir": str(out), "speakers": speakers}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ttsf.train tts", description="Train the TTSF TTS branch.")
    ap.add_argument("--config", type=Path, required=True)
    ap.add_argument("--out-dir", default=None, help="override train.out_dir")
    ap.add_argument("--max-steps", type=int, default=None)
    ap.add_argument("--max-minutes", type=float, default=None)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--resume", default="auto", help="'auto' (out_dir/last.pt if present), 'no', or a checkpoint path")
    ap.add_argument("--export", type=Path, default=None, help="also write a float16 inference checkpoint here")
    ap.add_argument("--mel-stats", action="store_true", help="print the training data's mel mean/std and exit")
    ap.add_argument("--set", nargs="*", default=[], metavar="SECTION.KEY=VALUE",
                    help="config overrides (model.*, data.*, train.*; values parsed as YAML)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    overrides = {"out_dir": args.out_dir, "max_steps": args.max_steps, "max_minutes": args.max_minutes,
                 "seed": args.seed, "threads": args.threads}
    from ttsf.train.av_common import parse_overrides

    sets = parse_overrides(args.set)
    if args.mel_stats:
        from ttsf.tts.data import mel_statistics

        _, _, utts, _, info = build(args.config, overrides, need_stats=False, sets=sets)
        mean, std = mel_statistics(utts)
        print(yaml.safe_dump({"mel_mean": round(mean, 6), "mel_std": round(std, 6), "utterances": len(utts),
                              "manifest_sha256": info["sha256"]}, sort_keys=False), end="")
        return 0
    res = train(args.config, overrides, args.resume, args.export, sets=sets)
    print(json.dumps({k: v for k, v in res.items() if k != "losses"} | {"final_loss": res["losses"][-1] if res["losses"] else None}))
    return 0
