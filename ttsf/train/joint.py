"""Joint TTSF training: ``python -m ttsf.train joint --config configs/joint/<name>.yaml``.

Stages (paper): the TTS is pretrained first (``python -m ttsf.train tts``; its checkpoint
is ``init.tts``), optionally the face branch is warmed up (``ttsf.train face``,
``init.face``), then everything is trained jointly on windows of ``train.window`` video
frames (paper: 32; the motion sampler may see a longer window, ``train.motion_window``, in
which the generator renders ``train.window`` frames at a random position) with

    L = 0.1·GAN + 1·rec + 0.3·id + 0.1·sync + 0.1·cfm + 1·ae + 0.1·prior + 1·tts

(weights in ``losses.weights``). Outputs in ``train.out_dir``: ``run.json``,
``losses.csv`` (every loss component), ``samples/*.png`` (source | generated | ground
truth; first frame of each window), ``last.pt`` (resume) and ``ttsf.pt`` (the joint
checkpoint that :meth:`ttsf.TTSF.load` reads).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import time
from pathlib import Path
from typing import Optional

import numpy as np
import torch
from torch import nn

from ttsf.data.roots import resolve_root
from ttsf.train.av_common import (
    accum_steps,
    add_micro_batch,
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
from ttsf.train.face import autocast, discriminator_step, load_face

log = logging.getLogger(__name__)


#: TTS parameters that read the speaker condition; they are re-initialised when the joint
#: model's condition (a face feature of ``style_dim``) is not the pretrained TTS's.
CONDITION_KEYS = ("cond_proj.", "speakers.")


def tts_body_state(pretrained: dict, target: dict, keep_condition: bool) -> tuple[dict, list[str]]:
    """The pretrained TTS's weights, without its condition input unless ``keep_condition``.

    The paper pretrains the TTS before joint training. A TTS pretrained on a face feature
    of the joint model's size keeps everything (``keep_condition``); one pretrained with
    another conditioning (a speaker-embedding table) keeps everything but the layers in
    :data:`CONDITION_KEYS`, which the joint model then learns from f_id. Returns
    ``(state, dropped keys)``; any other shape mismatch is an error.
    """
    state, dropped = {}, []
    for k, v in pretrained.items():
        if k.startswith(CONDITION_KEYS) and not (keep_condition and k in target):
            dropped.append(k)
            continue
        if k in target and tuple(target[k].shape) != tuple(v.shape):
            raise ValueError(f"pretrained TTS weight {k} has shape {tuple(v.shape)}, the joint model's is "
                             f"{tuple(target[k].shape)}; pretrain the TTS with the same sizes")
        state[k] = v
    return state, sorted(dropped)


def init_from(model, init: dict, device) -> dict:
    """Load ``init.face`` (face-stage checkpoint) and ``init.tts`` (TTS checkpoint) weights.

    ``init.tts`` may be conditioned on a face feature of another size or on a speaker table
    (``cond_mode`` face or speaker_embedding; an unconditioned TTS has other layer widths and
    is refused): its condition input is left at the joint model's initialisation (see
    :func:`tts_body_state`).
    """
    from ttsf.hashing import sha256_file

    done = {}
    if init.get("face"):
        fcfg, state = load_face(init["face"], device)
        # the layer routing of eq. 1 has no weights: a warm-up (every layer f_id + f_m) fits any routing
        routing = {"lip_layers": None, "motion_layers": None, "lip_fusion": "replace"}
        if dataclasses.replace(fcfg, **routing) != dataclasses.replace(model.cfg.face, **routing):
            raise ValueError(f"init.face {init['face']}: face config {fcfg} differs from the model's {model.cfg.face}")
        model.face.load_state_dict(state)
        done["face"] = str(init["face"])
        done["face_sha256"] = sha256_file(init["face"])
    if init.get("tts"):
        from ttsf.tts.checkpoint import read_checkpoint

        blob = read_checkpoint(init["tts"])
        pre_cfg = blob["config"]
        keep = pre_cfg.get("cond_mode") == "face" and int(pre_cfg.get("cond_dim") or 0) == model.cfg.face.style_dim
        state, reset = tts_body_state(blob["model"], model.tts.state_dict(), keep)
        missing, unexpected = model.tts.load_state_dict(state, strict=False)
        if unexpected or [k for k in missing if not k.startswith(CONDITION_KEYS)]:
            raise ValueError(f"init.tts {init['tts']}: incompatible TTS weights (missing {missing[:5]}, "
                             f"unexpected {unexpected[:5]}); pretrain the TTS with the same sizes")
        done["tts"] = str(init["tts"])
        done["tts_sha256"] = sha256_file(init["tts"])
        done["tts_cond_mode"] = str(pre_cfg.get("cond_mode"))
        done["tts_reset"] = [] if keep else sorted(k for k in model.tts.state_dict() if k.startswith(CONDITION_KEYS))
        if reset:
            log.info("init.tts %s: condition input %s starts fresh (pretrained with cond_mode %s)",
                     init["tts"], reset, done["tts_cond_mode"])
    return done


def tts_fields_for(model_cfg: dict, init: dict) -> dict:
    """TTS config fields: from the pretrained TTS checkpoint (``init.tts``) when given, else
    ``model.tts``; the face condition (cond_mode/cond_dim) is set by :class:`TTSFConfig`."""
    fields = dict(model_cfg.get("tts") or {})
    if init.get("tts"):
        from ttsf.tts.checkpoint import read_checkpoint

        pre = dict(read_checkpoint(init["tts"])["config"])
        clash = {k: (v, pre.get(k)) for k, v in fields.items() if k in pre and pre[k] != v}
        if clash:
            raise ValueError(f"model.tts {clash} disagrees with the pretrained TTS {init['tts']}")
        fields = pre
    for k in ("cond_mode", "cond_dim", "n_speakers"):
        fields.pop(k, None)
    return fields


def joint_step_losses(out: dict, batch: dict, mods: dict, weights, disc, device) -> dict:
    """Image-space losses on the valid frames of the windows (+ the model's own losses)."""
    from ttsf.losses.gan import g_loss

    fake, real = out["fake"], out["real"]  # the rendered part of each window
    valid = out["mask"][:, 0].bool()  # (B, T)
    ff, rf = fake[valid], real[valid]
    rec, l1, perc = mods["rec"](ff.float(), rf)
    losses = {k: out[k] for k in ("loss_tts", "loss_ae", "loss_prior", "loss_cfm")}
    losses["loss_rec"] = rec
    if weights.gan:
        losses["loss_gan"] = g_loss(disc(ff))
    if weights.id and mods["id"] is not None:
        losses["loss_id"] = mods["id"](ff.float(), rf)
    if weights.sync and mods["sync"] is not None:
        t = fake.shape[1]
        feats = batch[mods["sync"].audio_feature]  # mel (TorchScript experts) or mfcc (syncnet_python nets)
        audio = torch.stack([
            nn.functional.pad(feats[i], (0, 4 * t))[:, 4 * int(o): 4 * (int(o) + t)]
            for i, o in enumerate(out["render_offsets"])]).to(device)
        losses["loss_sync"] = mods["sync"](fake.float(), audio)
    return {"losses": losses, "l1": float(l1), "perceptual": float(perc), "fake_flat": ff, "real_flat": rf}


def mel_statistics(data) -> tuple[float, float]:
    """Mean and standard deviation of every mel value of the training clips (float64 sums)."""
    mels = [data.record(i)["mel"].double() for i in range(len(data))]
    n = sum(m.numel() for m in mels)
    mean = sum(float(m.sum()) for m in mels) / n
    std = max(sum(float((m * m).sum()) for m in mels) / n - mean * mean, 0.0) ** 0.5
    log.info("mel statistics from %d clips: mean %.4f std %.4f", len(mels), mean, std)
    return mean, std


def build_model_and_data(cfg: dict, device):
    """The training clips and the joint model (TTS fields from ``init.tts`` or ``model.tts``;
    ``mel_mean``/``mel_std`` from the clips when not given), its ``init`` weights loaded.
    Returns ``(model, data, root, init record)``."""
    from ttsf.media import mel as mel_spectrogram
    from ttsf.model import TTSF, TTSFConfig
    from ttsf.train.av_data import AVClips
    from ttsf.tts.config import TTSConfig
    from ttsf.tts.text import text_to_tokens

    lc, dc = cfg["losses"], cfg["data"]
    model_cfg = dict(cfg["model"])
    tts_fields = tts_fields_for(model_cfg, cfg["init"])
    probe = TTSConfig.from_dict({**{k: v for k, v in tts_fields.items() if k not in ("mel_mean", "mel_std")},
                                 "cond_mode": "face", "cond_dim": TTSFConfig.from_dict(model_cfg).face.style_dim})
    mel_cfg = probe.mel
    root = resolve_root(str(dc["root"]))
    data = AVClips(root, dc["train"], TTSFConfig.from_dict(model_cfg).face.size,
                   lambda a: mel_spectrogram(a, mel_cfg), text_to_tokens, fps=int(model_cfg.get("fps", 25)),
                   sample_rate=mel_cfg.sample_rate, hop=mel_cfg.hop_length, preload=bool(dc["preload"]),
                   limit=dc["limit"], mfcc=str(lc["sync"]).startswith("syncnet:"))
    if tts_fields.get("mel_mean") is None or tts_fields.get("mel_std") is None:
        mean, std = mel_statistics(data)
        tts_fields.update(mel_mean=mean, mel_std=std)
    model_cfg["tts"] = tts_fields
    model = TTSF(TTSFConfig.from_dict(model_cfg)).to(device)
    return model, data, root, init_from(model, cfg["init"], device)


def windows(tc: dict) -> tuple[int, int]:
    """``(train.window, train.motion_window)``: rendered frames and the motion sampler's window."""
    window = int(tc["window"])
    motion_window = int(tc["motion_window"] or window)
    if motion_window < window:
        raise ValueError(f"train.motion_window {motion_window} < train.window {window}")
    return window, motion_window


def generator_micro_step(model, disc, mods: dict, weights, batch: dict, mine: np.ndarray, tc: dict, device,
                         cfm_gen, accum: int) -> tuple[dict, dict, dict]:
    """Joint losses of one micro-batch (``mine``: this rank's rows of :func:`draw_batch`),
    scaled by ``1/accum`` and backpropagated. Returns ``(model outputs, losses, logged values)``."""
    from ttsf.losses.weights import weighted_total

    window, motion_window = windows(tc)
    render_start = torch.from_numpy(np.minimum((mine[:, 3] * (motion_window - window + 1)).astype(np.int64),
                                               motion_window - window))
    dev_batch = {key: (v.to(device) if torch.is_tensor(v) else v) for key, v in batch.items()}
    disc.requires_grad_(False)  # the G losses' backward must not add to D's accumulated gradients
    with autocast(device, tc["amp"]):
        out = model.joint_losses(dev_batch["source"], dev_batch["frames"], dev_batch["offsets"],
                                 dev_batch["tokens"], dev_batch["token_lengths"], dev_batch["mel"],
                                 dev_batch["mel_lengths"], cfm_gen, render=window, render_start=render_start)
        res = joint_step_losses(out, dev_batch, mods, weights, disc, device)
        total = weighted_total(res["losses"], weights)
    (total / accum).backward()
    logged = {"loss": total, **res["losses"], **{key: out[key] for key in ("tts_prior", "tts_duration", "tts_cfm")},
              "l1": res["l1"], "perceptual": res["perceptual"]}
    return out, res, logged


def train(cfg: dict, resume: bool = True) -> dict:
    from ttsf.face.discriminator import Discriminator
    from ttsf.losses.weights import LossWeights
    from ttsf.train.av_data import collate

    tc, lc, dc = cfg["train"], cfg["losses"], cfg["data"]
    rank, world, device, rng = start_run(tc)
    model, data, root, init_done = build_model_and_data(cfg, device)
    weights = LossWeights.from_dict(lc["weights"])
    disc = Discriminator(model.cfg.face).to(device)
    mods, loss_info = build_aux_losses(lc, device)
    opt_g, opt_d = make_optimisers(tc, model, disc)
    out_dir = Path(tc["out_dir"])
    last = out_dir / "last.pt"
    step = 0
    restored = resume_training(last, "config", model.cfg.to_dict(),
                               {"model": model, "disc": disc, "opt_g": opt_g, "opt_d": opt_d},
                               device, tc["seed"], rank, training_recipe(tc)) if resume else None
    if restored is not None:
        step, rng = restored
    broadcast_parameters(world, model, disc)
    info = run_info(cfg, {"stage": "joint", "losses": loss_info, "init": init_done, "world_size": world,
                          "data": {"root": str(root), "manifest": dc["train"],
                                   "sha256": manifest_sha256(root, dc["train"]), "clips": len(data),
                                   "failed": data.failed}})
    csv_log = open_run_dir(out_dir, info, rank)
    meta = {"seed": tc["seed"], "data_sha256": info["data"]["sha256"], "losses": loss_info, "init": init_done,
            "torch": str(torch.__version__), "git": info["git"], "data": data_record(dc, root, info["data"]["sha256"])}
    history: list[dict] = []
    t0 = time.time()
    window, motion_window = windows(tc)
    cfm_gen = torch.Generator(device=device).manual_seed(int(tc["seed"]) * 7919 + rank + step)

    def save_last():
        if rank == 0:
            save_atomic({"config": model.cfg.to_dict(), "model": model.state_dict(), "disc": disc.state_dict(),
                         "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(), "step": step,
                         "recipe": training_recipe(tc)}, last)

    accum = accum_steps(tc)
    while step < int(tc["steps"]):
        model.train()
        picks = draw_batch(rng, len(data), int(tc["batch_size"]), accum, world)
        lr = warm_up_lr(step, tc, opt_g, opt_d)
        opt_g.zero_grad(set_to_none=True)
        d_out, sums = {}, {}
        for k in range(accum):  # micro-batches: losses / accum, gradients summed
            mine = picks[k, rank]
            batch = collate([data.sample(int(i), motion_window, u=(a, b)) for i, a, b, _ in mine])
            out, res, logged = generator_micro_step(model, disc, mods, weights, batch, mine, tc, device, cfm_gen, accum)
            add_micro_batch(sums, logged, accum)
            if weights.gan:
                d_out = discriminator_step(disc, opt_d, res["real_flat"], res["fake_flat"], step, lc, device,
                                           tc["amp"], world, k, accum)
        generator_update(model, opt_g, tc, world)
        step += 1
        row = {"step": step, **{key: sums[key] for key in ("loss", "l1", "perceptual")}, "lr": lr,
               **{key: sums[key] for key in res["losses"]},
               **{key: sums[key] for key in ("tts_prior", "tts_duration", "tts_cfm")}, **d_out,
               "seconds": round(time.time() - t0, 2)}
        history.append(row)
        grid = lambda s: save_grid(out_dir / "samples" / f"step_{s:07d}.png", batch["source"],  # noqa: E731
                                   out["fake"][:, 0], out["real"][:, 0])
        if end_of_step("joint", row, tc, rank, csv_log, t0, grid, save_last, log):
            break
    save_last()
    if rank == 0:
        model.save(out_dir / "ttsf.pt", {**meta, "steps": step})
    return {"steps": step, "history": history, "out_dir": str(out_dir), "losses": loss_info}


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ttsf.train joint", description=__doc__.split("\n\n")[0])
    p.add_argument("--config", required=True, type=Path)
    p.add_argument("--set", nargs="*", default=[], metavar="SECTION.KEY=VALUE", help="config overrides")
    p.add_argument("--no-resume", action="store_true", help="ignore out_dir/last.pt")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from ttsf.config import parse_overrides

    cfg = read_config(args.config, parse_overrides(args.set))
    if cfg["stage"] not in (None, "joint"):
        p.error(f"{args.config} is a {cfg['stage']!r} config, not a joint one")
    res = train(cfg, resume=not args.no_resume)
    if res["history"]:
        a, b = res["history"][0], res["history"][-1]
        print(f"joint stage: {res['steps']} steps, loss {a['loss']:.4f} -> {b['loss']:.4f}, "
              f"L1 {a['l1']:.4f} -> {b['l1']:.4f}; checkpoint {Path(res['out_dir']) / 'ttsf.pt'}")
    return 0
