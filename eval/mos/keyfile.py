"""Reading a study's ``key.json`` with one-line errors."""

from __future__ import annotations

import json
from pathlib import Path


class CliError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


def load_key(path: Path) -> dict:
    try:
        key = json.loads(Path(path).read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise CliError(f"key {path}: no such file") from None
    except IsADirectoryError:
        raise CliError(f"key {path}: is a folder, expected key.json") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CliError(f"key {path}: not valid UTF-8 JSON ({exc})") from None
    if not isinstance(key, dict) or key.get("format") != "ttsf-mos-key/1":
        raise CliError(f"key {path}: not a ttsf-bench MOS key.json")
    return key
