"""The item a metric scores: paths to generated/reference media plus a shared cache.

Every metric's :meth:`~eval.metrics.base.Metric.update` takes a :class:`Sample`.
Derived data (decoded frames, face detections, crops, 16 kHz audio) is stored in
``Sample.cache`` under documented keys so several metrics scoring the same item
decode and detect only once (see :mod:`eval.metrics.visual`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np

PathOrArray = Union[Path, np.ndarray]


@dataclasses.dataclass
class Sample:
    """One item to score.

    Attributes:
        id: item id (unique within a run).
        gen_video: generated video file (mp4), or None.
        gen_audio: generated speech file (wav/flac), or None.
        ref_video: ground-truth video file, or None.
        ref_audio: ground-truth speech file, or None.
        source_image: the identity image, as a path or an RGB uint8 array ``(H, W, 3)``.
        text: the input/reference transcript.
        cache: shared derived data; keys are namespaced ``"<what>:<field>:<params>"``
            (e.g. ``"frames:gen_video:25"``). Metrics only add entries, never mutate them.
        notes: warnings recorded while deriving cached data (e.g. "resampled 30 -> 25 fps");
            metrics copy the relevant ones into their per-item results.
    """

    id: str
    gen_video: Optional[Path] = None
    gen_audio: Optional[Path] = None
    ref_video: Optional[Path] = None
    ref_audio: Optional[Path] = None
    source_image: Optional[PathOrArray] = None
    text: Optional[str] = None
    cache: dict = dataclasses.field(default_factory=dict)
    notes: list = dataclasses.field(default_factory=list)

    def __post_init__(self) -> None:
        for name in ("gen_video", "gen_audio", "ref_video", "ref_audio"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                setattr(self, name, Path(value))
        if isinstance(self.source_image, str):
            self.source_image = Path(self.source_image)

    def require(self, field: str) -> Any:
        """The value of ``field``, or :class:`~eval.metrics.base.ItemError` when it is absent."""
        from eval.metrics.base import ItemError

        value = getattr(self, field)
        if value is None:
            raise ItemError(f"item {self.id!r} has no {field}", code="missing_input")
        return value

    def cached(self, key: str, compute: Any) -> Any:
        """``cache[key]``, computing and storing it with ``compute()`` on first use."""
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]

    def note(self, message: str) -> None:
        """Record a warning once."""
        if message not in self.notes:
            self.notes.append(message)
