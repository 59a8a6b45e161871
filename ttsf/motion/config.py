"""Configuration of the audio mapper and the motion sampler."""

from __future__ import annotations

import dataclasses

from ttsf.config import DictConfig

AUDIO_MAPPER_INPUTS = ("e_t", "f_tilde", "energy")


@dataclasses.dataclass(frozen=True)
class MotionConfig(DictConfig):
    """Sizes for :class:`AudioMapper` and :class:`MotionSampler`.

    ``mapper_inputs`` selects the audio-mapper ablation of Table 5: ``("e_t",)``,
    ``("e_t", "f_tilde")`` or ``("e_t", "f_tilde", "energy")`` (the paper's model).
    ``mapper_zero_init`` starts the mapper's output layer at zero, so f_lip = 0 at the first
    joint step: a face warm-up trained with ``train.lip_input: none`` (lip layers fed f_id
    alone) then continues without a jump. Only the initialisation differs.
    """

    motion_dim: int = 512  # = FaceConfig.style_dim
    d_emb: int = 192  # TTS text-embedding size (e_t)
    d_enc: int = 192  # TTS encoder size (f_tilde)
    mapper_inputs: tuple[str, ...] = AUDIO_MAPPER_INPUTS
    mapper_channels: int = 256
    mapper_kernels: tuple[int, ...] = (3, 5, 7)
    mapper_dilations: tuple[int, ...] = (1, 3)
    mapper_stages: int = 2
    mapper_zero_init: bool = False
    mel_per_frame: int = 4  # 100 mel frames/s over 25 video frames/s
    compressed_dim: int = 16  # f_c
    normaliser_hidden: int = 256
    prior_layers: int = 4
    prior_dim: int = 256
    prior_heads: int = 4
    prior_kernel: int = 15
    estimator_layers: int = 2
    dropout: float = 0.1
    window: int = 32  # training window in video frames

    def __post_init__(self):
        for name in ("mapper_inputs", "mapper_kernels", "mapper_dilations"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        bad = [x for x in self.mapper_inputs if x not in AUDIO_MAPPER_INPUTS]
        if bad or "e_t" not in self.mapper_inputs:
            raise ValueError(f"mapper_inputs must contain 'e_t' and only {AUDIO_MAPPER_INPUTS}, "
                             f"got {self.mapper_inputs}")

