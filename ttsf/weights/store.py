"""Find registered weights on disk and verify them against their pinned sha256.

Search order for an entry's primary file:

1. ``$TTSF_WEIGHTS/<subdir>/<filename>`` (default root ``~/.cache/ttsf-bench/weights``);
2. the folders the reference packages use (``$TORCH_HOME/hub/checkpoints``,
   ``~/.cache/whisper``, ``~/.insightface/models/...``);
3. inside the pip package that ships it, or the repository (committed checkpoints).

A hash is computed once per file and remembered in ``<root>/.verified.json`` with the
file's ``(size, mtime_ns, inode, device, ctime_ns)``; it is reused only when all of them
match, so multi-GB files are not re-hashed on every run, while a file rewritten in place
(even with its mtime restored: the ctime still moves) is hashed again.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Optional

from ttsf.weights.errors import MissingWeights
from ttsf.weights.entries import FileSpec, WeightsEntry, entries
from ttsf.hashing import sha256_file  # noqa: F401  (re-exported; always reads the file)

log = logging.getLogger(__name__)

DEFAULT_ROOT = "~/.cache/ttsf-bench/weights"
_CACHE_NAME = ".verified.json"
_REPO_ROOT = Path(__file__).resolve().parents[2]
_lock = threading.Lock()
_memory_cache: dict[str, dict] = {}


class CorruptWeights(MissingWeights):
    """A weights file that exists but whose sha256 is not the pinned one."""


def weights_root() -> Path:
    """``$TTSF_WEIGHTS`` or ``~/.cache/ttsf-bench/weights`` (not created here)."""
    return Path(os.environ.get("TTSF_WEIGHTS") or DEFAULT_ROOT).expanduser()


def get_entry(name: str) -> WeightsEntry:
    """The registered entry ``name``; :class:`ttsf.names.UnknownName` otherwise."""
    table = entries()
    if name not in table:
        from ttsf.names import UnknownName

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


def package_dir(package: str) -> Optional[Path]:
    """Folder of an installed package without importing it (``"sys.prefix"`` -> sys.prefix)."""
    if package == "sys.prefix":
        return Path(sys.prefix)
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


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


# ----------------------------------------------------------------------------- hashing


def _cache_file() -> Path:
    return weights_root() / _CACHE_NAME


def _load_cache() -> dict:
    path = _cache_file()
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable weights hash cache %s: %s", path, exc)
        return {}


def _save_cache(cache: dict) -> None:
    path = _cache_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".verified.", suffix=".tmp")
        with os.fdopen(fd, "w") as handle:
            json.dump(cache, handle, indent=1, sort_keys=True)
        os.replace(tmp, path)
    except OSError as exc:  # read-only weights root: keep the in-process cache only
        log.debug("cannot write weights hash cache %s: %s", path, exc)


def _identity(stat: os.stat_result) -> dict:
    """What must not have changed for a remembered hash to be reused."""
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "ino": stat.st_ino, "dev": stat.st_dev,
            "ctime_ns": stat.st_ctime_ns}


def file_sha256(path: Path, *, use_cache: bool = True) -> str:
    """sha256 of ``path``, memoised on disk by ``(resolved path, size, mtime, inode, device, ctime)``."""
    path = Path(path).resolve()
    stat = path.stat()
    key = str(path)
    with _lock:
        if use_cache:
            hit = _memory_cache.get(key) or _load_cache().get(key)
            if isinstance(hit, dict) and all(hit.get(k) == v for k, v in _identity(stat).items()):
                _memory_cache[key] = hit
                return hit["sha256"]
        digest = sha256_file(path)
        record = {**_identity(stat), "sha256": digest}
        _memory_cache[key] = record
        cache = _load_cache()
        cache[key] = record
        _save_cache(cache)
    return digest


#: leading bytes of the formats weights come in (checked for files without a pinned sha256)
_TORCH_MAGIC = (b"PK\x03\x04",  # torch.save zip format (and TorchScript)
                b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19")  # legacy torch.save: the pickled magic number
_MAGIC = {".pt": _TORCH_MAGIC, ".pth": _TORCH_MAGIC, ".ckpt": _TORCH_MAGIC, ".model": _TORCH_MAGIC,
          ".pkl": _TORCH_MAGIC, ".ts": _TORCH_MAGIC[:1], ".h5": (b"\x89HDF\r\n\x1a\n",),
          ".onnx": (b"\x08",)}  # ONNX ModelProto starts with field 1 (ir_version), a varint


def sniff(path: Path) -> Optional[str]:
    """Why ``path`` is not in the format its suffix promises (``None`` when it is, or unknown).

    A plain pickle named ``*.pt`` (which ``torch.load(weights_only=True)`` would refuse
    anyway) is reported here, before any loader sees it.
    """
    magics = _MAGIC.get(Path(path).suffix.lower())
    if magics is None:
        return None
    with open(path, "rb") as handle:
        head = handle.read(max(len(m) for m in magics))
    if any(head.startswith(m) for m in magics):
        return None
    kind = "a plain Python pickle" if head[:1] == b"\x80" else "not in the expected format"
    return f"{path} is {kind} (starts with {head[:8].hex()}), not a {Path(path).suffix} weights file"


def check_file(path: Path, spec: FileSpec, *, use_cache: bool = True) -> str:
    """Verify ``path`` against ``spec``; return its sha256 or raise :class:`CorruptWeights`.

    Pinned files are checked by size and sha256; unpinned ones by their format's leading
    bytes (:func:`sniff`).
    """
    if spec.size is not None and path.stat().st_size != spec.size:
        raise CorruptWeights(
            f"{path} has {path.stat().st_size} bytes, expected {spec.size} for {spec.filename} "
            "(truncated or a different file): delete it and fetch it again"
        )
    if spec.sha256 is None:
        problem = sniff(path)
        if problem:
            raise CorruptWeights(f"{problem}: delete it and fetch the official file")
    digest = file_sha256(path, use_cache=use_cache)
    if spec.sha256 is not None and digest != spec.sha256:
        raise CorruptWeights(
            f"{path} has sha256 {digest}, expected {spec.sha256} for {spec.filename}: "
            "corrupt or a different version; delete it and fetch it again"
        )
    if spec.sha256 is None and spec.sha256_prefix and not digest.startswith(spec.sha256_prefix):
        raise CorruptWeights(
            f"{path} has sha256 {digest}, which does not start with the published prefix "
            f"{spec.sha256_prefix} of {spec.filename}: a different file"
        )
    return digest


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
        from ttsf.weights.assemble import assemble

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
