"""Validation of user input, shared by every command-line entry point (``ttsf`` and ``eval``).

One helper per kind of check, so every CLI refuses bad input the same way:

- argparse types: :func:`finite_float` (NaN/inf and out-of-range refused), :func:`int_range`
  (``positive_int``/``nonneg_int``), :func:`safe_name_arg`;
- :func:`safe_name` / :func:`inside`: names that become file names (run ids, system labels)
  are restricted to ``[A-Za-z0-9._-]`` and resolved inside their parent folder;
- :func:`check_device`: ``cuda`` without a usable GPU is an error, not a traceback;
- :func:`output_file`: an output path that is a folder, or in a folder that is missing or
  read-only, is refused before any work;
- :func:`strict_json`: JSON without ``NaN``/``Infinity`` (non-finite numbers become ``null``);
- text cells: :func:`csv_cell` (spreadsheet formula injection) and :func:`md_text`
  (Markdown/HTML special characters).

Every error message names the input and the problem on one line.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import os
import re
from pathlib import Path
from typing import Any, Callable, Optional

#: names that become file or folder names: letters, digits, '.', '_', '-'; not starting with '.' or '-'
SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")


class InputError(ValueError):
    """Bad user input; ``str(error)`` is a one-line message naming the input and the problem."""


# ----------------------------------------------------------------------------- numbers


def parse_finite_float(text: Any, what: str, lo: Optional[float] = None, hi: Optional[float] = None,
                       lo_open: bool = False) -> float:
    """``float(text)`` when finite and within ``[lo, hi]`` (``(lo, hi]`` with ``lo_open``)."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise InputError(f"{what}: expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise InputError(f"{what}: must be a finite number, got {text!r}")
    if lo is not None and (value <= lo if lo_open else value < lo):
        raise InputError(f"{what}: must be {'>' if lo_open else '>='} {lo:g}, got {text!r}")
    if hi is not None and value > hi:
        raise InputError(f"{what}: must be <= {hi:g}, got {text!r}")
    return value


def parse_int(text: Any, what: str, lo: Optional[int] = None, hi: Optional[int] = None) -> int:
    """``int(text)`` within ``[lo, hi]``."""
    try:
        value = int(str(text).strip())
    except (TypeError, ValueError):
        raise InputError(f"{what}: expected an integer, got {text!r}") from None
    if lo is not None and value < lo:
        raise InputError(f"{what}: must be >= {lo}, got {text!r}")
    if hi is not None and value > hi:
        raise InputError(f"{what}: must be <= {hi}, got {text!r}")
    return value


def _argtype(fn: Callable[[str], Any], name: str) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            return fn(text)
        except InputError as error:  # argparse prefixes "argument --x:"; drop our own "value:" prefix
            message = str(error)
            raise argparse.ArgumentTypeError(message[7:] if message.startswith("value: ") else message) from None

    parse.__name__ = name  # argparse names the type in "invalid <name> value"
    return parse


def finite_float(lo: Optional[float] = None, hi: Optional[float] = None, lo_open: bool = False):
    """argparse type: a finite float in ``[lo, hi]`` (``(lo, hi]`` with ``lo_open``)."""
    return _argtype(lambda t: parse_finite_float(t, "value", lo, hi, lo_open), "finite float")


def int_range(lo: Optional[int] = None, hi: Optional[int] = None):
    """argparse type: an integer in ``[lo, hi]``."""
    return _argtype(lambda t: parse_int(t, "value", lo, hi), "integer")


#: seeds: any integer a ``torch.Generator``/numpy accepts
SEED_MAX = 2**63 - 1
positive_int = int_range(1, 2**31 - 1)
nonneg_int = int_range(0, 2**31 - 1)
seed_int = int_range(0, SEED_MAX)


# ----------------------------------------------------------------------------- names and paths


def safe_name(text: str, what: str) -> str:
    """``text`` when it is a safe file name (``[A-Za-z0-9._-]``, 1-128 chars, not '.'-led)."""
    if not isinstance(text, str) or not SAFE_NAME.fullmatch(text):
        raise InputError(f"{what} {text!r} is not a safe name: use 1-128 letters, digits, '.', '_' or '-' "
                         "(not starting with '.' or '-')")
    return text


def safe_name_arg(what: str):
    """argparse type for :func:`safe_name`."""
    return _argtype(lambda t: safe_name(t, "name"), "name")


