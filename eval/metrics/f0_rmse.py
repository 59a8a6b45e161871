"""F0 RMSE (Hz) of generated vs ground-truth speech: Harvest F0, DTW, voiced-in-both frames."""

from __future__ import annotations

from typing import Any

from eval.metrics import audio
from eval.metrics.base import BackendSpec, ItemError, MetricSpec
from eval.metrics.functional import f0 as f0_math
from eval.metrics.item_mean import ItemMeanMetric


def _harvest(item: Any, field: str, rate: int):
    wav = audio.audio(item, field, rate)
    audio.check_speech(wav, rate, field.replace("_", " "))
    return item.cached(f"harvest:{field}:{rate}", lambda: f0_math.harvest(wav, rate))


class F0RMSE(ItemMeanMetric):
    """Per-utterance F0 RMSE averaged over items (lower is better).

    Silent or fully unvoiced audio raises :class:`ItemError` (the value would be NaN),
    never 0. Options: ``sample_rate`` (analysis rate, default 16000).
    """

    spec = MetricSpec(
        name="f0_rmse",
        version="1.0",
        level="item",
        needs=("gen_audio", "ref_audio"),
        higher_is_better=False,
        backends=(
            BackendSpec(
                "pyworld", paper=True,
                description="pyworld harvest (5 ms, 71-800 Hz), fastdtw on mcep c1..c13, voiced-in-both, Hz",
            ),
        ),
        unit="Hz",
        outputs=("f0_rmse",),
        description="root-mean-square F0 error on frames voiced in both utterances after DTW alignment",
    )
    DEFAULTS = {"sample_rate": audio.SAMPLE_RATE}

    def score(self, item: Any) -> dict[str, float]:
        from eval.metrics.functional.mcd import dtw_path

        rate = int(self.options["sample_rate"])
        ref_f0, ref_mc = _harvest(item, "ref_audio", rate)
        gen_f0, gen_mc = _harvest(item, "gen_audio", rate)
        result = f0_math.rmse_on_path(ref_f0, gen_f0, dtw_path(ref_mc[:, 1:], gen_mc[:, 1:]))
        if result.reason is not None:
            raise ItemError(f"F0 RMSE undefined (NaN): {result.reason}", code="unvoiced")
        return {"f0_rmse": result.rmse, "f0_voiced_pairs": float(result.voiced_pairs)}
