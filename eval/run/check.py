"""``--check REF.json``: CI regression of a run against committed reference numbers.

Reference file schema::

    {"table": "1", "split": "synth_test", "limit": 6, "systems": [...], "metrics": [...],
     "command": "python -m eval.run ...",          # how it was produced
     "tolerances": {output: {"abs": float, "rel": float}},   # per metric output
     "scores": {system: {output: float}}}

A cell drifts when ``|ours - ref| > abs + rel * |ref|``; a reference value that our run
did not produce (missing, failed, or not run) is a failure too.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Optional

DEFAULT_TOLERANCE = {"abs": 1e-6, "rel": 1e-4}


@dataclasses.dataclass
class Diff:
    system: str
    output: str
    reference: float
    ours: Optional[float]
    tolerance: float
    reason: str = ""

    @property
    def delta(self) -> Optional[float]:
        return None if self.ours is None else self.ours - self.reference

    @property
    def ok(self) -> bool:
        return self.ours is not None and abs(self.ours - self.reference) <= self.tolerance


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def load_reference(path: Path) -> dict:
    """The reference file at ``path``, validated; :class:`ValueError` (naming the file and
    the problem) when it is missing, not UTF-8 JSON, or not shaped like a reference."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"--check {path} is a directory, not a reference file")
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ValueError(f"--check {path} does not exist") from None
    except OSError as exc:
        raise ValueError(f"--check {path}: cannot read it: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"--check {path} is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except ValueError as exc:
        raise ValueError(f"--check {path} is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"--check {path}: expected a JSON object, got {type(data).__name__}")
    for key in ("table", "scores", "tolerances"):
        if key not in data:
            raise ValueError(f"--check {path}: reference lacks {key!r}")
    if not isinstance(data["scores"], dict) or not all(isinstance(v, dict) for v in data["scores"].values()):
        raise ValueError(f"--check {path}: 'scores' must map system -> {{output: number}}")
    for system, outputs in data["scores"].items():
        for output, value in outputs.items():
            if not _finite(value):
                raise ValueError(f"--check {path}: scores.{system}.{output} is {value!r}, not a finite number")
    if not isinstance(data["tolerances"], dict):
        raise ValueError(f"--check {path}: 'tolerances' must map output -> {{abs, rel}}")
    for output, tol in data["tolerances"].items():
        if not isinstance(tol, dict) or not all(k in ("abs", "rel") and _finite(v) and v >= 0
                                                for k, v in tol.items()):
            raise ValueError(f"--check {path}: tolerances.{output} must be {{'abs': x, 'rel': y}} "
                             "with finite x, y >= 0")
    return data


def compare(results: dict, reference: dict) -> tuple[list[Diff], list[str]]:
    """Per-cell diffs and configuration mismatches (both empty lists when all is equal)."""
    problems = []
    if str(reference["table"]) != str(results["table"]):
        problems.append(f"table {results['table']} but the reference is table {reference['table']}")
    for key, ours in (("split", results["split"]["name"]), ("limit", results["split"]["limit"])):
        if key in reference and reference[key] != ours:
            problems.append(f"{key} {ours!r} but the reference used {reference[key]!r}")
    if reference.get("split_sha256") and reference["split_sha256"] != results["split"]["sha256"]:
        problems.append(
            f"the split's manifest changed (sha256 {results['split']['sha256'][:12]}..., reference "
            f"{reference['split_sha256'][:12]}...): the corpus or split was rebuilt; if intended, regenerate the "
            f"reference with the command it records plus --write-reference")
    diffs = []
    for system, outputs in sorted(reference["scores"].items()):
        for output, ref in sorted(outputs.items()):
            tol = {**DEFAULT_TOLERANCE, **reference["tolerances"].get(output, {})}
            allowed = tol["abs"] + tol["rel"] * abs(ref)
            cell = results.get("scores", {}).get(system, {}).get(output)
            if cell is None:
                diffs.append(Diff(system, output, ref, None, allowed, "not in this run"))
            elif cell["value"] is None or not math.isfinite(cell["value"]):
                diffs.append(Diff(system, output, ref, None, allowed, f"missing: {cell['reason']}"))
            else:
                diffs.append(Diff(system, output, ref, float(cell["value"]), allowed))
    return diffs, problems


def diff_table(diffs: list[Diff]) -> str:
    head = ["system", "output", "reference", "ours", "delta", "tolerance", "status"]
    rows = [head]
    for d in diffs:
        rows.append([d.system, d.output, f"{d.reference:.6g}", "—" if d.ours is None else f"{d.ours:.6g}",
                     "" if d.delta is None else f"{d.delta:+.3g}", f"{d.tolerance:.3g}",
                     "ok" if d.ok else ("DRIFT" if d.ours is not None else f"MISSING ({d.reason})")])
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows) + "\n"


def check(results: dict, reference_path: Path) -> tuple[bool, str]:
    """``(passed, report)`` for a run's results against the reference file."""
    reference = load_reference(reference_path)
    diffs, problems = compare(results, reference)
    bad = [d for d in diffs if not d.ok]
    lines = [f"check against {reference_path}: {len(diffs) - len(bad)}/{len(diffs)} cells within tolerance"]
    lines += [f"configuration mismatch: {p}" for p in problems]
    lines.append(diff_table(diffs))
    return (not bad and not problems), "\n".join(lines)


def make_reference(results: dict, tolerances: dict, command: str) -> dict:
    """A reference file body from a run (``python -m eval.run ... --write-reference``)."""
    scores = {s: {o: c["value"] for o, c in outs.items() if c["value"] is not None}
              for s, outs in results["scores"].items()}
    outputs = sorted({o for outs in scores.values() for o in outs})
    return {
        "table": results["table"], "split": results["split"]["name"], "limit": results["split"]["limit"],
        "corpus": results["split"].get("corpus"),
        "split_sha256": results["split"]["sha256"], "systems": sorted(scores),
        "metrics": {k: {"backend": v.get("backend"), "version": v.get("version")}
                    for k, v in results["metrics"].items()},
        "command": command,
        "tolerances": {o: tolerances.get(o, DEFAULT_TOLERANCE) for o in outputs},
        "scores": scores,
        "provenance": {k: results["provenance"].get(k) for k in ("git_commit", "packages", "python", "platform")},
    }
