"""Shared pieces of the face and joint training stages: config, data, losses, logging."""

from __future__ import annotations

import csv
import json
import logging
import os
import platform
import random
from pathlib import Path
from typing import Any, Mapping, Optional

import numpy as np
import torch

from ttsf.atomic import atomic_save, atomic_write_text

log = logging.getLogger(__name__)

TRAIN_DEFAULTS = {
    "steps": 1000, "batch_size": 4, "lr": 1e-4, "betas": [0.5, 0.99], "seed": 0, "window": 1,
    "motion_window": None, "log_every": 10, "sample_every": 200, "ckpt_every": 200, "max_minutes": None, "threads": 0,
    "device": "cpu", "amp": True, "grad_clip": 10.0, "out_dir": "runs/face",
    "lip_input": "f_m",  # face stage: what the eq. 1 lip layers get besides f_id ("f_m" or "none")
    "lr_warmup": 0,  # steps of linear learning-rate warm-up (0: none)
    "accum_steps": 1,  # micro-batches per optimiser step (gradient accumulation)
}
LOSS_DEFAULTS = {
    "weights": {}, "perceptual": "auto", "identity": "imagenet_proxy", "sync": "none", "sync_crop": None,
    "r1_gamma": 10.0, "r1_every": 16,
}
DATA_DEFAULTS = {"root": "synth:default", "train": "synth_train.jsonl", "preload": True, "limit": None}


def read_config(path, overrides: Optional[Mapping[str, Any]] = None) -> dict:
    """YAML with sections ``stage``, ``model``, ``data``, ``train``, ``losses``, ``init``;
    ``overrides`` maps ``"section.key"`` to a value."""
    data = _read_yaml_with_base(Path(path))
    unknown = sorted(set(data) - {"stage", "model", "data", "train", "losses", "init", "notes"})
    if unknown:
        raise ValueError(f"{path}: unknown sections {unknown}")
    cfg = {"stage": data.get("stage"), "model": dict(data.get("model") or {}),
           "data": {**DATA_DEFAULTS, **(data.get("data") or {})},
           "train": {**TRAIN_DEFAULTS, **(data.get("train") or {})},
           "losses": {**LOSS_DEFAULTS, **(data.get("losses") or {})},
           "init": dict(data.get("init") or {})}
    for key, value in (overrides or {}).items():
        parts = key.split(".")
        if len(parts) < 2 or parts[0] not in cfg or not isinstance(cfg[parts[0]], dict):
            raise ValueError(f"override {key!r} must look like section.key (sections: model, data, train, losses, init)")
        node = cfg[parts[0]]
        for part in parts[1:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"override {key!r}: {part!r} is not a mapping")
        node[parts[-1]] = value
    for section in ("data", "train", "losses"):
        known = {"data": DATA_DEFAULTS, "train": TRAIN_DEFAULTS, "losses": LOSS_DEFAULTS}[section]
        bad = sorted(set(cfg[section]) - set(known))
        if bad:
            raise ValueError(f"{path}: unknown {section} keys {bad}; known {sorted(known)}")
    return cfg


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _read_yaml_with_base(path: Path, depth: int = 0) -> dict:
    """A YAML config; ``base: other.yaml`` (relative to the file) is deep-merged underneath."""
    import yaml

    if depth > 5:
        raise ValueError(f"{path}: 'base:' chain too deep")
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping")
    base = data.pop("base", None)
    if base is None:
        return data
    return _merge(_read_yaml_with_base((path.parent / base).resolve(), depth + 1), data)


def parse_overrides(pairs: list[str]) -> dict:
    """``["train.steps=10", ...]`` -> ``{"train.steps": 10}`` (values parsed as YAML)."""
    import yaml

    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"--set expects section.key=value, got {pair!r}")
        out[key] = yaml.safe_load(value)
    return out


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
                         f"({ {k: blob['recipe'].get(k) for k in changed} } -> { {k: recipe.get(k) for k in changed} }); "
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
