"""Read raters' answer files and check them against the study design, with a reason per rejection.

An answer file is ``{"payload": {...}, "signature": {"alg": "HMAC-SHA256", "value": hex}}``; the
signature is HMAC-SHA256 of the payload's canonical JSON under the rater's token (inlined in
that rater's page only). What it protects against: answer files edited, truncated or mangled
after export (by hand, by a spreadsheet, in transit), answers from another study, and answers
submitted under another rater's name by someone without that rater's page. What it does NOT
protect against: the rater themselves (the token is in their page, so they can re-sign edited
answers), anyone holding the rater's page link, or a replayed copy of a genuine file (duplicates
are caught by the design checks below, not by the signature).

Rejections: whole files (not UTF-8 / not JSON, another study, unknown rater, bad signature, a
second file for the same rater) and rows (video not assigned to that rater, the same video
twice, a score that is not an integer 1..5, missing playback fields).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from pathlib import Path
from typing import Optional

from eval.mos.packets import canonical

FORMAT = "mos-answers/1"
MAX_BYTES = 10 << 20  # an answer file of 1,000 trials is ~250 kB


@dataclasses.dataclass
class Row:
    rater: str
    video: str
    kind: str
    system: Optional[str]
    item: str
    asked: Optional[int]
    scores: dict[str, int]
    played_ms: int
    ended: bool
    duration_ms: int  # from the key, not from the page


@dataclasses.dataclass
class Report:
    files: list[dict] = dataclasses.field(default_factory=list)  # {path, rater, status, reason, rows}
    rejected_rows: list[dict] = dataclasses.field(default_factory=list)  # {path, row, reason}
    rows: list[Row] = dataclasses.field(default_factory=list)

    def counts(self) -> dict:
        return {"files": len(self.files), "files_accepted": sum(f["status"] == "accepted" for f in self.files),
                "files_rejected": sum(f["status"] == "rejected" for f in self.files),
                "rows_accepted": len(self.rows), "rows_rejected": len(self.rejected_rows)}

    def to_json(self) -> dict:
        return {"counts": self.counts(), "files": self.files, "rejected_rows": self.rejected_rows}


def sign(payload: dict, token: str) -> str:
    return hmac.new(token.encode("utf-8"), canonical(payload).encode("utf-8"), hashlib.sha256).hexdigest()


def answer_files(paths: list[Path]) -> list[Path]:
    """Files named directly, and the ``*.json`` files of folders (sorted)."""
    out = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out += sorted(q for q in p.glob("*.json") if q.is_file())
        elif p.is_file():
            out.append(p)
        else:
            raise FileNotFoundError(f"answers {p}: no such file or folder")
    return out


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def read_answers(paths: list[Path], key: dict) -> Report:
    rep = Report()
    seen_raters: dict[str, str] = {}
    criteria = key["criteria"]
    for path in answer_files(paths):
        entry = {"path": str(path), "rater": None, "status": "rejected", "reason": None, "rows": 0}
        rep.files.append(entry)
        if path.stat().st_size > MAX_BYTES:
            entry["reason"] = f"larger than {MAX_BYTES >> 20} MB: not an answer file"
            continue
        try:
            doc = json.loads(path.read_bytes().decode("utf-8"))
        except UnicodeDecodeError as exc:
            entry["reason"] = f"not UTF-8 ({exc.reason} at byte {exc.start})"
            continue
        except json.JSONDecodeError as exc:
            entry["reason"] = f"not JSON ({exc.msg} at line {exc.lineno})"
            continue
        payload = doc.get("payload") if isinstance(doc, dict) else None
        sig = (doc.get("signature") or {}) if isinstance(doc, dict) else {}
        if (not isinstance(payload, dict) or payload.get("format") != FORMAT
                or not isinstance(payload.get("trials"), list)):
            entry["reason"] = f"not a {FORMAT} answer file"
            continue
        rater = payload.get("rater")
        if not isinstance(rater, str):
            entry["reason"] = f"rater {rater!r} is not in the design"
            continue
        entry["rater"] = rater
        if payload.get("study") != key["study_id"]:
            entry["reason"] = f"answers to another study ({payload.get('study')!r}, this key is {key['study_id']})"
            continue
        if rater not in key["raters"]:
            entry["reason"] = f"rater {rater!r} is not in the design"
            continue
        if not isinstance(sig, dict) or not isinstance(sig.get("value"), str) or not hmac.compare_digest(
                sig["value"], sign(payload, key["raters"][rater]["token"])):
            entry["reason"] = "tampered or corrupted: the signature does not match the content"
            continue
        if rater in seen_raters:
            entry["reason"] = f"duplicate answer file for {rater} (already read {seen_raters[rater]})"
            continue
        seen_raters[rater] = str(path)
        entry["status"] = "accepted"
        assigned = set(key["raters"][rater]["trials"])
        done: set[str] = set()
        for i, t in enumerate(payload["trials"]):
            reason = None
            video = t.get("video") if isinstance(t, dict) else None
            if not isinstance(t, dict):
                reason = "not an object"
            elif not isinstance(video, str) or video not in assigned:
                reason = f"video {video!r} was not assigned to {rater}"
            elif video in done:
                reason = f"duplicate row for video {video}"
            elif any(not _is_int(t.get(c)) or not 1 <= t.get(c) <= 5 for c in criteria):
                bad = [f"{c} = {t.get(c)!r}" for c in criteria if not _is_int(t.get(c)) or not 1 <= t.get(c) <= 5]
                reason = f"{', '.join(bad)}: scores must be integers 1..5"
            elif not _is_int(t.get("played_ms")) or t.get("played_ms") < 0:
                reason = "played_ms missing or negative"
            if reason:
                rep.rejected_rows.append({"path": str(path), "rater": rater, "row": i, "reason": reason})
                continue
            done.add(video)
            v = key["videos"][video]
            rep.rows.append(Row(rater, video, v["kind"], v["system"], v["item"], v["asked"],
                                {c: int(t[c]) for c in criteria}, int(t["played_ms"]), bool(t.get("ended")),
                                int(round(1000 * v["duration_s"]))))
            entry["rows"] += 1
    return rep
