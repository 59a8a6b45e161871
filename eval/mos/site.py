"""The static rating site: one self-contained page per rater plus ``app.js``, ``style.css`` and ``media/``.

Works opened from a folder (``file://``) or from any static host: the page's data is inlined
as JSON in a ``<script type="application/json">`` element (``<``, ``>``, ``&`` and the line
separators escaped as ``\\uXXXX`` so no text can close the element), and ``app.js`` shows
every string with ``textContent``. Nothing here names a system.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from ttsf.atomic import atomic_write_bytes, atomic_write_text

PAGE_VERSION = "1"
ASSETS = Path(__file__).with_name("assets")
CRITERIA = ("lip_sync", "realness", "head_motion")
QUESTIONS = {
    "lip_sync": "Lip sync: how well do the lip movements match the speech?",
    "realness": "Video realness: how real does the video look?",
    "head_motion": "Head motion: how natural is the head movement?",
}
ANCHORS_SHORT = ("Bad", "Poor", "Fair", "Good", "Excellent")
ANCHORS = {
    "lip_sync": ("Bad: the lips do not follow the speech at all",
                 "Poor: frequent, clear mismatches or a visible delay",
                 "Fair: noticeable mismatches, but mostly following the speech",
                 "Good: small mismatches only if you look for them",
                 "Excellent: lips match the speech perfectly"),
    "realness": ("Bad: not believable as a video of a person",
                 "Poor: strong artefacts (blur, distortion, flicker) most of the time",
                 "Fair: clearly synthetic in places",
                 "Good: looks real apart from minor artefacts",
                 "Excellent: indistinguishable from a real recording"),
    "head_motion": ("Bad: completely unnatural (frozen, jerky or erratic)",
                    "Poor: mostly unnatural",
                    "Fair: sometimes too stiff or too restless",
                    "Good: mostly natural",
                    "Excellent: completely natural, like a person talking"),
}
INSTRUCTIONS = (
    "You will watch short videos of a person saying a sentence, one at a time, and answer three questions "
    "about each video on a scale from 1 (bad) to 5 (excellent).",
    "Watch each video to the end with the sound on (headphones if possible). The Next button unlocks "
    "when the video has played through and all three questions are answered. You may replay a video.",
    "The first videos are practice and are not scored. Some videos contain an instruction on screen: "
    "follow it. Your progress is kept in this browser: you can close the page and come back later.",
    "Judge each question on its own: a video can have good lip sync and unnatural head motion.",
)
KEYS_HELP = ("Keyboard: Space plays the video, 1-5 answer the highlighted question (then the next one is "
             "highlighted), arrow up/down change the question, Enter goes to the next video.")
TITLE = "Talking-face video rating"


def json_for_html(obj) -> str:
    """JSON safe to inline in a ``<script type="application/json">`` element."""
    text = json.dumps(obj, ensure_ascii=False, sort_keys=True)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(ch, esc)
    # line separators and bidirectional controls (which can make page source read differently from what runs)
    return "".join(f"\\u{ord(c):04x}" if c in _INVISIBLE else c for c in text)


_INVISIBLE = {"\u2028", "\u2029", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A)),
              "\u200e", "\u200f"}


def page_data(study: str, rater: str, token: str, trials: list[dict], min_view: float, submit: bool) -> dict:
    """trials: ``[{"name", "video" (relative URL), "text", "training"}]``."""
    return {"study": study, "rater": rater, "token": token, "trials": trials, "criteria": list(CRITERIA),
            "questions": QUESTIONS, "anchors": ANCHORS, "anchors_short": ANCHORS_SHORT, "min_view": min_view,
            "instructions": INSTRUCTIONS, "keys_help": KEYS_HELP, "title": TITLE, "page_version": PAGE_VERSION,
            "submit": submit}


def rater_page(data: dict) -> str:
    return ("<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{html.escape(TITLE)}</title><link rel='stylesheet' href='style.css'></head>\n<body>"
            "<main id='app'><noscript>This page needs JavaScript.</noscript></main>\n"
            f"<script id='study-data' type='application/json'>{json_for_html(data)}</script>\n"
            "<script src='app.js'></script></body></html>\n")


def instructions_page() -> str:
    """``index.html``: the instructions alone (raters get their own page's link)."""
    rows = "".join(
        f"<tr><td>{s}</td>" + "".join(f"<td>{html.escape(ANCHORS[k][s - 1])}</td>" for k in CRITERIA) + "</tr>"
        for s in range(5, 0, -1))
    head = "<tr><th>Score</th>" + "".join(f"<th>{html.escape(QUESTIONS[k])}</th>" for k in CRITERIA) + "</tr>"
    paras = "".join(f"<p>{html.escape(p)}</p>" for p in INSTRUCTIONS)
    return (f"<!doctype html>\n<html lang='en'><head><meta charset='utf-8'><title>{html.escape(TITLE)}</title>"
            f"<link rel='stylesheet' href='style.css'></head><body><h1>{html.escape(TITLE)}</h1>{paras}"
            f"<table class='anchors'>{head}{rows}</table><p class='help'>{html.escape(KEYS_HELP)}</p>"
            "<p>Open the personal link you were given to start.</p></body></html>\n")


def write_site(site: Path, pages: dict[str, dict], page_names: dict[str, str]) -> None:
    """Write assets, ``index.html`` and one page per rater (``page_names[rater]``) into ``site``."""
    site.mkdir(parents=True, exist_ok=True)
    for name in ("app.js", "style.css"):
        atomic_write_bytes(site / name, (ASSETS / name).read_bytes())
    atomic_write_text(site / "index.html", instructions_page())
    for rater, data in pages.items():
        atomic_write_text(site / page_names[rater], rater_page(data))
