"""Train the TTS branch: ``python -m ttsf.train tts --config configs/tts/NAME.yaml``.

The YAML file has three sections: ``model`` (:class:`ttsf.tts.config.TTSConfig`
fields), ``data`` (:class:`ttsf.train.config.DataConfig`) and ``train``
(:class:`ttsf.train.config.TrainConfig`), read by :func:`ttsf.train.config.load_stage_config`
(``base:`` files and ``--set`` overrides as in the face and joint stages).
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
import time
from pathlib import Path
from typing import Optional

import torch
import yaml

from ttsf.config import parse_overrides
from ttsf.train.av_common import distributed
from ttsf.train.config import TrainConfig, TTSStageConfig, load_stage_config

log = logging.getLogger("ttsf.train.tts")


def build(config_path: Path, overrides: dict, need_stats: bool = True, sets: Optional[dict] = None):
    """Read config + data; return (TTSConfig, TrainConfig, utterances, speakers, data report)."""
    from ttsf.tts.config import TTSConfig
    from ttsf.tts.data import load_utterances, mel_statistics

    stage = load_stage_config(config_path, sets, TTSStageConfig)
    model_fields = dict(stage.model)
    train_cfg = dataclasses.replace(stage.train, **{k: v for k, v in overrides.items() if v is not None})
    data_cfg = stage.data
    manifest, root = data_cfg.resolve()
    probe = TTSConfig.from_dict({k: v for k, v in model_fields.items()
                                 if k not in ("mel_mean", "mel_std", "n_speakers")}
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
    return cfg, train_cfg, utts, speakers, {"manifest": str(manifest), "root": str(root),
                                            "sha256": report.manifest_sha256,
                                            "used": report.used, "skipped": report.skipped}


LOSS_FIELDS = ["step", "epoch", "loss", "loss_prior", "loss_duration", "loss_cfm", "lr", "seconds"]


def resume_point(resume: str, last: Path, cfg, model, opt, config_path: Path) -> tuple[Optional[Path], int, int]:
    """``--resume`` (``auto``: ``last`` if present; ``no``; or a path) restored into ``model``,
    ``opt`` and torch's RNG; returns ``(checkpoint or None, step, epoch)``."""
    from ttsf.tts.checkpoint import read_checkpoint

    resume_from = None if resume == "no" else (Path(resume) if resume != "auto" else (last if last.exists() else None))
    if resume_from is None:
        return None, 0, 0
    blob = read_checkpoint(resume_from)
    if blob["config"] != cfg.to_dict():
        raise ValueError(f"{resume_from}: its model config differs from {config_path}; "
                         "use --resume no or another out_dir")
    model.load_state_dict(blob["model"])
    opt.load_state_dict(blob["optimizer"])
    torch.set_rng_state(blob["rng"])
    log.info("resumed from %s at step %d (epoch %d)", resume_from, blob["step"], blob["epoch"])
    return resume_from, blob["step"], blob["epoch"]


def write_data_report(out: Path, data_info: dict) -> None:
    """``data.json`` (manifest, hash, items used and skipped) in the run folder (rank 0)."""
    out.mkdir(parents=True, exist_ok=True)
    if data_info["skipped"]:
        log.warning("%d training items skipped (see %s)", len(data_info["skipped"]), out / "data.json")
    (out / "data.json").write_text(json.dumps(data_info, indent=1, sort_keys=True))


def optimiser_step(net, model, opt, batch: dict, cfg, device, grad_clip: float) -> dict:
    """One TTS step on a collated batch; returns the loss components as floats."""
    cond = model.speaker_cond(batch["speakers"].to(device)) if cfg.cond_mode == "speaker_embedding" else None
    res = net(batch["tokens"].to(device), batch["token_lengths"].to(device), batch["mel"].to(device),
              batch["mel_lengths"].to(device), cond)
    opt.zero_grad(set_to_none=True)
    res["loss"].backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    opt.step()
    return {k: float(res[k].detach()) for k in ("loss", "loss_prior", "loss_duration", "loss_cfm")}


