"""Named data roots: ``KIND:NAME`` strings in training configs (``synth:default``) that a
resolver installed beside ``ttsf`` turns into a corpus folder.

``ttsf`` knows no corpus builders itself (the synthetic corpus lives in the harness, which
sits above the model). A package offers a kind by declaring a Python entry point in the
group ``ttsf.data_roots`` whose object maps ``NAME`` to a folder; this project's
``pyproject.toml`` declares ``synth = "eval.synth.cache:default_corpus"``.
"""

from __future__ import annotations

import re
from importlib.metadata import entry_points
from pathlib import Path
from typing import Optional

GROUP = "ttsf.data_roots"
#: ``kind:name``; a kind of two or more characters, so a Windows drive (``C:\\...``) is a path
_NAMED = re.compile(r"^(?P<kind>[A-Za-z][\w-]+):(?P<name>[^/\\].*)$")


class DataRootError(ValueError):
    """A ``KIND:NAME`` data root whose kind has no installed resolver, or a malformed one."""


def parse_named(root: str) -> Optional[tuple[str, str]]:
    """``"synth:default"`` -> ``("synth", "default")``; ``None`` for a plain path."""
    match = _NAMED.match(root)
    return (match["kind"], match["name"]) if match else None


def resolvers() -> dict[str, str]:
    """Installed kinds -> their entry point targets (``"module:attr"``)."""
    return {ep.name: ep.value for ep in entry_points(group=GROUP)}


def resolve_named(root: str) -> Path:
    """The folder of the named data root ``KIND:NAME`` (built by its resolver if needed)."""
    parsed = parse_named(root)
    if parsed is None:
        raise DataRootError(f"a named data root looks like KIND:NAME (e.g. synth:default), got {root!r}")
    kind, name = parsed
    found = [ep for ep in entry_points(group=GROUP) if ep.name == kind]
    if not found:
        known = ", ".join(sorted(resolvers())) or "none installed"
        raise DataRootError(
            f"no resolver for data root kind {kind!r} in {root!r} (known: {known}); resolvers are entry points "
            f"in the group {GROUP!r}: install the package that declares one (for synth: pip install -e . in "
            "this repository, which installs the eval harness)")
    return Path(found[0].load()(name))


def resolve_root(root: str) -> Path:
    """A configured data root: ``KIND:NAME`` through its resolver, anything else a path."""
    return resolve_named(root) if parse_named(root) else Path(root).expanduser()
