"""SpeechBrain x-vector (``spkrec-xvect-voxceleb``), the paper's C-SIM backend.

Needs the optional packages ``speechbrain`` and ``torchaudio`` (not installed by
ttsf-bench; torchaudio has no release for the torch 2.14.1 ttsf-bench pins, so this
backend runs only in an environment with a matching torch/torchaudio pair) and the five
files of the Hugging Face repo ``speechbrain/spkrec-xvect-voxceleb``
(``hyperparams.yaml``, ``embedding_model.ckpt``, ``mean_var_norm_emb.ckpt``,
``classifier.ckpt``, ``label_encoder.txt``) in one local folder (registry entry
``xvect_voxceleb``; ``python -m eval.weights where xvect_voxceleb``). Nothing is fetched
from the hub at run time: the model is built from that folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
INSTALL_HINT = (
    "C-SIM backend 'xvector' needs SpeechBrain: pip install speechbrain torchaudio. SpeechBrain imports "
    "torchaudio, which must match your torch: no torchaudio release exists for the torch 2.14.1 that "
    "ttsf-bench pins, so use an environment with a matching torch/torchaudio pair (e.g. 2.11), or use "
    "--backend resemblyzer (offline, not paper-comparable)"
)


class XVectorEncoder:
    """16 kHz mono audio ``(samples,)`` -> x-vector ``(512,)``."""

    def __init__(self, folder: Path, device: str = "cpu"):
        try:
            from speechbrain.inference.speaker import EncoderClassifier
        except ImportError:
            try:
                from speechbrain.pretrained import EncoderClassifier  # speechbrain < 1.0
            except ImportError as exc:
                raise ImportError(f"{INSTALL_HINT} (import failed: {exc})") from exc
        folder = Path(folder)
        self.model = EncoderClassifier.from_hparams(source=str(folder), savedir=str(folder),
                                                    run_opts={"device": device})

    def embed(self, wav: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad():
            out = self.model.encode_batch(torch.from_numpy(np.asarray(wav, dtype=np.float32))[None])
        return out.reshape(-1).cpu().numpy()
