"""Training data for the TTS branch: manifest items -> (tokens, log-mel, speaker).

Items come from :mod:`ttsf.data.manifest` manifests (``ref_audio`` wav relative to
the data root, ``text``, ``speaker``). Everything is computed once and kept in
memory (the synthetic corpus and a bounded LRS3 subset fit easily); items that
cannot be used are skipped with their reason, and the caller reports them.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Iterator, Optional, Sequence

import torch

from ttsf.media import MediaError, MelConfig, mel, read_audio

log = logging.getLogger(__name__)


@dataclasses.dataclass
class Utterance:
    id: str
    tokens: torch.Tensor  # (text_len,) long
    mel: torch.Tensor  # (n_mels, frames) natural-log mel
    speaker: Optional[str]


@dataclasses.dataclass
class LoadReport:
    used: int
    skipped: dict  # item id -> reason
    manifest_sha256: str


def load_utterances(manifest_path: Path, root: Path, mel_cfg: MelConfig, frontend=None,
                    max_seconds: Optional[float] = None,
                    limit: Optional[int] = None) -> tuple[list[Utterance], LoadReport]:
    """Read every item of a manifest; unusable items are skipped and listed with the reason."""
    from ttsf.data.manifest import ManifestError, load_manifest, read_text, resolve
    from ttsf.tts.normalise import TextError
    from ttsf.tts.text import Frontend

    frontend = frontend or Frontend()
    manifest = load_manifest(manifest_path)
    utts, skipped = [], {}
    for item in manifest:
        if limit is not None and len(utts) >= limit:
            break
        try:
            if item.ref_audio is None:
                raise ValueError("item has no ref_audio")
            text = item.text if item.text is not None else read_text(item, root)
            wav = read_audio(resolve(root, item.ref_audio, "ref_audio"), mel_cfg.sample_rate)
            if max_seconds is not None and len(wav) > max_seconds * mel_cfg.sample_rate:
                raise ValueError(f"longer than max_seconds={max_seconds}")
            m = torch.as_tensor(mel(wav, mel_cfg))
            tokens = torch.tensor(frontend(text), dtype=torch.long)
            if tokens.numel() > m.shape[-1]:
                raise ValueError(f"{tokens.numel()} tokens but only {m.shape[-1]} mel frames")
        except (MediaError, TextError, ManifestError, ValueError, OSError) as exc:
            skipped[item.id] = f"{type(exc).__name__}: {exc}"
            log.warning("skipping %s: %s", item.id, skipped[item.id])
            continue
        utts.append(Utterance(item.id, tokens, m, item.speaker))
    if not utts:
        raise ValueError(f"{manifest_path}: no usable items ({len(skipped)} skipped: {list(skipped.items())[:3]})")
    return utts, LoadReport(len(utts), skipped, manifest.sha256)


def mel_statistics(utts: Sequence[Utterance]) -> tuple[float, float]:
    """Scalar mean and standard deviation over every mel bin and frame (float64 sums)."""
    total = sq = 0.0
    n = 0
    for u in utts:
        x = u.mel.double()
        total += float(x.sum())
        sq += float((x * x).sum())
        n += x.numel()
    mean = total / n
    return mean, max(sq / n - mean * mean, 0.0) ** 0.5


def collate(utts: Sequence[Utterance], speaker_index: Optional[dict] = None) -> dict:
    """Pad a list of utterances: tokens ``(B, L_t)``, mel ``(B, n_mels, L_m)``, lengths, speakers ``(B,)``."""
    b = len(utts)
    lt = torch.tensor([u.tokens.numel() for u in utts])
    lm = torch.tensor([u.mel.shape[-1] for u in utts])
    tokens = torch.zeros(b, int(lt.max()), dtype=torch.long)
    mels = torch.zeros(b, utts[0].mel.shape[0], int(lm.max()))
    for i, u in enumerate(utts):
        tokens[i, : lt[i]] = u.tokens
        mels[i, :, : lm[i]] = u.mel
    out = {"tokens": tokens, "token_lengths": lt, "mel": mels, "mel_lengths": lm, "ids": [u.id for u in utts]}
    if speaker_index is not None:
        out["speakers"] = torch.tensor([speaker_index[u.speaker] for u in utts], dtype=torch.long)
    return out


def batch_indices(n: int, batch_size: int, generator: torch.Generator, rank: int = 0,
                  world: int = 1) -> Iterator[list[int]]:
    """Shuffled batches of indices (one epoch); with ``world > 1`` each rank gets every world-th batch."""
    order = torch.randperm(n, generator=generator).tolist()
    batches = [order[i: i + batch_size] for i in range(0, n, batch_size)]
    n_full = len(batches) - len(batches) % world if world > 1 else len(batches)
    for k in range(rank, n_full, world):
        yield batches[k]