def log_step(csv_path: Path, step: int, epoch: int, row: dict, lr: float, t0: float) -> None:
    with open(csv_path, "a", newline="") as f:
        csv.writer(f).writerow([step, epoch] + [f"{row[k]:.6f}" for k in LOSS_FIELDS[2:6]]
                               + [lr, f"{time.time() - t0:.1f}"])
    log.info("step %d epoch %d loss %.4f (prior %.4f dur %.4f cfm %.4f)", step, epoch, row["loss"],
             row["loss_prior"], row["loss_duration"], row["loss_cfm"])


def out_of_time(tcfg: TrainConfig, t0: float, world: int, device) -> bool:
    """``max_minutes`` spent (on any rank: every rank must stop at the same step)."""
    late = tcfg.max_minutes is not None and (time.time() - t0) > 60 * tcfg.max_minutes
    if world > 1 and tcfg.max_minutes is not None:
        flag = torch.tensor([float(late)], device=device)
        torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
        late = bool(flag.item())
    return late


def train(config_path: Path, overrides: dict, resume: str = "auto", export: Optional[Path] = None,
          sets: Optional[dict] = None) -> dict:
    from ttsf.devices import local_device
    from ttsf.tts.checkpoint import save_checkpoint
    from ttsf.tts.data import batch_indices, collate
    from ttsf.tts.model import TTS

    cfg, tcfg, utts, speakers, data_info = build(config_path, overrides, sets=sets)
    device = local_device(tcfg.device)  # cuda -> cuda:LOCAL_RANK, current device before NCCL starts
    rank, world = distributed()
    if tcfg.threads:
        torch.set_num_threads(tcfg.threads)
    out = Path(tcfg.out_dir)
    if rank == 0:
        write_data_report(out, data_info)
    torch.manual_seed(tcfg.seed)
    model = TTS(cfg).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=tcfg.lr)
    last = out / "last.pt"
    resume_from, step, epoch = resume_point(resume, last, cfg, model, opt, config_path)
    net = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model,
                                                        device_ids=[device.index] if device.type == "cuda" else None)
    spk_index = {s: i for i, s in enumerate(speakers)} if cfg.cond_mode == "speaker_embedding" else None
    csv_path = out / "losses.csv"
    if rank == 0 and (resume_from is None or not csv_path.exists()):  # a fresh run starts a fresh log
        with open(csv_path, "w", newline="") as f:
            csv.writer(f).writerow(LOSS_FIELDS)
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
            row = optimiser_step(net, model, opt, collate([utts[i] for i in idx], spk_index), cfg, device,
                                 tcfg.grad_clip)
            step += 1
            history.append(row["loss"])
            if rank == 0 and (step % tcfg.log_every == 0 or step == 1):
                log_step(csv_path, step, epoch, row, tcfg.lr, t0)
            if step % tcfg.ckpt_every == 0:
                save(last)
                if tcfg.keep_every_ckpt:
                    save(out / f"step_{step:07d}.pt")
            late = out_of_time(tcfg, t0, world, device)  # every step: a collective under torchrun
            if step >= tcfg.max_steps or late:
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
    sets = parse_overrides(args.set)
    if args.mel_stats:
        from ttsf.tts.data import mel_statistics

        _, _, utts, _, info = build(args.config, overrides, need_stats=False, sets=sets)
        mean, std = mel_statistics(utts)
        print(yaml.safe_dump({"mel_mean": round(mean, 6), "mel_std": round(std, 6), "utterances": len(utts),
                              "manifest_sha256": info["sha256"]}, sort_keys=False), end="")
        return 0
    res = train(args.config, overrides, args.resume, args.export, sets=sets)
    print(json.dumps({k: v for k, v in res.items() if k != "losses"}
                     | {"final_loss": res["losses"][-1] if res["losses"] else None}))
    return 0
