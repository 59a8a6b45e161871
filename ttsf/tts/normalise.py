"""English text normalisation: numbers, abbreviations and symbols spelled out.

``normalise(text) -> str`` returns plain English words and the punctuation
``, . ; : ! ?`` (quotes dropped, brackets and dashes turned into commas), ready
for the phonemiser. Accented Latin letters are folded to ASCII (``café`` ->
``cafe``). Input that is empty, not UTF-8 or not written in the Latin alphabet
raises :class:`TextError`.
"""

from __future__ import annotations

import re
import unicodedata

ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen").split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (10**3, "thousand"))
ORDINAL_IRREGULAR = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
                     "nine": "ninth", "twelve": "twelfth"}

#: Abbreviations expanded when followed by a full stop (case-insensitive).
ABBREVIATIONS = {
    "mr": "mister", "mrs": "missus", "ms": "miss", "dr": "doctor", "st": "saint", "co": "company",
    "jr": "junior", "sr": "senior", "prof": "professor", "gen": "general", "gov": "governor",
    "sgt": "sergeant", "capt": "captain", "lt": "lieutenant", "col": "colonel", "maj": "major",
    "rev": "reverend", "hon": "honorable", "mt": "mount", "ft": "fort", "vs": "versus",
    "etc": "et cetera", "approx": "approximately", "dept": "department",
    "jan": "january", "feb": "february", "mar": "march", "apr": "april", "aug": "august",
    "sep": "september", "sept": "september", "oct": "october", "nov": "november", "dec": "december",
}
SYMBOLS = {"&": " and ", "%": " percent ", "@": " at ", "+": " plus ", "=": " equals ", "#": " number ",
           "/": " slash ", "°": " degrees ", "×": " times "}
CURRENCIES = {"$": ("dollar", "dollars", "cent", "cents"), "£": ("pound", "pounds", "penny", "pence"),
              "€": ("euro", "euros", "cent", "cents")}
MAX_NUMBER = 10**15


class TextError(ValueError):
    """Text the front-end cannot turn into English speech, with the reason."""


