"""Word error rate from Levenshtein word alignments, with mergeable edit counts.

``WER = (S + D + I) / N`` with ``N`` reference words. Corpus (micro) WER sums the
counts over utterances before dividing, as ``jiwer.wer(list_of_refs, list_of_hyps)``
does. Among minimum-cost alignments we prefer substitutions over an insertion plus a
deletion (the total ``S + D + I`` is the edit distance either way, so the WER never
depends on the tie-break).
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np


@dataclasses.dataclass(frozen=True)
class EditCounts:
    """Alignment counts of one or more utterances (adding them merges corpora)."""

    hits: int = 0
    substitutions: int = 0
    deletions: int = 0
    insertions: int = 0

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def ref_words(self) -> int:
        return self.hits + self.substitutions + self.deletions

    def __add__(self, other: "EditCounts") -> "EditCounts":
        return EditCounts(
            self.hits + other.hits,
            self.substitutions + other.substitutions,
            self.deletions + other.deletions,
            self.insertions + other.insertions,
        )

    def wer(self) -> float:
        """``errors / ref_words``; NaN for an empty reference (undefined, never 0)."""
        return self.errors / self.ref_words if self.ref_words else float("nan")

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def edit_counts(reference: Sequence[str], hypothesis: Sequence[str]) -> EditCounts:
    """Minimum-edit alignment counts of word lists ``reference`` vs ``hypothesis``."""
    n, m = len(reference), len(hypothesis)
    # cost[i, j] = edit distance of reference[:i] vs hypothesis[:j]
    cost = np.zeros((n + 1, m + 1), dtype=np.int64)
    cost[:, 0] = np.arange(n + 1)
    cost[0, :] = np.arange(m + 1)
    for i in range(1, n + 1):
        ref_word = reference[i - 1]
        for j in range(1, m + 1):
            sub = cost[i - 1, j - 1] + (ref_word != hypothesis[j - 1])
            cost[i, j] = min(sub, cost[i - 1, j] + 1, cost[i, j - 1] + 1)
    hits = subs = dels = ins = 0
    i, j = n, m
    while i > 0 or j > 0:
        if i > 0 and j > 0 and cost[i, j] == cost[i - 1, j - 1] + (reference[i - 1] != hypothesis[j - 1]):
            if reference[i - 1] == hypothesis[j - 1]:
                hits += 1
            else:
                subs += 1
            i, j = i - 1, j - 1
        elif i > 0 and cost[i, j] == cost[i - 1, j] + 1:
            dels += 1
            i -= 1
        else:
            ins += 1
            j -= 1
    return EditCounts(hits, subs, dels, ins)


def corpus_counts(references: Sequence[Sequence[str]], hypotheses: Sequence[Sequence[str]]) -> EditCounts:
    """Summed :func:`edit_counts` over paired utterances."""
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references vs {len(hypotheses)} hypotheses")
    total = EditCounts()
    for ref, hyp in zip(references, hypotheses):
        total = total + edit_counts(ref, hyp)
    return total
