"""Train the offline SyncNet on a synthetic corpus (``python -m eval.metrics.lse train``).

Data: every clip of ``synth_train.jsonl`` (ground-truth video with its own in-sync
audio). Crops are made exactly as at evaluation time (YuNet track ->
syncnet_python crop), stored at 112x112 to save memory and upsampled back to
224x224 (bilinear) for the network.

Objective: for a 5-frame video window at frame ``v``, the audio windows at
``v + k`` for ``k = -K..K`` are candidates and the network is trained with a
cross-entropy over ``-distance`` whose target is ``k = 0``, with the zero vector as one
more candidate (LSE pads audio embeddings with zeros beyond the clip ends). This is the
quantity LSE scores (the argmin over offsets of the mean embedding distance).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F

from ttsf.atomic import atomic_save

log = logging.getLogger(__name__)

STORE_SIZE = 112


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    width: float = 0.25
    embed_dim: int = 256
    shifts: int = 12  # K: candidates k = -K..K
    batch: int = 12
    steps: int = 1200
    lr: float = 1e-3
    seed: int = 0
    threads: int = 2
    max_cpu_minutes: float = 20.0  # process CPU time (all threads), data preparation included
    save_every: int = 50  # steps between (atomic) checkpoint saves
    crops: str = "yunet"  # "yunet": syncnet_python crops of the YuNet track; "lm68": landmark-aligned
    augment: float = 0.0  # appearance augmentation strength (0 = none, 1 = the lm68 recipe)


@dataclasses.dataclass
class Clip:
    id: str
    crops: np.ndarray  # uint8 (T, 112, 112, 3) BGR
    mfcc: np.ndarray  # float32 (13, M)
    windows: int


def load_clips(corpus: Path, manifest: str = "synth_train.jsonl", cache: Optional[Path] = None,
               crops: str = "yunet") -> list[Clip]:
    """Decode, detect, crop and MFCC every clip of a manifest (ground-truth videos).

    With ``cache``, the prepared clips are stored there (``.npz`` named by the corpus
    hash) and reused by later runs on the same corpus.
    """
    cache_file = None
    if cache is not None:
        tag = "" if crops == "yunet" else f"{crops}_"
        cache_file = Path(cache) / f"syncnet_clips_{tag}{corpus_hash(corpus, manifest)[:16]}.npz"
        if cache_file.is_file():
            with np.load(cache_file) as data:
                ids = [str(i) for i in data["ids"]]
                return [Clip(i, data[f"crops_{k}"], data[f"mfcc_{k}"], int(data["windows"][k]))
                        for k, i in enumerate(ids)]
    import cv2

    from eval.metrics import visual
    from eval.metrics.base import ItemError
    from eval.metrics.functional.lse import n_windows
    from eval.metrics.sample import Sample
    from ttsf.data.manifest import load_manifest, resolve
    from ttsf.pretrained.mfcc import mfcc, to_int16_scale

    clips = []
    for item in load_manifest(corpus / manifest):
        sample = Sample(item.id, gen_video=resolve(corpus, item.ref_video))
        try:
            if crops == "lm68":
                faces = visual.lm68_crops(sample, "gen_video", "yunet")
            else:
                faces = visual.syncnet_crops(sample, "gen_video", "yunet")
            audio = visual.video(sample, "gen_video").audio
        except ItemError as error:
            log.warning("skipping %s: %s", item.id, error.reason)
            continue
        small = np.stack([cv2.resize(c, (STORE_SIZE, STORE_SIZE), interpolation=cv2.INTER_AREA) for c in faces])
        windows = n_windows(len(faces), len(audio))
        clips.append(Clip(item.id, small, mfcc(to_int16_scale(audio)).T.astype(np.float32), windows))
    if cache_file is not None:
        arrays = {f"crops_{k}": c.crops for k, c in enumerate(clips)}
        arrays.update({f"mfcc_{k}": c.mfcc for k, c in enumerate(clips)})
        atomic_save(cache_file, lambda tmp: np.savez(tmp, ids=np.array([c.id for c in clips]),
                                                     windows=np.array([c.windows for c in clips]), **arrays), ".npz")
    return clips


def corpus_hash(corpus: Path, manifest: str = "synth_train.jsonl") -> str:
    """sha256 of the manifest plus the sha256 of every video it lists."""
    from eval.metrics.nets.weights import file_sha256
    from ttsf.data.manifest import load_manifest, resolve

    digest = hashlib.sha256((corpus / manifest).read_bytes())
    for item in load_manifest(corpus / manifest):
        digest.update(file_sha256(resolve(corpus, item.ref_video)).encode())
    return digest.hexdigest()


def _batch(clips: list[Clip], cfg: TrainConfig, rng: np.random.Generator):
    """Video windows ``(B, 3, 5, 224, 224)``, audio candidates ``(B, 2K+1, 1, 13, 20)``."""
    K = cfg.shifts
    lips, auds = [], []
    while len(lips) < cfg.batch:
        clip = clips[rng.integers(len(clips))]
        if clip.windows < 2 * K + 1:
            continue
        v = int(rng.integers(K, clip.windows - K))
        window = torch.from_numpy(clip.crops[v:v + 5]).permute(3, 0, 1, 2).float()  # (3, 5, h, w)
        if rng.random() < 0.5:
            window = window.flip(-1)
        lips.append(window)
        auds.append(torch.stack([torch.from_numpy(clip.mfcc[None, :, 4 * (v + k):4 * (v + k) + 20])
                                 for k in range(-K, K + 1)]))
    lips = torch.stack(lips)
    if cfg.augment > 0:
        lips = augment_windows(lips, cfg.augment, rng)
    b, c, t, h, w = lips.shape
    lips = F.interpolate(lips.reshape(b, c * t, h, w), size=(224, 224), mode="bilinear", align_corners=False)
    return lips.reshape(b, c, t, 224, 224), torch.stack(auds)


def augment_windows(lips: torch.Tensor, strength: float, rng: np.random.Generator) -> torch.Tensor:
    """Appearance augmentation of BGR 0..255 windows ``(B, 3, 5, h, w)``, the same for the
    5 frames of a window (plus sub-pixel per-frame jitter, as landmark noise would give):
    random similarity warp (scale 0.9-1.1, shift +-5 %, rotation +-8 deg), brightness,
    contrast and per-channel gain 0.6-1.4 / 0.6-1.4 / 0.8-1.2, grey with p 0.2, Gaussian
    blur sigma 0-2 px with p 0.5, Gaussian noise sigma 0-8; ranges scale with ``strength``."""
    b, c, t, h, w = lips.shape
    s = float(strength)
    out = []
    for window in lips:
        angle = np.deg2rad(rng.uniform(-8, 8) * s)
        scale = 1.0 + rng.uniform(-0.1, 0.1) * s
        shift = rng.uniform(-0.05, 0.05, 2) * 2 * s  # affine_grid units: [-1, 1]
        theta = []
        for _ in range(t):
            jitter = rng.normal(0, 0.5 / w, 2) * s
            rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) / scale
            theta.append(np.concatenate([rot, (shift + jitter)[:, None]], 1))
        grid = F.affine_grid(torch.tensor(np.array(theta), dtype=torch.float32), (t, c, h, w), align_corners=False)
        frames = F.grid_sample(window.permute(1, 0, 2, 3), grid, padding_mode="border", align_corners=False)
        if rng.random() < 0.5 * s:
            sigma = rng.uniform(0.3, 2.0 * s)
            radius = max(1, int(np.ceil(2 * sigma)))
            x = torch.arange(-radius, radius + 1, dtype=torch.float32)
            kernel = torch.exp(-x ** 2 / (2 * sigma ** 2))
            kernel = kernel / kernel.sum()
            frames = F.conv2d(F.pad(frames.reshape(t * c, 1, h, w), (radius, radius, 0, 0), mode="replicate"),
                              kernel.view(1, 1, 1, -1))
            frames = F.conv2d(F.pad(frames, (0, 0, radius, radius), mode="replicate"), kernel.view(1, 1, -1, 1))
            frames = frames.reshape(t, c, h, w)
        mean = frames.mean()
        contrast = 1.0 + rng.uniform(-0.4, 0.4) * s
        brightness = 1.0 + rng.uniform(-0.4, 0.4) * s
        gains = torch.tensor(1.0 + rng.uniform(-0.2, 0.2, 3) * s, dtype=torch.float32).view(1, 3, 1, 1)
        frames = ((frames - mean) * contrast + mean) * brightness * gains
        if rng.random() < 0.2 * s:
            frames = frames.mean(1, keepdim=True).expand(t, c, h, w)
        frames = frames + torch.from_numpy(rng.normal(0, rng.uniform(0, 8 * s), frames.shape).astype(np.float32))
        out.append(frames.clamp(0, 255).permute(1, 0, 2, 3))
    return torch.stack(out)


def _loss(net, lips: torch.Tensor, auds: torch.Tensor) -> tuple[torch.Tensor, float]:
    b, n = auds.shape[:2]
    v = net.forward_lip(lips)  # (B, D)
    a = net.forward_aud(auds.reshape(b * n, *auds.shape[2:])).reshape(b, n, -1)
    dist = torch.sqrt(((v[:, None, :] - a) ** 2).sum(-1) + 1e-8)  # (B, N)
    # LSE pads the audio embeddings with zeros beyond the clip ends: the zero vector is one
    # more negative, so that ||v - a_aligned|| < ||v|| is learnt too.
    dist = torch.cat([dist, torch.sqrt((v ** 2).sum(-1, keepdim=True) + 1e-8)], 1)  # (B, N + 1)
    target = torch.full((b,), n // 2, dtype=torch.long)
    accuracy = float((dist.argmin(1) == target).float().mean())
    return F.cross_entropy(-dist, target), accuracy


def train(corpus: Path, out: Path, cfg: TrainConfig, manifest: str = "synth_train.jsonl",
          cache: Optional[Path] = None, init: Optional[Path] = None) -> dict:
    """Train, save ``{"state_dict", "width", "embed_dim", "train": {...}}`` to ``out``; return the record."""
    from ttsf.pretrained.syncnet import SyncNet

    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    rng = np.random.default_rng(cfg.seed)
    started = time.monotonic()
    cpu_started = time.process_time()
    clips = load_clips(corpus, manifest, cache, cfg.crops)
    if not clips:
        raise RuntimeError(f"no usable clip in {corpus / manifest}")
    log.info("loaded %d clips in %.0f s", len(clips), time.monotonic() - started)
    net = SyncNet(width=cfg.width, embed_dim=cfg.embed_dim)
    if init is not None:  # continue from an earlier checkpoint of the same shape
        state = torch.load(init, map_location="cpu", weights_only=True)
        net.load_state_dict(state["state_dict"])
        log.info("initialised from %s", init)
    optimiser = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=cfg.lr, total_steps=cfg.steps, pct_start=0.1)
    net.train()
    history = []
    steps_done = 0
    for step in range(cfg.steps):
        lips, auds = _batch(clips, cfg, rng)
        loss, accuracy = _loss(net, lips, auds)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        steps_done = step + 1
        history.append((loss.item(), accuracy))
        if cfg.save_every and steps_done % cfg.save_every == 0:
            _save(net, out, cfg, history, steps_done, clips, corpus, manifest, started, cpu_started, init)
        if step % 25 == 0 or step == cfg.steps - 1:
            recent = np.mean(history[-25:], axis=0)
            log.info("step %d loss %.3f acc %.2f (%.0f s wall, %.0f s CPU)", step, recent[0], recent[1],
                     time.monotonic() - started, time.process_time() - cpu_started)
        if time.process_time() - cpu_started > cfg.max_cpu_minutes * 60:
            log.warning("stopping at step %d: CPU time limit %.0f min", step, cfg.max_cpu_minutes)
            break
    return _save(net, out, cfg, history, steps_done, clips, corpus, manifest, started, cpu_started, init)


def _save(net, out: Path, cfg: TrainConfig, history, steps_done: int, clips, corpus: Path, manifest: str,
          started: float, cpu_started: float, init: Optional[Path] = None) -> dict:
    was_training = net.training
    net.eval()
    record = {
        "config": dataclasses.asdict(cfg),
        "steps_done": steps_done,
        "final_loss": float(np.mean([h[0] for h in history[-50:]])),
        "final_train_accuracy": float(np.mean([h[1] for h in history[-50:]])),
        "clips": len(clips),
        "manifest": manifest,
        "corpus_hash": corpus_hash(corpus, manifest),
        "seconds": round(time.monotonic() - started, 1),
        "cpu_seconds": round(time.process_time() - cpu_started, 1),
        "torch": torch.__version__,
        "init": str(init) if init is not None else None,
    }
    blob = {"state_dict": net.state_dict(), "width": cfg.width, "embed_dim": cfg.embed_dim, "train": json.dumps(record)}
    atomic_save(out, lambda tmp: torch.save(blob, tmp))
    net.train(was_training)
    return record
