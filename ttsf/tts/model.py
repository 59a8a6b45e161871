"""TTSF's TTS branch: Matcha-TTS-style OT-CFM text-to-mel with an identity condition.

Tokens -> e_t -> text encoder (condition concatenated after the prenet) -> f_t ->
prior mean mu_x and log-durations (on the detached f_t) -> MAS (training) or
predicted durations (inference) -> length regulation to f~_t and mu_y -> CFM
decoder (U-Net, input [x_t, mu_y, condition]) -> mel. Mels are normalised inside
the model with the dataset's scalar mean/std (``cfg.mel_mean``/``cfg.mel_std``):
``forward`` takes and ``synthesise`` returns natural-log mels of ``cfg.mel``.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import nn

from ttsf.flow_matching import FlowMatching
from ttsf.tts.alignment import gaussian_log_prior, mas, path_from_durations, regulate, sequence_mask
from ttsf.tts.config import TTSConfig
from ttsf.tts.decoder import UNetDecoder
from ttsf.tts.encoder import DurationPredictor, TextEncoder


def _random_windows(tensors, lengths: torch.Tensor, size: int, generator=None):
    """Cut a random ``size``-frame window per item from each ``(B, C, T)`` tensor."""
    room = (lengths - size).clamp_min(0).float()
    u = torch.rand(lengths.shape[0], generator=generator, device="cpu" if generator is None else generator.device)
    starts = (u.to(room.device) * (room + 1)).floor().long().clamp_max(room.long())
    idx = starts[:, None] + torch.arange(size, device=lengths.device)[None, :]  # (B, size)
    return tuple(torch.gather(t, 2, idx[:, None, :].expand(-1, t.shape[1], -1)) for t in tensors)


class TTS(nn.Module):
    """Face/speaker-conditioned flow-matching TTS (see module docstring)."""

    def __init__(self, cfg: TTSConfig):
        super().__init__()
        self.cfg = cfg
        ce = cfg.cond_emb_dim if cfg.conditioned else 0
        self.cond_proj = nn.Linear(cfg.cond_dim, ce) if cfg.conditioned else None
        self.speakers = nn.Embedding(cfg.n_speakers, cfg.cond_dim) if cfg.cond_mode == "speaker_embedding" else None
        self.encoder = TextEncoder(cfg.n_vocab, cfg.d_emb, cfg.enc_channels, cfg.enc_filter, cfg.enc_heads,
                                   cfg.enc_layers, cfg.enc_kernel, cfg.enc_dropout, cfg.n_mels, ce, cfg.prenet)
        self.duration = DurationPredictor(cfg.d_enc, cfg.dp_filter, cfg.dp_kernel, cfg.dp_dropout)
        self.decoder = FlowMatching(
            UNetDecoder(cfg.n_mels, ce, cfg.dec_channels, cfg.dec_blocks, cfg.dec_mid_blocks, cfg.dec_heads,
                        cfg.dec_head_dim, cfg.dec_dropout, cfg.dec_act),
            sigma_min=cfg.sigma_min,
        )

    @property
    def d_emb(self) -> int:
        return self.cfg.d_emb

    @property
    def d_enc(self) -> int:
        return self.cfg.d_enc

    # ------------------------------------------------------------------ helpers
    def speaker_cond(self, speaker_ids: torch.Tensor) -> torch.Tensor:
        """``(batch,)`` speaker indices -> condition vectors ``(batch, cond_dim)`` (speaker_embedding mode)."""
        if self.speakers is None:
            raise ValueError(f"speaker_cond needs cond_mode 'speaker_embedding', model has {self.cfg.cond_mode!r}")
        return self.speakers(speaker_ids)

    def _cond(self, cond: Optional[torch.Tensor], batch: int) -> Optional[torch.Tensor]:
        if not self.cfg.conditioned:
            if cond is not None:
                raise ValueError("this model has cond_mode 'none': pass cond=None")
            return None
        if cond is None:
            raise ValueError(f"cond_mode {self.cfg.cond_mode!r} needs cond (batch, {self.cfg.cond_dim})")
        if cond.shape != (batch, self.cfg.cond_dim):
            raise ValueError(f"cond must be ({batch}, {self.cfg.cond_dim}), got {tuple(cond.shape)}")
        return self.cond_proj(cond)

    def normalise(self, mel: torch.Tensor) -> torch.Tensor:
        return (mel - self.cfg.mel_mean) / self.cfg.mel_std

    def denormalise(self, mel: torch.Tensor) -> torch.Tensor:
        return mel * self.cfg.mel_std + self.cfg.mel_mean

    def _encode(self, tokens, token_lengths, cond):
        if tokens.dim() != 2:
            raise ValueError(f"tokens must be (batch, text_len), got {tuple(tokens.shape)}")
        x_mask = sequence_mask(token_lengths, tokens.shape[1]).unsqueeze(1).to(torch.float32)
        c = self._cond(cond, tokens.shape[0])
        e_t, f_t, mu_x = self.encoder(tokens, x_mask, c)
        logw = self.duration(f_t.detach(), x_mask)
        return x_mask, c, e_t, f_t, mu_x, logw

    @staticmethod
    def _features(e_t, f_t, path, y_mask, durations, mel_lengths) -> dict:
        f_tilde = regulate(f_t, path) * y_mask
        return {"e_t": e_t, "f_t": f_t, "f_tilde": f_tilde, "energy": f_tilde.mean(dim=1, keepdim=True),
                "durations": durations, "mel_lengths": mel_lengths}

    # ------------------------------------------------------------------ training
    def forward(self, tokens: torch.Tensor, token_lengths: torch.Tensor, mel: torch.Tensor,
                mel_lengths: torch.Tensor, cond: Optional[torch.Tensor] = None,
                generator: Optional[torch.Generator] = None) -> dict:
        """Losses for a batch.

        tokens ``(B, L_t)`` long; token_lengths ``(B,)``; mel ``(B, n_mels, L_m)`` log-mel;
        mel_lengths ``(B,)``; cond ``(B, cond_dim)`` or None. Returns ``loss_prior``,
        ``loss_duration``, ``loss_cfm``, ``loss`` (their sum) and ``features`` (see
        :meth:`synthesise`; ``durations`` are the MAS durations here).
        """
        x_mask, c, e_t, f_t, mu_x, logw = self._encode(tokens, token_lengths, cond)
        y = self.normalise(mel)
        y_mask = sequence_mask(mel_lengths, mel.shape[-1]).unsqueeze(1).to(torch.float32)
        with torch.no_grad():
            log_p = gaussian_log_prior(mu_x, y)
            path = mas(log_p, token_lengths, mel_lengths)  # (B, L_t, L_m)
        durations = path.sum(-1)  # (B, L_t)
        logw_target = torch.log(durations + 1e-8) * x_mask[:, 0]
        loss_dur = ((logw[:, 0] - logw_target) ** 2 * x_mask[:, 0]).sum() / token_lengths.sum()
        mu_y = regulate(mu_x, path)
        loss_prior = (0.5 * ((y - mu_y) ** 2 + math.log(2 * math.pi)) * y_mask).sum() / (y_mask.sum() * self.cfg.n_mels)
        y_d, mu_d, mask_d = y * y_mask, mu_y, y_mask
        seg = self.cfg.decoder_segment
        if self.training and seg is not None and y.shape[-1] > seg:
            y_d, mu_d, mask_d = _random_windows((y_d, mu_d, mask_d), mel_lengths, seg, generator)
        loss_cfm, _ = self.decoder.loss(y_d, mask_d, generator=generator, mu=mu_d, cond=c)
        return {
            "loss_prior": loss_prior, "loss_duration": loss_dur, "loss_cfm": loss_cfm,
            "loss": loss_prior + loss_dur + loss_cfm,
            "features": self._features(e_t, f_t, path, y_mask, durations, mel_lengths),
        }

    # ------------------------------------------------------------------ inference
    @torch.inference_mode()
    def synthesise(self, tokens: torch.Tensor, token_lengths: torch.Tensor, cond: Optional[torch.Tensor] = None,
                   n_steps: Optional[int] = None, temperature: Optional[float] = None, length_scale: float = 1.0,
                   generator: Optional[torch.Generator] = None) -> dict:
        """Text -> mel.

        Returns ``mel`` ``(B, n_mels, L_m)`` (log-mel, zero past each length), ``mel_lengths``
        ``(B,)`` and ``features``: ``e_t`` ``(B, d_emb, L_t)``, ``f_t`` ``(B, d_enc, L_t)``,
        ``f_tilde`` ``(B, d_enc, L_m)``, ``energy`` ``(B, 1, L_m)`` (channel mean of f_tilde),
        ``durations`` ``(B, L_t)`` mel frames per token, ``mel_lengths`` ``(B,)``.
        """
        n_steps = self.cfg.n_steps if n_steps is None else n_steps
        temperature = self.cfg.temperature if temperature is None else temperature
        x_mask, c, e_t, f_t, mu_x, logw = self._encode(tokens, token_lengths, cond)
        durations = torch.ceil(torch.exp(logw[:, 0]) * x_mask[:, 0] * length_scale)
        mel_lengths = durations.sum(1).clamp_min(1).long()
        l_m = int(mel_lengths.max())
        path = path_from_durations(durations, x_mask[:, 0] > 0, l_m)
        y_mask = sequence_mask(mel_lengths, l_m).unsqueeze(1).to(torch.float32)
        mu_y = regulate(mu_x, path)
        y = self.decoder.sample(mu_y.shape, y_mask, n_steps=n_steps, temperature=temperature,
                                generator=generator, mu=mu_y, cond=c)
        mel = self.denormalise(y) * y_mask
        return {"mel": mel, "mel_lengths": mel_lengths,
                "features": self._features(e_t, f_t, path, y_mask, durations, mel_lengths)}
