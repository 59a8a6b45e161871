"""Text front-end: normalisation values, phonemes, symbol table, determinism, errors."""

from __future__ import annotations

import logging
import shutil

import pytest

from ttsf.tts.normalise import TextError, normalise, number_to_words, ordinal_to_words
from ttsf.tts.text import BLANK_ID, SYMBOLS, Frontend, intersperse, text_to_tokens, tokens_to_text

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng binary not installed")


@pytest.mark.parametrize("n, words", [
    (0, "zero"), (13, "thirteen"), (40, "forty"), (105, "one hundred five"),
    (1042, "one thousand forty two"), (2_000_017, "two million seventeen"), (-7, "minus seven"),
])
def test_number_to_words(n, words):
    assert number_to_words(n) == words


def test_ordinals():
    assert [ordinal_to_words(n) for n in (1, 2, 3, 12, 21, 40, 100)] == [
        "first", "second", "third", "twelfth", "twenty first", "fortieth", "one hundredth"]


@pytest.mark.parametrize("text, expected", [
    ("Dr. Smith paid $3.50.", "doctor Smith paid three dollars and fifty cents."),
    ("The 21st of May, 1984!", "The twenty first of May, nineteen eighty four!"),
    ("45% of 1,234 people", "forty five percent of one thousand two hundred thirty four people"),
    ("Meet at 3:05 (sharp) & bring no. 7", "Meet at three oh five, sharp, and bring number seven"),
    ("I said no. Then I left.", "I said no. Then I left."),
    ("\u201cCaf\u00e9\u201d \u2014 pi is 3.14", "Cafe, pi is three point one four"),
    ("Call 007 on the 2nd", "Call zero zero seven on the second"),
])
def test_normalise(text, expected):
    assert normalise(text) == expected


@pytest.mark.parametrize("bad, reason", [
    ("", "empty"), ("   \n", "empty"), (b"\xff\xfeabc", "UTF-8"), ("Привет, мир", "not English"),
    ("你好", "not English"), ("?!...", "no words"), (None, "must be str"),
])
def test_bad_text_raises_clear_error(bad, reason):
    with pytest.raises(TextError, match=reason):
        normalise(bad)


def test_intersperse_and_symbols():
    assert intersperse([5, 6]) == [0, 5, 0, 6, 0]
    assert SYMBOLS[BLANK_ID] == "_" and len(set(SYMBOLS)) == len(SYMBOLS)


@needs_espeak
def test_phonemes_keep_punctuation_and_are_deterministic():
    f = Frontend()
    ph = f.phonemise("Hello, world. Is it 2?")
    assert ph == "həlˈoʊ, wˈɜːld. ɪz ɪt tˈuː?"
    toks = f("Hello, world. Is it 2?")
    assert toks[0] == BLANK_ID and toks[1::2] and all(t == BLANK_ID for t in toks[::2])
    assert tokens_to_text(toks) == ph
    assert text_to_tokens("Hello, world. Is it 2?") == toks == Frontend()("Hello, world. Is it 2?")
    assert Frontend(add_blank=False)("Hello, world. Is it 2?") == toks[1::2]
    assert f.describe()["espeak"].startswith("eSpeak NG")


@needs_espeak
def test_unknown_symbols_dropped_with_warning(caplog):
    f = Frontend()
    with caplog.at_level(logging.WARNING, logger="ttsf.tts.text"):
        ids = f.ids("ab\u2603c")
    assert tokens_to_text(ids) == "abc"
    assert "unknown phoneme symbols" in caplog.text and "\u2603" in caplog.text
