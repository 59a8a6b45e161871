"""Find registered weights on disk and verify them against their pinned sha256.

Search order for an entry's primary file:

1. ``$TTSF_WEIGHTS/<subdir>/<filename>`` (default root ``~/.cache/ttsf-bench/weights``);
2. the folders the reference packages use (``$TORCH_HOME/hub/checkpoints``,
   ``~/.cache/whisper``, ``~/.insightface/models/...``);
3. inside the pip package that ships it, or the repository (committed checkpoints).

Verification (pinned sha256, remembered per file) is :mod:`ttsf.weights.verify`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Optional

from ttsf.names import UnknownName
from ttsf.weights.assemble import assemble
from ttsf.weights.entries import WeightsEntry, entries
from ttsf.weights.errors import MissingWeights
from ttsf.weights.verify import check_file, file_sha256, package_dir, weights_root

log = logging.getLogger(__name__)

_REPO_ROOT = Path(__file__).resolve().parents[2]


def get_entry(name: str) -> WeightsEntry:
    """The registered entry ``name``; :class:`ttsf.names.UnknownName` otherwise."""
    table = entries()
    if name not in table:
        raise UnknownName("weights", name, list(table))
    return table[name]


def home_dir(entry: WeightsEntry, root: Optional[Path] = None) -> Path:
    """The folder under the weights root where ``entry``'s files are stored."""
    root = weights_root() if root is None else Path(root)
    return root / entry.subdir if entry.subdir else root


def _expand_template(template: str) -> Path:
    """``"$VAR/sub|default"`` -> ``$VAR/sub`` when ``VAR`` is set, else ``default``."""
    env_form, _, default = template.partition("|")
    var = env_form[1:].split("/", 1)[0]
    if os.environ.get(var):
        return Path(os.path.expandvars(env_form)).expanduser()
    return Path(default).expanduser()


def candidate_paths(entry: WeightsEntry, root: Optional[Path] = None) -> list[Path]:
    """Where ``entry``'s primary file is looked for, in order."""
    paths = [home_dir(entry, root) / entry.file.filename]
    paths += [_expand_template(t) / entry.file.filename for t in entry.extra_dirs]
    if entry.package and entry.package_path:
        pkg = package_dir(entry.package)
        if pkg is not None:
            paths.append(pkg / entry.package_path)
    if entry.repo_path:
        paths.append(_REPO_ROOT / entry.repo_path)
    return paths


# ----------------------------------------------------------------------------- locating


def missing_message(entry: WeightsEntry, root: Optional[Path] = None, reason: str = "") -> str:
    """The actionable text of :class:`MissingWeights` for ``entry``."""
    dest = home_dir(entry, root)
    lines = [f"weights {entry.name!r} not found: {entry.file.filename}" + (f" ({reason})" if reason else "")]
    lines.append(f"  sha256: {entry.file.sha256 or 'not published (recorded on first use)'}")
    lines.append(f"  from:   {entry.source}")
    urls = entry.file.urls or (entry.archive.urls if entry.archive else ())
    for url in urls:
        lines.append(f"  url:    {url}")
    if entry.archive:
        lines.append(f"  (the file is {entry.archive_member} inside {entry.archive.filename})")
    for comp in entry.companions:
        lines.append(f"  also:   {comp.filename} " + (comp.urls[0] if comp.urls else ""))
    if entry.companions:
        lines.append(f"  put all {len(entry.files)} files in: {dest}/")
    else:
        lines.append(f"  put it at: {dest / entry.file.filename}")
    others = [str(p) for p in candidate_paths(entry, root)[1:]]
    if others:
        lines.append(f"  (also searched: {', '.join(others)})")
    if urls:
        lines.append(f"  or run:  python -m eval.weights download {entry.name}")
    elif entry.package:
        lines.append(f"  it ships with a pip package: install {entry.source}")
    if entry.note:
        lines.append(f"  note: {entry.note}")
    return "\n".join(lines)


def find(name: str, root: Optional[Path] = None) -> Optional[Path]:
    """The first existing candidate path of ``name``'s primary file (unverified), or None."""
    for path in candidate_paths(get_entry(name), root):
        if path.is_file():
            return path
    return None


def locate(name: str, *, verify: bool = True, root: Optional[Path] = None) -> Path:
    """Path of the weights file ``name``, verified against its pinned sha256.

    Companion files (multi-file models) are checked in the same folder. Packaged entries
    that need assembling (``whisper_base_ct2``) are assembled on first use.

    Raises:
        MissingWeights: no candidate exists; the message names the file, its sha256, the
            URL, the exact destination path and the download command.
        CorruptWeights: the file exists with the wrong hash or size.
    """
    entry = get_entry(name)
    path = find(name, root)
    if path is None and entry.assemble:
        path = assemble(entry, home_dir(entry, root))
    if path is None:
        raise MissingWeights(missing_message(entry, root))
    if verify:
        check_file(path, entry.file)
    for comp in entry.companions:
        comp_path = path.parent / comp.filename
        if not comp_path.is_file():
            raise MissingWeights(missing_message(entry, root, reason=f"{comp.filename} missing beside {path}"))
        if verify:
            check_file(comp_path, comp)
    return path


def describe(name: str, root: Optional[Path] = None) -> dict:
    """Provenance of ``name`` for results: file, path, pinned and actual sha256."""
    entry = get_entry(name)
    path = locate(name, root=root)
    return {
        "name": name,
        "file": entry.file.filename,
        "path": str(path),
        "sha256": file_sha256(path),
        "pinned": entry.file.sha256 is not None,
    }
