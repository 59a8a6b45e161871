"""What TTS synthesis accepts: the text (at most :data:`~ttsf.data.manifest.MAX_TEXT_CHARS`
characters, the same cap as the benchmark manifests' transcripts, about two minutes of speech;
only characters the English front end can read) and the number of Euler steps."""

from __future__ import annotations

import unicodedata

from ttsf.data.manifest import MAX_TEXT_CHARS
from ttsf.inputs import InputError

#: Euler steps above this are refused (the decoder converges in ~10; 1000 is already minutes)
MAX_STEPS = 1000


#: categories allowed inside a character's compatibility folding ('½' -> '1⁄2')
_FOLDED_OK = ("Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Zs", "Sm", "Sc", "Sk")


def unsupported_characters(text: str) -> list[str]:
    """Characters of ``text`` the English front end cannot read (unique, in order).

    Accepted: ASCII, whitespace, Latin letters with diacritics (folded to ASCII),
    combining marks, punctuation, spaces and currency signs. Refused: letters of other
    scripts, emoji and other symbols, control characters, unassigned/private code points
    and non-ASCII digits.
    """
    bad: dict[str, None] = {}
    for ch in text:
        if (ch.isascii() and (ch.isprintable() or ch in "\n\t\r")) or ch.isspace():
            continue
        folded = unicodedata.normalize("NFKC", ch)  # '½' -> '1⁄2', '²' -> '2', 'ﬁ' -> 'fi'
        if folded != ch and all((c.isascii() and c.isprintable()) or unicodedata.category(c) in _FOLDED_OK
                                for c in folded):
            continue
        cat = unicodedata.category(ch)
        if ch.isalpha():
            if unicodedata.name(ch, "").startswith("LATIN"):
                continue
        elif cat[0] in "MPZ" or cat in ("Sc", "Cf", "Sk"):
            continue
        bad.setdefault(ch)
    return list(bad)


def check_text(text: str) -> str:
    """``text`` when it can be synthesised; :class:`InputError` naming the problem otherwise."""
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        raise InputError("--text is not valid UTF-8 (undecodable bytes in the argument)")
    if not text.strip():
        raise InputError("--text is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(f"--text has {len(text)} characters, more than the limit of {MAX_TEXT_CHARS} "
                         "synthesised in one pass: split it and synthesise the parts separately")
    bad = unsupported_characters(text)
    if bad:
        shown = ", ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in bad[:10]) + (" …" if len(bad) > 10 else "")
        raise InputError(f"--text has {len(bad)} character(s) the English front end cannot read: {shown}")
    return text
