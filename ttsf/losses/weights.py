"""Loss weights; defaults are the paper's (λ1..λ7 and the TTS loss)."""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping


@dataclasses.dataclass(frozen=True)
class LossWeights:
    """L = gan·GAN + rec·(L1 + perceptual) + id·ID + sync·SYNC + cfm·CFM + ae·AE + prior·PRIOR + tts·TTS."""

    gan: float = 0.1
    rec: float = 1.0
    id: float = 0.3
    sync: float = 0.1
    cfm: float = 0.1
    ae: float = 1.0
    prior: float = 0.1
    tts: float = 1.0

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "LossWeights":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown loss weights {sorted(unknown)}; known {sorted(names)}")
        return cls(**{k: float(v) for k, v in d.items()})

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def weighted_total(losses: Mapping[str, Any], weights: LossWeights):
    """Sum ``weight·loss`` over the keys ``loss_<name>`` present in ``losses``."""
    total = 0.0
    for name, w in weights.to_dict().items():
        key = f"loss_{name}"
        if key in losses and w != 0.0:
            total = total + w * losses[key]
    return total
