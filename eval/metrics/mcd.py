"""MCD: mel-cepstral distortion (dB) of generated vs ground-truth speech, pymcd recipe."""

from __future__ import annotations

from typing import Any

from eval.metrics import audio
from eval.metrics.base import BackendSpec, MetricSpec
from eval.metrics.functional.mcd import MODES, SAMPLE_RATE, mcd, to_pymcd_rate
from eval.metrics.item_mean import ItemMeanMetric


class MCD(ItemMeanMetric):
    """Per-utterance MCD averaged over items (lower is better).

    Options: ``mode`` in ``plain | dtw | dtw_sl`` (default ``dtw``; recorded in results).
    """

    spec = MetricSpec(
        name="mcd",
        version="1.0",
        level="item",
        needs=("gen_audio", "ref_audio"),
        higher_is_better=False,
        backends=(
            BackendSpec(
                "pymcd", paper=True,
                description="pymcd 0.2.1 recipe: 22.05 kHz WORLD mcep order 13, alpha 0.65, c0 included, fastdtw",
            ),
        ),
        unit="dB",
        outputs=("mcd",),
        description="mel-cepstral distortion between generated and reference speech",
    )
    DEFAULTS = {"mode": "dtw"}

    def __init__(self, backend=None, device="cpu", **options: Any):
        super().__init__(backend, device, **options)
        if self.options["mode"] not in MODES:
            raise ValueError(f"mcd mode must be one of {MODES}, got {self.options['mode']!r}")

    def score(self, item: Any) -> dict[str, float]:
        gen, gen_rate = audio.native_audio(item, "gen_audio")
        ref, ref_rate = audio.native_audio(item, "ref_audio")
        audio.check_speech(gen, gen_rate, "generated audio")
        audio.check_speech(ref, ref_rate, "reference audio")
        if gen_rate != ref_rate:
            item.note(f"mcd: gen {gen_rate} Hz and ref {ref_rate} Hz both resampled to 22050 Hz")
        result = mcd(to_pymcd_rate(ref, ref_rate), to_pymcd_rate(gen, gen_rate), SAMPLE_RATE, self.options["mode"])
        return {"mcd": result.value, "mcd_frames": float(result.frames)}