def inside(base: os.PathLike | str, name: str, what: str) -> Path:
    """``base / name`` resolved, refused unless it stays inside ``base`` (resolved)."""
    root = Path(base).resolve()
    path = (root / name).resolve()
    if path == root or root not in path.parents:
        raise InputError(f"{what} {name!r} resolves to {path}, outside {root}")
    return path


def writable_dir(folder: os.PathLike | str) -> Optional[str]:
    """Why files cannot be created in ``folder`` (``None`` when they can).

    Probed by creating and removing an empty temp file: permission bits alone say
    nothing for root or on a read-only mount.
    """
    import tempfile

    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".write-probe-")
    except OSError as exc:
        return exc.strerror or str(exc)
    os.close(fd)
    os.unlink(probe)
    return None


def output_file(path: os.PathLike | str, what: str) -> Path:
    """An output file path that can be written: not a folder or a symbolic link, its folder
    exists and is writable."""
    path = Path(path)
    if path.is_symlink():  # writing would replace the link (or, elsewhere, follow it out of the tree)
        raise InputError(f"{what} {path} is a symbolic link (to {os.readlink(path)}): give a plain file path")
    if path.is_dir():
        raise InputError(f"{what} {path} is a directory: give a file name")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"{what} {path}: folder {parent} does not exist")
    problem = writable_dir(parent)
    if problem:
        raise InputError(f"{what} {path}: cannot write in folder {parent} ({problem})")
    if path.exists() and not os.access(path, os.W_OK):
        raise InputError(f"{what} {path} exists and is not writable")
    return path


def input_file(path: os.PathLike | str, what: str) -> Path:
    """An existing, readable regular file (a folder, a broken link or an unreadable file is refused)."""
    path = Path(path)
    if path.is_symlink() and not path.exists():
        raise InputError(f"{what} {path} is a broken symbolic link")
    if not path.exists():
        raise InputError(f"{what} {path} does not exist")
    if path.is_dir():
        raise InputError(f"{what} {path} is a directory, not a file")
    if not os.access(path, os.R_OK):
        raise InputError(f"{what} {path} is not readable")
    return path


def check_device(device: str, what: str = "--device") -> str:
    """``device`` when torch can use it: ``cpu``, or ``cuda[:k]`` with such a GPU present."""
    text = str(device)
    if text == "cpu":
        return text
    if not re.fullmatch(r"cuda(:\d+)?", text):
        raise InputError(f"{what} {text!r}: expected cpu, cuda or cuda:K")
    import torch

    if not torch.cuda.is_available():
        raise InputError(f"{what} {text}: no CUDA GPU is available on this machine (use --device cpu)")
    index = int(text.split(":")[1]) if ":" in text else 0
    if index >= torch.cuda.device_count():
        raise InputError(f"{what} {text}: only {torch.cuda.device_count()} CUDA device(s) present")
    return text


def one_line(exc: BaseException) -> str:
    """``"<Type>: <message>"`` on one line (whitespace collapsed, at most 300 characters)."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


# ----------------------------------------------------------------------------- output text


def finite_or_none(value: Any) -> Any:
    """``value`` with every non-finite float (NaN, ±inf) replaced by ``None``, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(v) for v in value]
    return value


def strict_json(obj: Any, **kwargs: Any) -> str:
    """Valid JSON (RFC 8259): non-finite floats become ``null``; never ``NaN``/``Infinity``."""
    return json.dumps(finite_or_none(obj), allow_nan=False, **kwargs)


_FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet will not run as a formula.

    Text starting with ``= + - @``, tab or CR gets a leading ``'`` (OWASP's advice);
    numbers (and text that is exactly a number, e.g. ``-0.5``) are left as they are.
    Line breaks inside text become spaces (an unquoted CR would split the row).
    """
    if not isinstance(value, str):
        return value
    flat = value.replace("\r", " ").replace("\n", " ")
    if not value.startswith(_FORMULA_LEAD):
        return flat
    try:
        float(value)
        return value
    except ValueError:
        return "'" + flat


def md_text(text: str) -> str:
    """Text for a Markdown table cell: HTML special characters as entities, ``| ` \\``
    backslash-escaped, the link opener ``](`` broken, line breaks as spaces: no raw HTML,
    no links, no broken rows. Footnote marks such as ``4.5[1]`` and labels such as
    ``[PLACEHOLDER]`` read as they are."""
    text = html.escape(str(text), quote=False)
    text = re.sub(r"([\\`|])", r"\\\1", text).replace("](", "]\\(")
    return text.replace("\r", " ").replace("\n", " ")
