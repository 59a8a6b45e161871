"""Text front-end: normalised English -> IPA phonemes (espeak-ng) -> token ids.

``Frontend()(text)`` / :func:`text_to_tokens` return ``list[int]`` over the fixed
symbol table :data:`SYMBOLS`; with ``add_blank`` (Matcha-TTS/Glow-TTS) the blank
id 0 is interspersed: ``[0, s1, 0, s2, 0, …, sn, 0]``.

Phonemes come from ``espeak-ng -q --ipa -v en-us`` (a subprocess; deterministic for
a given espeak-ng version, recorded by :meth:`Frontend.describe`). Punctuation
``, . ; : ! ?`` is kept: the text is split at punctuation, each chunk is
phonemised and the punctuation re-inserted. Unknown phoneme symbols are dropped
with a warning.
"""

from __future__ import annotations

import functools
import logging
import re
import shutil
import subprocess
from typing import Iterable

from ttsf.tts.normalise import TextError, normalise

log = logging.getLogger(__name__)

PAD = "_"
PUNCTUATION = ",.;:!? "
#: IPA letters, diacritics and suprasegmentals espeak-ng emits for English (and more).
IPA = (
    "abcdefghijklmnopqrstuvwxyz"
    "ɑɐɒæɓʙβɔɕçɗɖðʤəɘɚɛɜɝɞɟʄɡɠɢʛɦɧħɥʜɨɪʝɭɬɫɮʟɱɯɰŋɳɲɴøɵɸθœɶʘɹɺɾɻʀʁɽʂʃʈʧʉʊʋⱱʌɣɤʍχʎʏʑʐʒʔʡʕʢ"
    "ˈˌːˑʰʱʲʷˠˤ˞ᵻ̩̃'"
)
#: The fixed symbol table: id 0 is the pad/blank symbol.
SYMBOLS: tuple[str, ...] = tuple(dict.fromkeys(PAD + PUNCTUATION + IPA))
SYMBOL_TO_ID = {s: i for i, s in enumerate(SYMBOLS)}
BLANK_ID = 0

_PUNCT_SPLIT = re.compile(r"([,.;:!?]+)")


def intersperse(tokens: Iterable[int], item: int = BLANK_ID) -> list[int]:
    """``[a, b]`` -> ``[item, a, item, b, item]``."""
    out = [item]
    for t in tokens:
        out += [t, item]
    return out


@functools.lru_cache(maxsize=1)
def espeak_version(binary: str = "espeak-ng") -> str:
    path = shutil.which(binary)
    if path is None:
        raise TextError(f"{binary} not found on PATH: install it (Debian/Ubuntu: apt-get install espeak-ng)")
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=True).stdout
    return out.strip()


def _run_espeak(chunks: list[str], voice: str, binary: str) -> list[str]:
    """Phonemise chunks (no punctuation inside) in one espeak-ng call, one result per chunk."""
    espeak_version(binary)
    payload = "\n\n".join(chunks) + "\n"
    res = subprocess.run([binary, "-q", "--ipa", "-v", voice], input=payload.encode("utf-8"),
                         capture_output=True, check=False)
    if res.returncode != 0:
        raise TextError(f"espeak-ng failed (exit {res.returncode}): {res.stderr.decode('utf-8', 'replace').strip()}")
    text = res.stdout.decode("utf-8")
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip("\n"))]
    if len(paragraphs) == len(chunks):
        return paragraphs
    # espeak split a chunk unexpectedly: fall back to one call per chunk.
    return [_run_espeak([c], voice, binary)[0] if len(chunks) > 1 else " ".join(text.split()) for c in chunks]


class Frontend:
    """English text -> token ids. Deterministic; raises :class:`TextError` on bad input."""

    def __init__(self, add_blank: bool = True, voice: str = "en-us", espeak: str = "espeak-ng"):
        self.add_blank = add_blank
        self.voice = voice
        self.espeak = espeak

    def normalise(self, text) -> str:
        return normalise(text)

    def phonemise(self, text) -> str:
        """Normalised text -> IPA string with punctuation kept (``"həlˈoʊ, wˈɜːld."``)."""
        return self._phonemise(self.normalise(text))

    @functools.lru_cache(maxsize=4096)
    def _phonemise(self, normalised: str) -> str:
        parts = [p for p in _PUNCT_SPLIT.split(normalised)]
        words = [p.strip() for p in parts if p.strip() and not _PUNCT_SPLIT.fullmatch(p.strip())]
        phonemes = iter(_run_espeak(words, self.voice, self.espeak)) if words else iter(())
        out = []
        for p in parts:
            s = p.strip()
            if not s:
                continue
            if _PUNCT_SPLIT.fullmatch(s):
                out.append(s[0])
            else:
                if out:
                    out.append(" ")
                out.append(next(phonemes))
        return "".join(out).strip()

    def ids(self, phonemes: str) -> list[int]:
        """Map a phoneme string to ids over :data:`SYMBOLS`, dropping unknown symbols (warned)."""
        ids, unknown = [], []
        for ch in phonemes:
            if ch in SYMBOL_TO_ID and ch != PAD:
                ids.append(SYMBOL_TO_ID[ch])
            else:
                unknown.append(ch)
        if unknown:
            log.warning("dropped %d unknown phoneme symbols: %r", len(unknown), "".join(dict.fromkeys(unknown)))
        if not ids:
            raise TextError(f"no known phoneme symbols in {phonemes!r}")
        return intersperse(ids) if self.add_blank else ids

    def __call__(self, text) -> list[int]:
        return self.ids(self.phonemise(text))

    tokens = __call__

    def describe(self) -> dict:
        return {"espeak": espeak_version(self.espeak), "voice": self.voice, "add_blank": self.add_blank,
                "n_symbols": len(SYMBOLS)}


@functools.lru_cache(maxsize=2)
def _default(add_blank: bool) -> Frontend:
    return Frontend(add_blank=add_blank)


def text_to_tokens(text, add_blank: bool = True) -> list[int]:
    """English text -> token ids with the default :class:`Frontend`."""
    return _default(add_blank)(text)


def tokens_to_text(ids: Iterable[int]) -> str:
    """Inverse mapping (blanks removed), for inspection."""
    return "".join(SYMBOLS[i] for i in ids if i != BLANK_ID)
