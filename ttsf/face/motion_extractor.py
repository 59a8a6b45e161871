"""Motion extractor E_m: 5-layer MLP -> magnitudes over QR-orthogonalised motion codes."""

from __future__ import annotations

import torch
from torch import nn

from ttsf.face.config import FaceConfig
from ttsf.face.layers import EqualLinear


class MotionCodes(nn.Module):
    """Trainable direction matrix ``(style_dim, n_motion)`` made orthonormal by QR.

    ``forward(alpha (..., n_motion)) -> (..., style_dim)`` returns ``Σ_i α_i q_i``.
    """

    def __init__(self, style_dim: int, n_motion: int):
        super().__init__()
        if n_motion > style_dim:
            raise ValueError(f"n_motion {n_motion} > style_dim {style_dim}")
        self.weight = nn.Parameter(torch.randn(style_dim, n_motion))

    def basis(self) -> torch.Tensor:
        """Orthonormal columns ``Q`` ``(style_dim, n_motion)`` (QR of the weight)."""
        q, _ = torch.linalg.qr(self.weight + 1e-8)
        return q

    def forward(self, alpha: torch.Tensor) -> torch.Tensor:
        return alpha @ self.basis().T


class MotionExtractor(nn.Module):
    """E_m: ``f (B, style_dim) -> (f_m (B, style_dim), alpha (B, n_motion))``."""

    def __init__(self, cfg: FaceConfig):
        super().__init__()
        d = cfg.style_dim
        layers = [EqualLinear(d, d, activation=True) for _ in range(cfg.mlp_layers - 1)]
        layers.append(EqualLinear(d, cfg.n_motion))
        self.mlp = nn.Sequential(*layers)
        self.codes = MotionCodes(d, cfg.n_motion)

    def forward(self, f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        alpha = self.mlp(f)
        return self.codes(alpha), alpha
