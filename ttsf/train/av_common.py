"""Shared pieces of the face and joint training stages: config, data, losses, logging."""

from __future__ import annotations

import csv
import json
import logging
import os
import platform
import random
import time
from pathlib import Path
from typing import Any, Mapping, Optional

import numpy as np
import torch

from ttsf.atomic import atomic_save, atomic_write_text

log = logging.getLogger(__name__)


def read_config(path, overrides: Optional[Mapping[str, Any]] = None) -> dict:
    """A face/joint stage config as the plain mapping the training code reads: sections
    ``stage``, ``model``, ``data``, ``train``, ``losses``, ``init`` with defaults filled in;
    ``overrides`` maps ``"section.key"`` to a value (:func:`ttsf.train.config.load_stage_config`)."""
    from ttsf.train.config import AVStageConfig, load_stage_config

    return load_stage_config(path, overrides, AVStageConfig).as_dict()


def data_record(data_cfg: Mapping[str, Any], root: Path, sha256: str) -> dict:
    """The training data a checkpoint records (``meta["data"]``; read by :mod:`ttsf.provenance`):
    its name (``data.root`` as configured, e.g. ``synth:default`` or ``data/lrs3``), manifest,
    sha256 and whether it is a synthetic corpus."""
    from ttsf.provenance import synthetic_corpus_of

    return {"name": str(data_cfg["root"]), "manifest": str(data_cfg["train"]), "sha256": sha256,
            "synthetic": synthetic_corpus_of(root) is not None}


def manifest_sha256(root: Path, manifest: str) -> str:
    import hashlib

    return hashlib.sha256((root / manifest).read_bytes()).hexdigest()


