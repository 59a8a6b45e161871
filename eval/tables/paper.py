"""The paper's published values (``paper_tables/table<N>.json``) with provenance."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Optional

PAPER_DIR = Path(__file__).resolve().parents[2] / "paper_tables"
PROVENANCE = ("verified", "unverified")


@dataclasses.dataclass(frozen=True)
class PaperValue:
    value: float
    provenance: str  # "verified" | "unverified"
    source: str

    @property
    def verified(self) -> bool:
        return self.provenance == "verified"


@dataclasses.dataclass(frozen=True)
class PaperTable:
    key: str
    title: str
    source: str
    labels: dict[str, str]  # system -> label in the paper
    values: dict[tuple[str, str], PaperValue]  # (system, output) -> value

    def get(self, system: str, output: str) -> Optional[PaperValue]:
        return self.values.get((system, output))

    def has_column(self, output: str) -> bool:
        return any(o == output for _, o in self.values)


def load_paper_table(key: str, directory: Path = PAPER_DIR) -> Optional[PaperTable]:
    """The published values of table ``key``, or ``None`` when no file exists.

    Raises ``ValueError`` on a malformed file (a value that is not a finite number, an
    unknown provenance): a wrong published number must never be shown silently.
    """
    path = Path(directory) / f"table{key}.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text("utf-8"))
    labels, values = {}, {}
    for system, row in data.get("rows", {}).items():
        labels[system] = row.get("label", system)
        for output, cell in row.get("values", {}).items():
            if cell is None:
                continue  # unknown: blank
            v = cell.get("value")
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ValueError(f"{path}: {system}/{output}: value must be a finite number, got {v!r}")
            if cell.get("provenance") not in PROVENANCE:
                raise ValueError(f"{path}: {system}/{output}: provenance must be one of {PROVENANCE}")
            values[(system, output)] = PaperValue(float(v), cell["provenance"], cell.get("source", ""))
    return PaperTable(str(data.get("table", key)), data.get("title", ""), data.get("source", ""), labels, values)
