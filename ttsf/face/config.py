"""Face-branch configuration (frozen dataclass; YAML overrides via :func:`ttsf.config.from_dict`)."""

from __future__ import annotations

import dataclasses
import math
from typing import Optional

from ttsf.config import DictConfig


@dataclasses.dataclass(frozen=True)
class FaceConfig(DictConfig):
    """Sizes of the face branch.

    ``size`` is the square image side (power of two, >= 8). The generator has
    ``n_layers = log2(size) - 1`` synthesis layers at 4, 8, …, ``size`` px; they are
    numbered 1..n_layers as in the paper's eq. 1. ``lip_layers`` default to the last two
    (6 and 7 at 256 px, as in the paper); ``motion_layers`` default to all other layers.
    A layer in neither set receives ``f_id`` alone. ``lip_fusion`` is what a lip layer
    receives: ``"replace"`` (eq. 1: ``f_id + f_lip``) or ``"add"`` (``f_id + f_m + f_lip``, not
    the paper's: pose stays in every layer, for small CPU models whose lip layers are a large
    part of the generator; with ``f_lip = 0`` it renders what a face warm-up rendered).
    """

    size: int = 256
    style_dim: int = 512  # dimension of E_v(I), f_id, f_m, f_lip
    n_motion: int = 20  # number of orthogonal motion codes (LIA: 20)
    mlp_layers: int = 5  # motion extractor depth (LIA: 5)
    channel_base: int = 64  # channels at full resolution
    channel_max: int = 512  # cap on channels at low resolution
    lip_layers: Optional[tuple[int, ...]] = None
    motion_layers: Optional[tuple[int, ...]] = None
    disc_channel_max: Optional[int] = None  # discriminator cap (defaults to channel_max)
    lip_fusion: str = "replace"  # "replace" (eq. 1) or "add" (lip layers also get f_m)

    def __post_init__(self):
        if self.size < 8 or self.size & (self.size - 1):
            raise ValueError(f"size must be a power of two >= 8, got {self.size}")
        n = self.n_layers
        for name in ("lip_layers", "motion_layers"):
            layers = getattr(self, name)
            if layers is not None:
                object.__setattr__(self, name, tuple(int(k) for k in layers))
                bad = [k for k in getattr(self, name) if not 1 <= k <= n]
                if bad:
                    raise ValueError(f"{name} {bad} outside 1..{n} for size {self.size}")
        if self.lip_fusion not in ("replace", "add"):
            raise ValueError(f"lip_fusion must be 'replace' (eq. 1) or 'add', got {self.lip_fusion!r}")
        overlap = set(self.lip_set) & set(self.motion_set)
        if overlap:
            raise ValueError(f"layers {sorted(overlap)} are both lip and motion layers")

    @property
    def n_layers(self) -> int:
        return int(math.log2(self.size)) - 1

    @property
    def lip_set(self) -> tuple[int, ...]:
        if self.lip_layers is not None:
            return self.lip_layers
        return tuple(range(max(1, self.n_layers - 1), self.n_layers + 1))

    @property
    def motion_set(self) -> tuple[int, ...]:
        if self.motion_layers is not None:
            return self.motion_layers
        return tuple(k for k in range(1, self.n_layers + 1) if k not in self.lip_set)

    def resolution(self, layer: int) -> int:
        """Spatial size of synthesis layer ``layer`` (1-based)."""
        return 4 * 2 ** (layer - 1)

    def channels(self, resolution: int) -> int:
        return int(min(self.channel_max, self.channel_base * self.size // resolution))