def distributed() -> tuple[int, int]:
    """(rank, world size); initialises the process group under torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend)
    rank = torch.distributed.get_rank() if world > 1 else 0
    return rank, world


def allreduce_grads(module: torch.nn.Module, world: int) -> None:
    """Average gradients over ranks (one flat all-reduce; a missing grad counts as zero).

    Used instead of a DistributedDataParallel wrapper: it also works with the R1 penalty
    (double backward) and with calls to model methods other than ``forward``.
    """
    if world <= 1:
        return
    params = [p for p in module.parameters() if p.requires_grad]
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
    flat = torch.cat([g.reshape(-1) for g in grads])
    torch.distributed.all_reduce(flat)
    flat /= world
    offset = 0
    for p in params:
        n = p.numel()
        p.grad = flat[offset: offset + n].view_as(p).clone()
        offset += n


def broadcast_parameters(world: int, *modules: torch.nn.Module) -> None:
    """Identical initial weights on every rank (rank 0's)."""
    if world <= 1:
        return
    for module in modules:
        for tensor in list(module.parameters()) + list(module.buffers()):
            torch.distributed.broadcast(tensor.data, 0)


def save_atomic(blob: dict, path: Path) -> None:
    """``torch.save`` to a temporary file, then rename over ``path``."""
    atomic_save(path, lambda tmp: torch.save(blob, tmp))


RECIPE_KEYS = ("window", "motion_window", "lip_input")


def training_recipe(tc: Mapping[str, Any]) -> dict:
    """The ``train`` keys that change what the model learns to do (saved in ``last.pt``; a resume
    with other values is refused). Steps, minutes, logging and learning rate may change."""
    return {k: tc.get(k) for k in RECIPE_KEYS}


def resume_training(last: Path, config_key: str, config: dict, parts: Mapping[str, Any], device,
                    seed: int, rank: int, recipe: Optional[Mapping[str, Any]] = None
                    ) -> Optional[tuple[int, np.random.Generator]]:
    """Restore ``last`` (a ``last.pt`` of the face or joint stage) into ``parts`` (blob key ->
    module or optimiser) after checking ``blob[config_key] == config`` and, when both sides
    have one, ``blob["recipe"] == recipe`` (:func:`training_recipe`); returns the step and
    the data generator for that step, or ``None`` when there is nothing to resume."""
    if not last.exists():
        return None
    blob = torch.load(last, map_location=device, weights_only=True)
    if blob[config_key] != config:
        raise ValueError(f"{last}: model config differs from this run's; use another out_dir or --no-resume")
    if recipe is not None and "recipe" in blob and dict(blob["recipe"]) != dict(recipe):
        changed = sorted(k for k in set(blob["recipe"]) | set(recipe) if blob["recipe"].get(k) != recipe.get(k))
        raise ValueError(f"{last}: train keys {changed} differ from the run being resumed "
                         f"({ {k: blob['recipe'].get(k) for k in changed} } -> "
                         f"{ {k: recipe.get(k) for k in changed} }); "
                         "use another out_dir or --no-resume")
    if recipe is not None and "recipe" not in blob:
        log.warning("%s predates recorded training recipes: %s not checked", last, ", ".join(RECIPE_KEYS))
    for key, part in parts.items():
        part.load_state_dict(blob[key])
    step = int(blob["step"])
    log.info("resumed %s at step %d", last, step)
    return step, np.random.default_rng([int(seed), step])  # the same on every rank (draw_batch)


def draw_batch(rng: np.random.Generator, n_clips: int, batch_size: int, accum: int, world: int) -> np.ndarray:
    """The global batch of one optimiser step, ``(accum, world, batch_size, 4)``: per example a
    clip index and three uniforms (window offset, source frame, render start; see
    :meth:`ttsf.train.av_data.AVClips.sample`). Every rank draws the same array from the same
    generator and uses ``[k, rank]`` for micro-batch ``k``; one process with
    ``batch_size * world`` therefore sees exactly the examples of ``world`` ranks (in rank order),
    and ``accum`` micro-batches of B exactly those of one batch of ``accum * B``."""
    n = accum * world * batch_size
    out = np.empty((n, 4))
    out[:, 0] = rng.integers(0, n_clips, size=n)
    out[:, 1:] = rng.random((n, 3))
    return out.reshape(accum, world, batch_size, 4)


def accum_steps(tc: Mapping[str, Any]) -> int:
    """``train.accum_steps`` (>= 1): micro-batches of ``batch_size`` per optimiser step and rank."""
    k = int(tc.get("accum_steps") or 1)
    if k < 1:
        raise ValueError(f"train.accum_steps must be >= 1, got {k}")
    return k


def amp_dtype(device: torch.device, amp) -> Optional[torch.dtype]:
    """Autocast dtype from ``train.amp``: ``true`` -> bfloat16 on CUDA (fp32 on CPU, where bf16
    is slower), ``"bf16"`` -> bfloat16 on any device, ``false`` -> none."""
    if amp in (False, None, "none", "fp32"):
        return None
    if amp == "bf16":
        return torch.bfloat16
    if amp is True:
        return torch.bfloat16 if device.type == "cuda" else None
    raise ValueError(f"train.amp must be true, false or 'bf16', got {amp!r}")


def warm_up_lr(step: int, tc: Mapping[str, Any], *optimisers) -> float:
    """Set every param group's lr for optimiser step ``step`` (0-based): ``train.lr`` scaled by
    ``(step + 1) / train.lr_warmup`` during the warm-up, then ``train.lr``; returns it. Depends
    only on the step, so a resumed run continues the same schedule."""
    warm = int(tc["lr_warmup"] or 0)
    lr = float(tc["lr"]) * (min(1.0, (step + 1) / warm) if warm > 0 else 1.0)
    for opt in optimisers:
        for group in opt.param_groups:
            group["lr"] = lr
    return lr


def pick_device(name: str) -> torch.device:
    """``cuda`` -> ``cuda:LOCAL_RANK`` (:func:`ttsf.devices.local_device`)."""
    from ttsf.devices import local_device

    return local_device(name)


def start_run(tc: Mapping[str, Any]):
    """Common start of a face/joint training run from its ``train`` section:
    process group, torch threads, device and per-rank seeding.

    Returns ``(rank, world, device, rng)``.
    """
    device = pick_device(tc["device"])  # before the process group: NCCL binds to the current device
    rank, world = distributed()
    if tc["threads"]:
        torch.set_num_threads(int(tc["threads"]))
    seed_everything(int(tc["seed"]) + rank)  # model-side noise differs per rank
    return rank, world, device, np.random.default_rng(int(tc["seed"]))  # data: one global stream (draw_batch)


def seed_everything(seed: int) -> np.random.Generator:
    random.seed(seed)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def build_aux_losses(losses_cfg: Mapping[str, Any], device) -> tuple[dict, dict]:
    """Reconstruction/identity/sync losses from the config; returns (modules, description).

    The description (backends, weight files, hashes) goes into the run config.
    """
    from ttsf.losses.identity import build_identity_loss
    from ttsf.losses.perceptual import PerceptualFeatures, ReconstructionLoss
    from ttsf.losses.sync import build_sync_loss

    spec = losses_cfg["perceptual"]
    feats = None if spec == "none" else PerceptualFeatures(spec).to(device)
    ident = build_identity_loss(losses_cfg["identity"], feats)
    sync = build_sync_loss(losses_cfg["sync"], crop=losses_cfg.get("sync_crop"))
    mods = {"rec": ReconstructionLoss(feats).to(device), "id": ident.to(device) if ident else None,
            "sync": sync.to(device) if sync else None}
    info = {"perceptual": feats.describe() if feats else {"backend": "none", "note": "L1 only"},
            "identity": ident.describe() if ident else {"backend": "none", "note": "identity loss off"},
            "sync": sync.describe() if sync else {"backend": "none", "note": "no SyncNet configured: sync loss off"}}
    return mods, info


def run_info(cfg: dict, extra: Optional[dict] = None) -> dict:
    import subprocess

    try:
        git = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10,
                             cwd=Path(__file__).resolve().parents[2]).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        git = None
    return {"config": cfg, "torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version(),
            "git": git, **(extra or {})}


