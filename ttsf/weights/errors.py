"""What a weights lookup raises, and the spec of one weights file a backend needs."""

from __future__ import annotations

import dataclasses
from typing import Optional


class MissingWeights(FileNotFoundError):
    """A backend whose weights file is absent: says which file and how to get it."""


class CorruptWeights(MissingWeights):
    """A weights file that exists but whose sha256 is not the pinned one."""


@dataclasses.dataclass(frozen=True)
class WeightsSpec:
    """One weights file a backend needs."""

    name: str  # registry name, e.g. "pt_inception"
    filename: str
    sha256: Optional[str]  # None only where no canonical hash is published
    urls: tuple[str, ...] = ()
    licence: str = ""
    note: str = ""
