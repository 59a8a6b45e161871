"""TTSF as evaluated systems: ``ttsf`` (speech + video), ``ttsf-tts`` (its speech only)
and the paper's ablations, each bound to a joint checkpoint.

Options: ``checkpoint`` (default ``$TTSF_CHECKPOINT`` or ``checkpoints/ttsf_synth.pt``, the
demo checkpoint trained on the synthetic corpus: on any other split it is refused unless
named, see :func:`demo_checkpoint_refusal`),
``steps`` (Euler steps, 10), ``temperature`` (TTS; the model's default when None),
``motion_temperature`` (1.0), ``face_index`` (for sources with several faces).
Per-item seeds derive from the run seed and the item id. Ablation systems check that
the checkpoint really is that ablation (its config), so a row is never mislabelled.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Optional

from eval.systems.base import Context, GenerationError, Output, System
from eval.systems.inputs import source_image
from ttsf.data.manifest import Item

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CHECKPOINT = REPO / "checkpoints" / "ttsf_synth.pt"
ENV = "TTSF_CHECKPOINT"


def demo_checkpoint_refusal(split: str) -> str:
    """Why the unnamed default (demo) checkpoint is refused on the non-synthetic ``split``."""
    return (f"the TTSF systems would use the default checkpoint {DEFAULT_CHECKPOINT.relative_to(REPO)}, a 64-px "
            "demo trained on the synthetic corpus (8 rendered identities), on the real split "
            f"{split!r}: its numbers would not describe TTSF. Train TTSF on LRS3 (the recipe: "
            "scripts/train_paper.sh -- `python -m eval.splits freeze lrs3 --data-root DIR`, then "
            "`python -m ttsf.train tts|face|joint` with configs/*/lrs3_paper.yaml) and name its checkpoint: "
            f"{ENV}=runs/joint_lrs3/ttsf.pt (or the system option checkpoint=PATH). To score the demo "
            f"checkpoint anyway, name it: {ENV}={DEFAULT_CHECKPOINT.relative_to(REPO)}.")


def refuse_demo_checkpoint(system_names, split: str, synthetic: bool) -> Optional[str]:
    """The refusal message when a run on a non-synthetic split includes a TTSF system that
    would fall back to the demo checkpoint (no ``$TTSF_CHECKPOINT``), else ``None``.

    ``system_names``: registry names (``ttsf``, ``ttsf-tts``, ...; others are ignored)."""
    if synthetic or os.environ.get(ENV):
        return None
    from eval.systems import REGISTRY

    for name in system_names:
        if name not in REGISTRY.names():
            continue  # unknown names are reported by the run itself
        module, _, attr = REGISTRY.target(name).partition(":")
        cls = globals().get(attr) if module == __name__ else None
        if isinstance(cls, type) and issubclass(cls, TTSFSystem):
            return demo_checkpoint_refusal(split)
    return None


def item_seed(seed: int, item_id: str) -> int:
    """A stable per-item seed (independent of item order and of Python's hash salt)."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{item_id}".encode()).digest()[:4], "little")


class TTSFSystem(System):
    name = "ttsf"
    produces = ("audio", "video")
    version = "1"
    speech_source = "self"
    description = "TTSF (ours): text + portrait -> speech + talking face, one joint model"
    #: (config path, required value) pairs the checkpoint must satisfy (ablations)
    requires: tuple[tuple[str, Any], ...] = (("tts_condition", "f_id"),
                                              ("motion.mapper_inputs", ["e_t", "f_tilde", "energy"]))
    video = True

    def __init__(self, checkpoint: Optional[str] = None, steps: int = 10, temperature: Optional[float] = None,
                 motion_temperature: float = 1.0, face_index: Optional[int] = None, **options: Any):
        #: True when the user chose the checkpoint (option or $TTSF_CHECKPOINT), not the demo default
        self.named = bool(checkpoint or os.environ.get(ENV))
        checkpoint = checkpoint or os.environ.get(ENV) or str(DEFAULT_CHECKPOINT)
        super().__init__(checkpoint=str(checkpoint), steps=int(steps), temperature=temperature,
                         motion_temperature=float(motion_temperature), face_index=face_index, **options)
        self.checkpoint = Path(checkpoint)
        self._model = None
        self._sha: Optional[str] = None

    def checkpoint_sha256(self) -> str:
        if self._sha is None:
            h = hashlib.sha256()
            with open(self.checkpoint, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            self._sha = h.hexdigest()
        return self._sha

    def config(self) -> dict:
        cfg = super().config()
        if self.checkpoint.is_file():
            cfg["checkpoint_sha256"] = self.checkpoint_sha256()  # new weights -> new cache key
        return cfg

    def provenance(self) -> dict:
        if not self.checkpoint.is_file():
            return {}
        from ttsf.provenance import training_data

        meta = getattr(self.model(), "meta", {})
        return {"checkpoint": str(self.checkpoint), "sha256": self.checkpoint_sha256(), "named": self.named,
                "training_data": training_data(meta), "meta": meta}

    def readiness(self) -> tuple[bool, str]:
        if not self.checkpoint.is_file():
            return False, (f"checkpoint {self.checkpoint} not found: train one with `python -m ttsf.train joint "
                           f"--config configs/joint/<name>.yaml` and pass checkpoint=<out_dir>/ttsf.pt "
                           f"(or set TTSF_CHECKPOINT)")
        try:
            self.model()
        except (ValueError, RuntimeError, OSError) as exc:
            return False, f"checkpoint {self.checkpoint}: {exc}"
        return True, f"ready ({self.checkpoint})"

    def model(self):
        if self._model is None:
            from ttsf.model import TTSF

            model = TTSF.load(self.checkpoint)
            cfg = model.cfg.to_dict()
            for key, want in self.requires:
                got = cfg
                for part in key.split("."):
                    got = got[part]
                if (list(got) if isinstance(got, (list, tuple)) else got) != want:
                    raise ValueError(f"system {self.name!r} needs {key} = {want!r}, the checkpoint has {got!r}")
            self._model = model
        return self._model

    def generate(self, item: Item, ctx: Context) -> Output:
        from ttsf import media
        from ttsf.face.align import FaceAlignError
        from ttsf.provenance import synthetic_corpus_of

        if not self.named and synthetic_corpus_of(ctx.data_root) is None:
            raise GenerationError(demo_checkpoint_refusal(f"data root {ctx.data_root}"), code="demo_checkpoint")
        if not item.text:
            raise GenerationError(f"item {item.id} has no text", code="bad_input")
        try:
            image = source_image(item, ctx.data_root)
        except media.MediaError as exc:
            raise GenerationError(f"source image: {exc}", code="bad_input") from exc
        model = self.model()
        try:
            out = model.synthesize(item.text, image, seed=item_seed(ctx.seed, item.id), steps=self.options["steps"],
                                   temperature=self.options["temperature"],
                                   motion_temperature=self.options["motion_temperature"],
                                   face_index=self.options["face_index"], video=self.video)
        except FaceAlignError as exc:
            raise GenerationError(str(exc), code="no_face") from exc
        wav = media.write_audio(ctx.output_path(item, ".wav"), out.wav, out.sample_rate)
        if not self.video:
            return Output(audio=wav)
        mp4 = media.write_video(ctx.output_path(item, ".mp4"), out.frames, fps=out.fps, audio=out.wav,
                                sample_rate=out.sample_rate)
        return Output(video=mp4, audio=wav)


class TTSFSpeech(TTSFSystem):
    name = "ttsf-tts"
    produces = ("audio",)
    description = "TTSF's speech branch only (Table 3 'w/o motion': TTS conditioned on f_id)"
    requires = (("tts_condition", "f_id"),)
    video = False


class TTSFSpeechWithMotion(TTSFSpeech):
    name = "ttsf-tts-wmotion"
    description = "ablation (Table 3 'w/ motion'): TTS conditioned on f_id + f_m"
    requires = (("tts_condition", "f_id+f_m"),)


class TTSFMapperEt(TTSFSystem):
    name = "ttsf-mapper-et"
    description = "ablation (Table 5): audio mapper input e_t only"
    requires = (("motion.mapper_inputs", ["e_t"]),)


class TTSFMapperEtFt(TTSFSystem):
    name = "ttsf-mapper-et-ft"
    description = "ablation (Table 5): audio mapper input e_t + f~_t (no energy)"
    requires = (("motion.mapper_inputs", ["e_t", "f_tilde"]),)
