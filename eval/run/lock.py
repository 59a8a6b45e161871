"""A lock on a run folder: one ``eval.run`` at a time writes ``<out>/<run_id>/``.

The lock is the file ``<run_dir>/.lock``, created with ``O_CREAT | O_EXCL`` (atomic on
local file systems and NFSv3+) and holding ``{"pid", "host", "started"}``. A second run
into the same folder refuses at once with a message naming the holder. A lock whose
process is gone (same host, pid not alive: the run was killed) is stale: it is taken
over, with a warning, and the new run resumes from what the dead one finished.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import socket
from pathlib import Path
from typing import Optional

log = logging.getLogger(__name__)

LOCK_NAME = ".lock"


class RunLocked(RuntimeError):
    """The run folder is held by another live process (the message names it)."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _read(path: Path) -> Optional[dict]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def describe(holder: Optional[dict]) -> str:
    if not holder:
        return "an unknown process (unreadable lock file)"
    return f"pid {holder.get('pid')} on host {holder.get('host')} since {holder.get('started')}"


class RunLock:
    """``with RunLock(run_dir): ...`` holds ``run_dir/.lock`` for the block.

    Raises :class:`RunLocked` when a live process holds it, :class:`OSError` when the
    folder cannot be created or written.
    """

    def __init__(self, run_dir: Path, started: str):
        self.path = Path(run_dir) / LOCK_NAME
        self.record = {"pid": os.getpid(), "host": socket.gethostname(), "started": started}
        self.held = False

    def acquire(self) -> "RunLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps(self.record, sort_keys=True).encode("utf-8")
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = _read(self.path)
                if holder is None or holder.get("host") != self.record["host"] \
                        or not isinstance(holder.get("pid"), int) or _alive(holder["pid"]):
                    if holder is None and not self.path.exists():
                        continue  # released between open and read: try again
                    raise RunLocked(f"run folder {self.path.parent} is in use by {describe(holder)}: wait for it "
                                    f"to finish, or delete {self.path} if that process is gone") from None
                log.warning("taking over the stale lock of %s (the process is gone): resuming its run folder %s",
                            describe(holder), self.path.parent)
                try:
                    self.path.unlink()
                except FileNotFoundError:
                    pass
                continue
            try:
                os.write(fd, body)
            finally:
                os.close(fd)
            self.held = True
            return self
        raise RunLocked(f"run folder {self.path.parent}: could not take the lock {self.path} (contended)")

    def release(self) -> None:
        if self.held:
            holder = _read(self.path)
            if holder == self.record:
                try:
                    self.path.unlink()
                except OSError as exc:
                    if exc.errno != errno.ENOENT:
                        log.warning("cannot remove run lock %s: %s", self.path, exc)
            self.held = False

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
