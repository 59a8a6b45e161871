"""An unknown name among registered ones, with "did you mean" suggestions."""

from __future__ import annotations

import difflib


class UnknownName(KeyError):
    """A name that is not registered; the message suggests close matches."""

    def __init__(self, kind: str, name: str, known: list[str]):
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        self.message = f"unknown {kind} {name!r}.{hint} Known: {', '.join(sorted(known)) or '(none)'}"
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message
