"""Seeded, platform-independent selection: rank keys by sha256(seed ‖ key).

No RNG library is involved, so a subset chosen here is the same on every
machine, Python and numpy version, and adding an unrelated key never changes
the relative order of the others.
"""

from __future__ import annotations

import hashlib
from typing import Iterable, Sequence


def hash_rank(seed: str, key: str) -> str:
    return hashlib.sha256(f"{seed}\x00{key}".encode("utf-8")).hexdigest()


def seeded_order(keys: Iterable[str], seed: str) -> list[str]:
    """Keys sorted by their seeded hash (ties, impossible in practice, by key)."""
    return sorted(keys, key=lambda k: (hash_rank(seed, k), k))


def seeded_subset(keys: Iterable[str], k: int, seed: str) -> list[str]:
    """The first ``k`` keys of :func:`seeded_order`, returned sorted by key."""
    keys = list(keys)
    if k < 0 or k > len(keys):
        raise ValueError(f"cannot choose {k} of {len(keys)} keys")
    return sorted(seeded_order(keys, seed)[:k])


def seeded_choice(keys: Sequence[str], seed: str) -> str:
    """One key, chosen by seeded hash; ``keys`` must be non-empty."""
    if not keys:
        raise ValueError("seeded_choice of an empty list")
    return seeded_order(keys, seed)[0]


def spread_subset(items: Sequence, k: int, seed: str, group=lambda it: it.speaker) -> list:
    """``k`` items spread over groups (speakers): round-robin over the groups in seeded
    order, each group's items in seeded order; returned sorted by id.

    A plain "first k by id" would take every item from one speaker; this keeps a small
    demo or CI subset representative while staying deterministic.
    """
    items = list(items)
    if k < 0 or k > len(items):
        raise ValueError(f"cannot choose {k} of {len(items)} items")
    groups: dict[str, list] = {}
    for it in items:
        g = group(it)
        groups.setdefault(it.id if g is None else str(g), []).append(it)
    queues = []
    for name in seeded_order(list(groups), f"{seed}:groups"):
        by_id = {it.id: it for it in groups[name]}
        queues.append([by_id[i] for i in seeded_order(list(by_id), f"{seed}:{name}")])
    chosen: list = []
    depth = 0
    while len(chosen) < k:
        for q in queues:
            if depth < len(q) and len(chosen) < k:
                chosen.append(q[depth])
        depth += 1
    return sorted(chosen, key=lambda it: it.id)
