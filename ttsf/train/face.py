"""Face-branch warm-up: ``python -m ttsf.train face --config configs/face/<name>.yaml``.

Trains E_v, E_m and G (LIA-style self-reconstruction: source frame + driving frame of
the same clip -> driving frame; no audio) with the StyleGAN2 discriminator. Motion layers get
``f_id + f_m``; the eq. 1 lip layers get ``f_id + f_m`` too (``train.lip_input: f_m``) or
``f_id`` alone (``none``: what they get at the start of a joint stage whose audio mapper
starts at zero, ``model.motion.mapper_zero_init``), so pose must reach them through the
lower layers' features. Losses: GAN (non-saturating, R1), L1 + perceptual, identity;
weights from ``losses.weights`` (paper defaults). The joint stage
(:mod:`ttsf.train.joint`) starts from its checkpoint (``init.face``).

Outputs in ``train.out_dir``: ``run.json`` (config, versions, loss backends + weight
hashes, data hash), ``losses.csv``, ``samples/step_XXXXXXX.png`` (source | generated |
ground truth), ``last.pt`` (resume) and ``face.pt`` (final weights).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import time
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from ttsf.data.roots import resolve_root
from ttsf.train.av_common import (
    accum_steps,
    add_micro_batch,
    allreduce_grads,
    amp_dtype,
    broadcast_parameters,
    build_aux_losses,
    data_record,
    draw_batch,
    end_of_step,
    generator_update,
    make_optimisers,
    manifest_sha256,
    open_run_dir,
    read_config,
    resume_training,
    run_info,
    save_atomic,
    save_grid,
    start_run,
    training_recipe,
    warm_up_lr,
)

log = logging.getLogger(__name__)

FACE_FORMAT = "ttsf-face/1"


def _no_audio_mel(audio: np.ndarray) -> np.ndarray:
    return np.zeros((80, max(1, len(audio) // 160)), np.float32)


def autocast(device: torch.device, amp):
    """Autocast context for ``train.amp`` (:func:`ttsf.train.av_common.amp_dtype`)."""
    dtype = amp_dtype(device, amp)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=dtype)


def discriminator_step(disc, opt_d, real: torch.Tensor, fake: torch.Tensor, step: int, losses_cfg: dict,
                       device, amp, world: int = 1, micro: int = 0, accum: int = 1) -> dict:
    """D loss of one micro-batch (non-saturating; lazy R1 every ``r1_every`` steps), scaled by
    ``1/accum`` and accumulated; micro-batch ``accum - 1`` averages the gradients over ranks
    (``world`` > 1) and steps ``opt_d``; micro-batch 0 clears them."""
    from ttsf.losses.gan import d_loss, r1_penalty

    disc.requires_grad_(True)
    with autocast(device, amp):
        logits = disc(torch.cat([real, fake.detach()]))
        loss = d_loss(logits[: len(real)].float(), logits[len(real):].float())
    out = {"d_loss": float(loss.detach())}
    every = int(losses_cfg["r1_every"] or 0)
    if losses_cfg["r1_gamma"] and every and step % every == 0:
        real = real.detach().requires_grad_(True)
        r1 = r1_penalty(disc(real), real)
        loss = loss + losses_cfg["r1_gamma"] / 2 * r1 * every
        out["r1"] = float(r1.detach())
    if micro == 0:
        opt_d.zero_grad(set_to_none=True)
    (loss / accum).backward()
    if micro == accum - 1:
        allreduce_grads(disc, world)
        opt_d.step()
    return out


def generator_micro_step(face, disc, mods: dict, weights, batch: dict, tc: dict, device, accum: int) -> dict:
    """G losses of one micro-batch (source frame + driving frame of the same clip -> driving
    frame), scaled by ``1/accum`` and backpropagated; returns the tensors the step logs and
    the discriminator needs."""
    from ttsf.losses.gan import g_loss
    from ttsf.losses.weights import weighted_total

    source = batch["source"].to(device)
    target = batch["frames"][:, 0].to(device)
    disc.requires_grad_(False)  # the G losses' backward must not add to D's accumulated gradients
    with autocast(device, tc["amp"]):
        enc = face.encode(source)
        f_m = face.motion_of(target)
        f_lip = torch.zeros_like(f_m) if tc["lip_input"] == "none" else None
        fake = face.generate(enc["feats"], enc["f_id"], f_m, f_lip)
        rec, l1, perc = mods["rec"](fake.float(), target)
        losses = {"loss_rec": rec}
        if weights.gan:
            losses["loss_gan"] = g_loss(disc(fake).float())
        if weights.id and mods["id"] is not None:
            losses["loss_id"] = mods["id"](fake.float(), target)
        total = weighted_total(losses, weights)
    (total / accum).backward()
    return {"source": source, "target": target, "fake": fake, "losses": losses,
            "logged": {"loss": total, "l1": l1, "perceptual": perc, **losses}}


def save_face(path: Path, full: bool, step: int, fcfg, face, disc, opt_g, opt_d, tc: dict, meta: dict) -> None:
    """``face.pt`` (weights; ``full=False``) or ``last.pt`` (also D and optimisers, to resume)."""
    blob = {"format": FACE_FORMAT, "face_config": fcfg.to_dict(), "model": face.state_dict(), "step": step,
            "meta": meta}
    if full:
        blob.update(disc=disc.state_dict(), opt_g=opt_g.state_dict(), opt_d=opt_d.state_dict(),
                    recipe=training_recipe(tc))
    save_atomic(blob, path)


def train(cfg: dict, resume: bool = True) -> dict:
    """Run the face stage described by ``cfg`` (see :func:`read_config`); returns history."""
    from ttsf.face.config import FaceConfig
    from ttsf.face.discriminator import Discriminator
    from ttsf.face.model import FaceBranch
    from ttsf.losses.weights import LossWeights
    from ttsf.train.av_data import AVClips, collate

    tc, lc, dc = cfg["train"], cfg["losses"], cfg["data"]
    if tc["lip_input"] not in ("f_m", "none"):
        raise ValueError(f"train.lip_input must be 'f_m' or 'none', got {tc['lip_input']!r}")
    rank, world, device, rng = start_run(tc)
    fcfg = FaceConfig.from_dict(cfg["model"].get("face", cfg["model"]))
    weights = LossWeights.from_dict(lc["weights"])
    root = resolve_root(str(dc["root"]))
    data = AVClips(root, dc["train"], fcfg.size, _no_audio_mel, lambda text: [0],
                   preload=bool(dc["preload"]), limit=dc["limit"])
    face, disc = FaceBranch(fcfg).to(device), Discriminator(fcfg).to(device)
    mods, loss_info = build_aux_losses(lc, device)
    opt_g, opt_d = make_optimisers(tc, face, disc)
    out = Path(tc["out_dir"])
    step = 0
    last = out / "last.pt"
    restored = resume_training(last, "face_config", fcfg.to_dict(),
                               {"model": face, "disc": disc, "opt_g": opt_g, "opt_d": opt_d},
                               device, tc["seed"], rank, training_recipe(tc)) if resume else None
    if restored is not None:
        step, rng = restored
    broadcast_parameters(world, face, disc)
    info = run_info(cfg, {"stage": "face", "losses": loss_info, "data": {
        "root": str(root), "manifest": dc["train"], "sha256": manifest_sha256(root, dc["train"]),
        "clips": len(data), "failed": data.failed}, "world_size": world})
    csv_log = open_run_dir(out, info, rank)
    history: list[dict] = []
    t0 = time.time()
    meta = {"losses": loss_info, "data_sha256": info["data"]["sha256"], "seed": tc["seed"],
            "data": data_record(dc, root, info["data"]["sha256"])}

    def checkpoint(path: Path, full: bool):
        if rank == 0:
            save_face(path, full, step, fcfg, face, disc, opt_g, opt_d, tc, meta)

    accum = accum_steps(tc)
    while step < int(tc["steps"]):
        face.train()
        picks = draw_batch(rng, len(data), int(tc["batch_size"]), accum, world)
        lr = warm_up_lr(step, tc, opt_g, opt_d)
        opt_g.zero_grad(set_to_none=True)
        d_out, sums = {}, {}
        for k in range(accum):  # micro-batches: losses / accum, gradients summed
            batch = collate([data.sample(int(i), 1, u=(a, b)) for i, a, b, _ in picks[k, rank]])
            res = generator_micro_step(face, disc, mods, weights, batch, tc, device, accum)
            add_micro_batch(sums, res["logged"], accum)
            if weights.gan:
                d_out = discriminator_step(disc, opt_d, res["target"], res["fake"], step, lc, device, tc["amp"],
                                           world, k, accum)
        generator_update(face, opt_g, tc, world)
        step += 1
        row = {"step": step, **{k: sums[k] for k in ("loss", "l1", "perceptual")}, "lr": lr,
               **{k: sums[k] for k in res["losses"]}, **d_out, "seconds": round(time.time() - t0, 2)}
        history.append(row)
        grid = lambda s: save_grid(out / "samples" / f"step_{s:07d}.png", res["source"], res["fake"], res["target"])  # noqa: E731
        if end_of_step("face", row, tc, rank, csv_log, t0, grid, lambda: checkpoint(last, True), log):
            break
    checkpoint(last, True)
    checkpoint(out / "face.pt", False)
    return {"steps": step, "history": history, "out_dir": str(out), "losses": loss_info}


def load_face(path, device="cpu"):
    """(FaceConfig, state dict) of a face-stage checkpoint (``weights_only=True``)."""
    from ttsf.face.config import FaceConfig

    blob = torch.load(str(path), map_location=device, weights_only=True)
    if not isinstance(blob, dict) or blob.get("format") != FACE_FORMAT:
        raise ValueError(f"{path}: not a face-stage checkpoint ({FACE_FORMAT})")
    return FaceConfig.from_dict(blob["face_config"]), blob["model"]


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ttsf.train face", description=__doc__.split("\n\n")[0])
    p.add_argument("--config", required=True, type=Path)
    p.add_argument("--set", nargs="*", default=[], metavar="SECTION.KEY=VALUE", help="config overrides")
    p.add_argument("--no-resume", action="store_true", help="ignore out_dir/last.pt")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from ttsf.config import parse_overrides

    cfg = read_config(args.config, parse_overrides(args.set))
    if cfg["stage"] not in (None, "face"):
        p.error(f"{args.config} is a {cfg['stage']!r} config, not a face one")
    res = train(cfg, resume=not args.no_resume)
    first, final = res["history"][0] if res["history"] else None, res["history"][-1] if res["history"] else None
    if first and final:
        print(f"face stage: {res['steps']} steps, L1 {first['l1']:.4f} -> {final['l1']:.4f}; out {res['out_dir']}")
    return 0