def number_to_words(n: int) -> str:
    """Cardinal English words for an integer, e.g. 1042 -> 'one thousand forty two'."""
    if n < 0:
        return "minus " + number_to_words(-n)
    if n >= MAX_NUMBER:
        return " ".join(ONES[int(d)] for d in str(n))
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else " " + ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + number_to_words(rest))
    for value, name in SCALES:
        if n >= value:
            rest = n % value
            return number_to_words(n // value) + " " + name + ("" if rest == 0 else " " + number_to_words(rest))
    raise AssertionError(n)  # unreachable


def ordinal_to_words(n: int) -> str:
    """Ordinal words, e.g. 21 -> 'twenty first', 40 -> 'fortieth'."""
    words = number_to_words(n).split()
    last = words[-1]
    if last in ORDINAL_IRREGULAR:
        last = ORDINAL_IRREGULAR[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last = last + "th"
    return " ".join(words[:-1] + [last])


def year_to_words(n: int) -> str:
    """Read 1100-1999 and 2010-2099 as years: 1984 -> 'nineteen eighty four'."""
    hi, lo = divmod(n, 100)
    if lo == 0:
        return number_to_words(hi) + " hundred"
    if lo < 10:
        return number_to_words(hi) + " oh " + ONES[lo]
    return number_to_words(hi) + " " + number_to_words(lo)


def _digits(s: str) -> str:
    return " ".join(ONES[int(d)] for d in s)


def _currency(m: re.Match) -> str:
    one, many, sub_one, sub_many = CURRENCIES[m.group(1)]
    whole = int(m.group(2).replace(",", ""))
    cents = int((m.group(3) or "0").ljust(2, "0")[:2])
    parts = []
    if whole or not cents:
        parts.append(f"{number_to_words(whole)} {one if whole == 1 else many}")
    if cents:
        parts.append(f"{number_to_words(cents)} {sub_one if cents == 1 else sub_many}")
    return " " + " and ".join(parts) + " "


def _decimal(m: re.Match) -> str:
    return f" {number_to_words(int(m.group(1)))} point {_digits(m.group(2))} "


def _ordinal(m: re.Match) -> str:
    return " " + ordinal_to_words(int(m.group(1))) + " "


def _time(m: re.Match) -> str:
    h, mi = int(m.group(1)), int(m.group(2))
    if mi == 0:
        return f" {number_to_words(h)} o'clock "
    if mi < 10:
        return f" {number_to_words(h)} oh {ONES[mi]} "
    return f" {number_to_words(h)} {number_to_words(mi)} "


def _integer(m: re.Match) -> str:
    s = m.group(0).replace(",", "")
    n = int(s)
    if "," not in m.group(0) and len(s) == 4 and (1100 <= n <= 1999 or 2010 <= n <= 2099):
        return " " + year_to_words(n) + " "
    if len(s) > 1 and s.startswith("0"):
        return " " + _digits(s) + " "
    return " " + number_to_words(n) + " "


_ABBREV_RE = re.compile(r"\b(" + "|".join(sorted(ABBREVIATIONS, key=len, reverse=True)) + r")\.", re.IGNORECASE)


def _check(text) -> str:
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TextError(f"text is not valid UTF-8 ({exc})") from exc
    if not isinstance(text, str):
        raise TextError(f"text must be str or UTF-8 bytes, got {type(text).__name__}")
    if "\ufffd" in text:
        raise TextError("text contains U+FFFD replacement characters (it was not valid UTF-8 when decoded)")
    if not text.strip():
        raise TextError("text is empty")
    return text


def fold_to_ascii(text: str) -> str:
    """Fold Latin letters with diacritics to ASCII; raise TextError on non-Latin letters."""
    text = unicodedata.normalize("NFKC", text)
    text = (text.replace("\u2018", "'").replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
            .replace("\u2014", ", ").replace("\u2013", ", ").replace("\u2026", "..."))
    decomposed = unicodedata.normalize("NFKD", text)
    out = []
    foreign = []
    for ch in decomposed:
        if unicodedata.combining(ch):
            continue
        if ch.isalpha() and not ch.isascii():
            foreign.append(ch)
            continue
        out.append(ch)
    if foreign:
        sample = "".join(dict.fromkeys(foreign))[:10]
        raise TextError(f"text is not English: letters outside the Latin alphabet ({sample!r})")
    return "".join(out)


def normalise(text) -> str:
    """Spell out numbers, abbreviations and symbols; return words and , . ; : ! ? only."""
    text = fold_to_ascii(_check(text))
    text = _ABBREV_RE.sub(lambda m: ABBREVIATIONS[m.group(1).lower()] + " ", text)
    text = re.sub(r"\bno\.\s*(?=\d)", "number ", text, flags=re.IGNORECASE)
    text = re.sub(r"([$£€])\s?(\d[\d,]*)(?:\.(\d+))?", _currency, text)
    text = re.sub(r"\b(\d{1,2}):(\d{2})\b", _time, text)
    text = re.sub(r"\b(\d+)(?:st|nd|rd|th)\b", _ordinal, text, flags=re.IGNORECASE)
    text = re.sub(r"(?<![\d.])(\d+)\.(\d+)", _decimal, text)
    text = re.sub(r"-(?=\d)", " minus ", text)
    text = re.sub(r"\d{1,3}(?:,\d{3})+(?!\d)|\d+", _integer, text)
    for sym, word in SYMBOLS.items():
        text = text.replace(sym, word)
    text = re.sub(r"[\(\)\[\]\{\}]|--|\s-\s", ", ", text)
    text = re.sub(r"[\"*_~^`|<>\\]", " ", text)
    text = text.replace("-", " ")
    text = re.sub(r"[^A-Za-z',.;:!? ]", " ", re.sub(r"\s+", " ", text))
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = re.sub(r"([,.;:!?])(?:\s*[,.;:!?])+", r"\1", text)
    text = re.sub(r"\s+", " ", text).strip(" ,")
    if not re.search(r"[A-Za-z]", text):
        raise TextError("text has no words to speak after normalisation")
    return text
