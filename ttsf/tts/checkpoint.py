"""TTS checkpoints: plain state dicts + the config dict, loaded with ``weights_only=True``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Union

import torch

from ttsf.atomic import atomic_save
from ttsf.tts.config import TTSConfig

FORMAT = "ttsf-tts/1"


def save_checkpoint(path: Union[str, os.PathLike], model, cfg: TTSConfig, speakers: Optional[list] = None,
                    optimizer=None, step: int = 0, epoch: int = 0, extra: Optional[dict] = None,
                    half: bool = False) -> Path:
    """Write atomically. ``half`` stores float tensors as float16 (small inference checkpoints)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    blob = {"format": FORMAT, "model": state, "config": cfg.to_dict(), "speakers": list(speakers or []),
            "step": int(step), "epoch": int(epoch), "extra": dict(extra or {})}
    if optimizer is not None:
        blob["optimizer"] = optimizer.state_dict()
        blob["rng"] = torch.get_rng_state()
    return atomic_save(path, lambda tmp: torch.save(blob, tmp))


def read_checkpoint(path: Union[str, os.PathLike]) -> dict:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"TTS checkpoint {path} not found: train one with `python -m ttsf.train tts --config "
            "configs/tts/synth_cpu.yaml` or use checkpoints/tts_synth.pt (see checkpoints/README.md)")
    blob = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise ValueError(f"{path}: not a ttsf TTS checkpoint "
                         f"(format {blob.get('format') if isinstance(blob, dict) else None!r})")
    return blob


def load_model(path: Union[str, os.PathLike], device: str = "cpu"):
    """Return ``(model in eval mode, checkpoint dict)``."""
    from ttsf.tts.model import TTS

    blob = read_checkpoint(path)
    cfg = TTSConfig.from_dict(blob["config"])
    model = TTS(cfg)
    state = {k: v.float() if v.is_floating_point() else v for k, v in blob["model"].items()}
    model.load_state_dict(state)
    return model.to(device).eval(), blob


def export_inference(src: Union[str, os.PathLike], dst: Union[str, os.PathLike]) -> Path:
    """Write a small float16 inference copy of a training checkpoint (no optimizer state)."""
    model, blob = load_model(src)
    return save_checkpoint(dst, model, model.cfg, blob.get("speakers"), step=blob["step"], epoch=blob["epoch"],
                           extra=blob.get("extra"), half=True)


def main(argv=None) -> int:
    """``python -m ttsf.tts.checkpoint export SRC DST``."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m ttsf.tts.checkpoint")
    sub = ap.add_subparsers(dest="cmd", required=True)
    ex = sub.add_parser("export", help="float16 inference copy of a training checkpoint")
    ex.add_argument("src")
    ex.add_argument("dst")
    args = ap.parse_args(argv)
    out = export_inference(args.src, args.dst)
    print(f"{out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
