"""Loss weights; defaults are the paper's (λ1..λ7 and the TTS loss)."""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from ttsf.config import DictConfig


@dataclasses.dataclass(frozen=True)
class LossWeights(DictConfig):
    """L = gan·GAN + rec·(L1 + perceptual) + id·ID + sync·SYNC + cfm·CFM + ae·AE + prior·PRIOR + tts·TTS."""

    gan: float = 0.1
    rec: float = 1.0
    id: float = 0.3
    sync: float = 0.1
    cfm: float = 0.1
    ae: float = 1.0
    prior: float = 0.1
    tts: float = 1.0

    def __post_init__(self):
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, float(getattr(self, f.name)))


def weighted_total(losses: Mapping[str, Any], weights: LossWeights):
    """Sum ``weight·loss`` over the keys ``loss_<name>`` present in ``losses``."""
    total = 0.0
    for name, w in weights.to_dict().items():
        key = f"loss_{name}"
        if key in losses and w != 0.0:
            total = total + w * losses[key]
    return total
