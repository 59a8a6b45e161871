"""The study design: which rater sees which clip of which system, in which order.

Each rater gets ``per_rater`` of the study's clips (all of them by default, as in the
paper) and, for each clip, one trial per system, consecutively ("method order shuffled
per clip"). The system order of a rater's j-th clip is row ``(rater + j) mod n_rows`` of
a Williams design (a Latin square, doubled for an odd number of systems, in which every
system takes every position equally often and follows every other system equally often),
its symbols mapped to systems by a seeded permutation. Training trials (unscored, clips
outside the study) come first; the gold clip (audio shifted by 400 ms) and the trap clip
(on-screen instruction) are placed between two clip groups at seeded positions.
Everything is drawn from ``random.Random(seed)``: the same inputs and seed give the same design.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Optional

MAX_RATERS = 10_000
MAX_CLIPS = 10_000


@dataclasses.dataclass(frozen=True)
class Trial:
    kind: str  # "training" | "study" | "gold" | "trap"
    item: str  # item id of the clip
    system: Optional[str]  # None for gold and trap (their source is recorded in the key)
    asked: Optional[int] = None  # trap: the score the on-screen text asks for


def williams(n: int) -> list[list[int]]:
    """Rows of a Williams design for ``n`` treatments (``n`` rows for even ``n``, ``2n`` for odd)."""
    if n < 1:
        raise ValueError("need at least one treatment")
    first, lo, hi = [0], 1, n - 1
    while len(first) < n:
        first.append(lo)
        lo += 1
        if len(first) < n:
            first.append(hi)
            hi -= 1
    rows = [[(x + i) % n for x in first] for i in range(n)]
    if n % 2:
        rows += [row[::-1] for row in rows]
    return rows


def check_counts(raters: int, clips: int, per_rater: Optional[int], training: int, available: int,
                 spare: int) -> int:
    """Validate the design sizes; returns ``per_rater``. Raises ``ValueError`` naming the option."""
    for name, value, lo, hi in (("--raters", raters, 1, MAX_RATERS), ("--clips", clips, 1, MAX_CLIPS),
                                ("--training", training, 0, 20)):
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise ValueError(f"{name} must be an integer in {lo}..{hi}, got {value!r}")
    if clips > available:
        raise ValueError(f"--clips {clips}: only {available} items have a video for every system")
    per_rater = clips if per_rater is None else per_rater
    if isinstance(per_rater, bool) or not isinstance(per_rater, int) or not 1 <= per_rater <= clips:
        raise ValueError(f"--per-rater must be an integer in 1..{clips} (--clips), got {per_rater!r}")
    if training > spare:
        raise ValueError(f"--training {training}: only {spare} items are left outside the {clips} study clips "
                         "(lower --clips or --training)")
    return per_rater


def build_design(systems: list[str], items: list[str], clips: int, raters: int, seed: int,
                 per_rater: Optional[int] = None, training: int = 2, gold: bool = True,
                 trap_scores: tuple[int, ...] = (2, 3, 4)) -> dict:
    """``{"clips", "training_items", "gold_item", "raters": {rater: [Trial, ...]}}``.

    systems: the rated systems (>= 2); items: ids with a video for every system.
    """
    if len(systems) < 2:
        raise ValueError(f"a MOS comparison needs at least two systems, got {len(systems)}")
    if len(set(systems)) != len(systems):
        raise ValueError("--systems lists a system twice")
    items = sorted(set(items))
    per_rater = check_counts(raters, clips, per_rater, training, len(items), len(items) - clips)
    rng = random.Random(seed)
    chosen = sorted(rng.sample(items, clips))
    rest = sorted(set(items) - set(chosen))
    train_items = sorted(rng.sample(rest, training))
    left = sorted(set(rest) - set(train_items))
    gold_item = (rng.choice(left) if left else rng.choice(chosen)) if gold else None
    symbols = systems[:]
    rng.shuffle(symbols)
    rows = williams(len(symbols))
    ring = chosen[:]
    rng.shuffle(ring)
    out: dict[str, list[Trial]] = {}
    for r in range(raters):
        start = (r * per_rater) % clips
        mine = [ring[(start + j) % clips] for j in range(per_rater)]
        rng.shuffle(mine)
        groups = []
        for j, item in enumerate(mine):
            row = rows[(r + j) % len(rows)]
            groups.append([Trial("study", item, symbols[x]) for x in row])
        if gold:
            # between groups, never before the first one: positions 1..len(groups)
            for extra in (Trial("gold", gold_item, None), Trial("trap", gold_item, None, rng.choice(trap_scores))):
                groups.insert(rng.randint(1, len(groups)), [extra])
        train = [Trial("training", item, symbols[(r + k) % len(symbols)]) for k, item in enumerate(train_items)]
        out[f"rater_{r + 1:03d}" if raters >= 100 else f"rater_{r + 1:02d}"] = train + [t for g in groups for t in g]
    return {"clips": chosen, "training_items": train_items, "gold_item": gold_item, "raters": out,
            "per_rater": per_rater, "symbols": symbols}
