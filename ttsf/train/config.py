"""The configuration of every training stage (``tts``, ``face``, ``joint``), read one way.

A stage config is a YAML file (``base: other.yaml`` deep-merged underneath) whose sections
are fields of a frozen dataclass: :class:`AVStageConfig` for the face and joint stages
(``stage``, ``model``, ``data``, ``train``, ``losses``, ``init``, ``notes``) and
:class:`TTSStageConfig` for the TTS stage (``model``, ``data``, ``train``). ``--set
section.key=value`` overrides (values parsed as YAML; ``losses.weights.gan=0`` reaches into a
mapping) are written into the file's mapping before it is validated, so an unknown section or
key is refused with the valid names whichever way it came in. :func:`load_stage_config` is
the only reader; ``ttsf.train.face``/``joint`` use its :meth:`AVStageConfig.as_dict` form.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Mapping, Optional, Union

from ttsf.config import apply_overrides, from_dict, read_yaml
from ttsf.data.roots import resolve_named
from ttsf.paths import runs_dir

# ----------------------------------------------------------------------------- face / joint


@dataclasses.dataclass(frozen=True)
class AVTrainConfig:
    """``train`` section of the face and joint stages."""

    steps: int = 1000
    batch_size: int = 4
    lr: float = 1e-4
    betas: Any = (0.5, 0.99)
    seed: int = 0
    window: int = 1
    motion_window: Optional[int] = None
    log_every: int = 10
    sample_every: int = 200
    ckpt_every: int = 200
    max_minutes: Optional[float] = None
    threads: int = 0
    device: str = "cpu"
    amp: Any = True
    grad_clip: float = 10.0
    out_dir: str = runs_dir("face")
    lip_input: str = "f_m"  # face stage: what the eq. 1 lip layers get besides f_id ("f_m" or "none")
    lr_warmup: int = 0  # steps of linear learning-rate warm-up (0: none)
    accum_steps: int = 1  # micro-batches per optimiser step (gradient accumulation)


@dataclasses.dataclass(frozen=True)
class AVLossesConfig:
    """``losses`` section: ``weights`` are :class:`ttsf.losses.weights.LossWeights` fields."""

    weights: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    perceptual: str = "auto"
    identity: str = "imagenet_proxy"
    sync: str = "none"
    sync_crop: Any = None
    r1_gamma: float = 10.0
    r1_every: int = 16


@dataclasses.dataclass(frozen=True)
class AVDataConfig:
    """``data`` section: ``root`` is ``synth:<preset>`` or a folder; ``train`` its manifest."""

    root: str = "synth:default"
    train: str = "synth_train.jsonl"
    preload: bool = True
    limit: Optional[int] = None


@dataclasses.dataclass(frozen=True)
class AVStageConfig:
    """A face or joint stage: ``model`` holds :class:`ttsf.model.TTSFConfig` fields (or, for
    the face stage, ``face:`` ones), checked when the model is built; ``init`` the checkpoints
    to start from (``face``, ``tts``); ``notes`` is free text, not part of the run config."""

    stage: Optional[str] = None
    model: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    data: AVDataConfig = dataclasses.field(default_factory=AVDataConfig)
    train: AVTrainConfig = dataclasses.field(default_factory=AVTrainConfig)
    losses: AVLossesConfig = dataclasses.field(default_factory=AVLossesConfig)
    init: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    notes: Any = None

    def as_dict(self) -> dict:
        """The plain mapping the face/joint training code reads (and records in ``run.json``)."""
        return {"stage": self.stage, "model": dict(self.model), "data": _plain(self.data),
                "train": _plain(self.train), "losses": _plain(self.losses), "init": dict(self.init)}


def _plain(section) -> dict:
    out = {}
    for f in dataclasses.fields(section):
        v = getattr(section, f.name)
        out[f.name] = list(v) if isinstance(v, tuple) else (dict(v) if isinstance(v, Mapping) else v)
    return out


# ----------------------------------------------------------------------------- tts


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
    """``train`` section of the TTS stage."""

    seed: int = 1234
    batch_size: int = 16
    lr: float = 1e-4
    max_steps: int = 100000
    max_minutes: Optional[float] = None  # stop (and save) after this much wall-clock time
    grad_clip: float = 1.0
    log_every: int = 10
    ckpt_every: int = 1000
    keep_every_ckpt: bool = False
    out_dir: str = runs_dir("tts")
    threads: Optional[int] = None
    device: str = "cpu"


@dataclasses.dataclass(frozen=True)
class TTSStageConfig:
    """The TTS stage: ``model`` holds :class:`ttsf.tts.config.TTSConfig` fields (``mel_mean``/
    ``mel_std`` may be null: computed from the data), checked when the model is built."""

    model: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)


# ----------------------------------------------------------------------------- the loader


def load_stage_config(path: Union[str, Path], overrides: Optional[Mapping[str, Any]] = None,
                      schema: type = AVStageConfig):
    """Read ``path`` (with its ``base:`` chain), apply ``overrides`` (``{"section.key": value}``,
    e.g. from :func:`ttsf.config.parse_overrides`) and validate it as ``schema``."""
    data = read_yaml(Path(path))
    sections = [f.name for f in dataclasses.fields(schema)]
    writable = [s for s in sections if s not in ("stage", "notes")]
    data = apply_overrides(data, overrides, writable)
    for name in writable:  # a section written as ``train:`` with nothing under it
        if name in data and data[name] is None:
            data[name] = {}
    try:
        return from_dict(schema, data, "sections")
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
