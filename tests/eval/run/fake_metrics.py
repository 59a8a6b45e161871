"""Lightweight metrics for harness tests (registered by ``module:Class`` target, not in the registry).

``FAKE_METRIC_LOG=path``: every ``update`` appends ``<metric> <system-agnostic id> <pid>`` to it.
``FAKE_METRIC_SLEEP=s``: sleep in every update (so a test can kill a run mid-way).
``FAKE_METRIC_FAIL=id1,id2``: raise ItemError for these ids.
"""

from __future__ import annotations

import os
import time
from typing import Any, Mapping, Optional

import numpy as np

from eval.metrics.base import BackendSpec, ItemError, Metric, MetricSpec
from ttsf import media


def _hooks(name: str, item: Any) -> None:
    log = os.environ.get("FAKE_METRIC_LOG")
    if log:
        with open(log, "a") as f:
            f.write(f"{name} {item.gen_audio or item.gen_video} {os.getpid()}\n")
    delay = float(os.environ.get("FAKE_METRIC_SLEEP", "0"))
    if delay:
        time.sleep(delay)
    if item.id in os.environ.get("FAKE_METRIC_FAIL", "").split(","):
        raise ItemError(f"fake failure for {item.id}", code="fake")


def audio_rms(path) -> float:
    audio = media.read_audio(path, 16000)
    return float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))


class AudioRMS(Metric):
    """Item-level: RMS of the generated speech; corpus value = mean over items."""

    spec = MetricSpec(name="fake_rms", version="1", level="item", needs=("gen_audio",), higher_is_better=True,
                      backends=(BackendSpec("numpy", paper=False),), outputs=("fake_rms",))

    def reset(self) -> None:
        self.values: dict[str, float] = {}

    def update(self, item: Any) -> Optional[Mapping[str, float]]:
        _hooks("fake_rms", item)
        value = audio_rms(item.require("gen_audio"))
        self.values[item.id] = value
        return {"fake_rms": value}

    def compute(self) -> Mapping[str, float]:
        return {"fake_rms": float(np.mean(list(self.values.values())))}

    def state(self) -> dict:
        ids = sorted(self.values)
        return {"ids": ids, "values": np.array([self.values[i] for i in ids])}

    def merge(self, other_state: dict) -> None:
        for i, v in zip(other_state["ids"], np.asarray(other_state["values"]).tolist()):
            self.values[i] = float(v)


def frame_means(path) -> np.ndarray:
    return np.array([f.astype(np.float64).mean() for f in media.iter_frames(path)], dtype=np.float64)


class FrameGap(Metric):
    """Corpus-level: |mean pixel of generated frames - mean pixel of reference frames| (sum state)."""

    spec = MetricSpec(name="fake_gap", version="1", level="corpus", needs=("gen_video", "ref_video"),
                      higher_is_better=False, backends=(BackendSpec("numpy", paper=False),), outputs=("fake_gap",))

    def reset(self) -> None:
        self.sums = np.zeros(2)
        self.counts = np.zeros(2)

    def update(self, item: Any) -> Optional[Mapping[str, float]]:
        _hooks("fake_gap", item)
        for k, field in enumerate(("gen_video", "ref_video")):
            m = frame_means(item.require(field))
            self.sums[k] += m.sum()
            self.counts[k] += m.size
        return None

    def compute(self) -> Mapping[str, float]:
        if self.counts.min() == 0:
            raise ItemError("no frames", code="empty")
        mean = self.sums / self.counts
        return {"fake_gap": float(abs(mean[0] - mean[1]))}

    def state(self) -> dict:
        return {"sums": self.sums.copy(), "counts": self.counts.copy()}

    def merge(self, other_state: dict) -> None:
        self.sums += other_state["sums"]
        self.counts += other_state["counts"]


class BrightRatio(Metric):
    """Corpus-level ratio: percent of generated frames brighter than the clip's reference mean.

    Per item it returns the counts (``bright``, ``frames``); the corpus value is the ratio of
    the sums, declared through ``ratio_outputs`` so the harness can bootstrap it over items.
    """

    spec = MetricSpec(name="fake_ratio", version="1", level="corpus", needs=("gen_video", "ref_video"),
                      higher_is_better=True, backends=(BackendSpec("numpy", paper=False),), outputs=("fake_ratio",))
    ratio_outputs = {"fake_ratio": ("bright", "frames", 100.0)}

    def reset(self) -> None:
        self.bright = 0.0
        self.frames = 0.0

    def update(self, item: Any) -> Optional[Mapping[str, float]]:
        gen = frame_means(item.require("gen_video"))
        ref = frame_means(item.require("ref_video"))
        bright = float((gen > ref.mean()).sum())
        self.bright += bright
        self.frames += gen.size
        return {"bright": bright, "frames": float(gen.size)}

    def compute(self) -> Mapping[str, float]:
        if self.frames == 0:
            raise ItemError("no frames", code="empty")
        return {"fake_ratio": 100.0 * self.bright / self.frames}

    def state(self) -> dict:
        return {"bright": self.bright, "frames": self.frames}

    def merge(self, other_state: dict) -> None:
        self.bright += other_state["bright"]
        self.frames += other_state["frames"]