class CsvLog:
    """Append rows of named losses to ``losses.csv`` (header fixed by the first row)."""

    def __init__(self, path: Path):
        self.path = path
        self.fields: Optional[list[str]] = None
        if path.exists():
            with open(path, newline="") as f:
                self.fields = next(csv.reader(f), None)

    def write(self, row: dict) -> None:
        if self.fields is None:
            self.fields = list(row)
            with open(self.path, "w", newline="") as f:
                csv.writer(f).writerow(self.fields)
        with open(self.path, "a", newline="") as f:
            csv.writer(f).writerow([_fmt(row.get(k)) for k in self.fields])


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def save_grid(path: Path, source: torch.Tensor, fake: torch.Tensor, real: torch.Tensor, rows: int = 4) -> Path:
    """PNG with one row per example: source | generated | ground truth (images in [-1, 1])."""
    import cv2

    from ttsf.model import to_uint8

    n = min(rows, source.shape[0])
    lines = [np.concatenate([to_uint8(x[i].detach().float().cpu()) for x in (source, fake, real)], 1) for i in range(n)]
    grid = np.concatenate(lines, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.ascontiguousarray(grid[:, :, ::-1]))
    return path


def write_json(path: Path, data: dict) -> None:
    atomic_write_text(path, json.dumps(data, indent=1, sort_keys=True, default=str))


# ----------------------------------------------------------------------------- steps shared by face and joint


def make_optimisers(tc: Mapping[str, Any], generator: torch.nn.Module, disc: torch.nn.Module):
    """Adam for the generator side and for the discriminator (``train.lr``, ``train.betas``)."""
    betas = tuple(tc["betas"])
    return (torch.optim.Adam(generator.parameters(), lr=float(tc["lr"]), betas=betas),
            torch.optim.Adam(disc.parameters(), lr=float(tc["lr"]), betas=betas))


def open_run_dir(out: Path, info: dict, rank: int) -> Optional["CsvLog"]:
    """Rank 0: create ``out``, write ``run.json`` and open ``losses.csv``; other ranks: None."""
    if rank != 0:
        return None
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "run.json", info)
    return CsvLog(out / "losses.csv")


def generator_update(module: torch.nn.Module, opt: torch.optim.Optimizer, tc: Mapping[str, Any], world: int) -> None:
    """The optimiser step after the micro-batches: average over ranks, clip, step."""
    allreduce_grads(module, world)
    torch.nn.utils.clip_grad_norm_(module.parameters(), float(tc["grad_clip"]))
    opt.step()


def add_micro_batch(sums: dict, values: Mapping[str, Any], accum: int) -> None:
    """``sums[key] += value / accum`` for every (tensor or number) value of one micro-batch."""
    for key, v in values.items():
        sums[key] = sums.get(key, 0.0) + float(v.detach() if torch.is_tensor(v) else v) / accum


def end_of_step(stage: str, row: dict, tc: Mapping[str, Any], rank: int, csv_log: Optional["CsvLog"], t0: float,
                grid, checkpoint, logger: logging.Logger = log) -> bool:
    """After optimiser step ``row["step"]``: log it (every ``log_every`` steps and the first),
    write a sample grid (``grid(step)``, rank 0, every ``sample_every``), checkpoint
    (``checkpoint()``, every ``ckpt_every``); returns True when ``max_minutes`` is spent."""
    step = row["step"]
    if csv_log and (step % int(tc["log_every"]) == 0 or step == 1):
        csv_log.write(row)
        logger.info("%s step %d: %s", stage, step, {k: round(v, 4) for k, v in row.items() if isinstance(v, float)})
    if rank == 0 and tc["sample_every"] and step % int(tc["sample_every"]) == 0:
        grid(step)
    if tc["ckpt_every"] and step % int(tc["ckpt_every"]) == 0:
        checkpoint()
    if tc["max_minutes"] is not None and time.time() - t0 > 60 * float(tc["max_minutes"]):
        logger.info("stopping at step %d: max_minutes reached", step)
        return True
    return False
