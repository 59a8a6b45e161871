"""Atomic, resumable, verified downloads of registered weights.

A file is fetched into ``<dest>.part``; an existing ``.part`` is resumed with an HTTP
``Range`` request (a server that ignores it answers 200 and we start over). Only a
complete file whose sha256 (and size) match the pinned values is renamed to ``dest``.
Interrupted transfers leave the ``.part`` for the next attempt; a hash mismatch deletes
it. Without network the error says where to put the file by hand.
"""

from __future__ import annotations

import logging
import os
import re
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Optional

from ttsf.atomic import atomic_open
from ttsf.hashing import sha256_file
from ttsf.weights.entries import FileSpec
from ttsf.weights.errors import CorruptWeights, MissingWeights
from ttsf.weights.store import get_entry, home_dir, locate, missing_message
from ttsf.weights.verify import check_file

log = logging.getLogger(__name__)

CHUNK = 1 << 20
USER_AGENT = "ttsf-bench-weights/1"


class DownloadError(MissingWeights):
    """A transfer that failed or was interrupted; the ``.part`` file is kept for resuming."""


def _content_range_start(header: Optional[str]) -> Optional[int]:
    match = re.match(r"bytes (\d+)-", header or "")
    return int(match.group(1)) if match else None


def fetch_url(url: str, dest: Path, spec: FileSpec, *, timeout: float = 60.0) -> Path:
    """Download ``url`` to ``dest`` atomically, resuming ``dest.part``; verify against ``spec``.

    Raises:
        DownloadError: network failure or short transfer (``.part`` kept).
        CorruptWeights: complete file with the wrong sha256/size (``.part`` deleted).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    offset = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:  # range past the end: the .part is already complete
            response = None
        else:
            raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise DownloadError(f"{url}: {getattr(exc, 'reason', exc)}") from exc

    if response is not None:
        with response:
            status = getattr(response, "status", 200)
            if offset and status == 206 and _content_range_start(response.headers.get("Content-Range")) == offset:
                mode, written = "ab", offset
                log.info("resuming %s at byte %d", url, offset)
            else:
                mode, written = "wb", 0
            length = response.headers.get("Content-Length")
            expected_total = written + int(length) if length is not None else None
            try:
                with open(part, mode) as out:
                    while True:
                        block = response.read(CHUNK)
                        if not block:
                            break
                        out.write(block)
                        written += len(block)
            except (OSError, urllib.error.URLError) as exc:
                raise DownloadError(f"{url}: interrupted after {written} bytes ({exc}); rerun to resume") from exc
            if expected_total is not None and written < expected_total:
                raise DownloadError(f"{url}: got {written} of {expected_total} bytes; rerun to resume from {part}")

    digest = sha256_file(part)
    if spec.sha256 is not None and digest != spec.sha256:
        part.unlink(missing_ok=True)
        raise CorruptWeights(f"{url}: downloaded sha256 {digest} != pinned {spec.sha256} for {spec.filename}; deleted")
    if spec.size is not None and part.stat().st_size != spec.size:
        part.unlink(missing_ok=True)
        raise CorruptWeights(f"{url}: downloaded {part.stat().st_size} bytes, expected {spec.size}; deleted")
    if spec.sha256 is None and spec.sha256_prefix and not digest.startswith(spec.sha256_prefix):
        part.unlink(missing_ok=True)
        raise CorruptWeights(f"{url}: sha256 {digest} lacks the published prefix {spec.sha256_prefix}; deleted")
    os.replace(part, dest)
    return dest


def _fetch_any(spec: FileSpec, dest: Path, timeout: float) -> Path:
    errors = []
    for url in spec.urls:
        try:
            return fetch_url(url, dest, spec, timeout=timeout)
        except CorruptWeights:
            raise
        except DownloadError as exc:
            errors.append(str(exc))
    raise DownloadError("; ".join(errors) or f"no URL known for {spec.filename}")


def _extract_member(archive: Path, member: str, dest: Path) -> Path:
    with zipfile.ZipFile(archive) as zf:
        names = [n for n in zf.namelist() if n == member or n.endswith("/" + member)]
        if not names:
            raise CorruptWeights(f"{archive} has no member {member}")
        with atomic_open(dest, "wb") as out, zf.open(names[0]) as src:
            while block := src.read(CHUNK):
                out.write(block)
    return dest


def download(name: str, *, root: Optional[Path] = None, timeout: float = 60.0) -> Path:
    """Fetch (or assemble) the weights ``name`` into the weights root; return the primary path.

    Files already present and verified are kept. Raises :class:`MissingWeights` (with the
    by-hand instructions) when the files cannot be fetched.
    """
    entry = get_entry(name)
    if entry.packaged:
        return locate(name, root=root)
    folder = home_dir(entry, root)
    primary = folder / entry.file.filename
    try:
        if entry.archive is not None:
            if not _verified(primary, entry.file):
                zip_path = _fetch_any(entry.archive, folder / entry.archive.filename, timeout)
                _extract_member(zip_path, entry.archive_member or entry.file.filename, primary)
                check_file(primary, entry.file, use_cache=False)
        for spec in entry.files if entry.archive is None else entry.companions:
            if not spec.urls:
                raise DownloadError(f"no download URL is published for {spec.filename}")
            if not _verified(folder / spec.filename, spec):
                _fetch_any(spec, folder / spec.filename, timeout)
    except CorruptWeights:
        raise
    except DownloadError as exc:
        raise DownloadError(missing_message(entry, root, reason=f"download failed: {exc}")) from exc
    return locate(name, root=root)


def _verified(path: Path, spec: FileSpec) -> bool:
    if not path.is_file():
        return False
    try:
        check_file(path, spec)
    except CorruptWeights as exc:
        log.warning("%s; fetching again", exc)
        return False
    return True
