"""Fixtures for the upstream contract tests.

``placeholder_upstream(name)``: the upstream laid out at its pinned commit in a root kept
for placeholder weights only (``$TTSF_BASELINES_TEST_ROOT``, default
``~/.cache/ttsf-bench/baselines-placeholder``; never the users' root), with random-init
checkpoints. Code comes from a local git directory (``$TTSF_BASELINES_SOURCE``, or the
``/work/.mirror`` copies on the development machine): without one the test is skipped
with the ``python -m baselines check`` message. Only ``overlay`` environments (seconds,
no second torch) are created here, except SadTalker's and MakeItTalk's (:data:`BUILD_ONLY_WHEN_ASKED`); a ``venv``
environment or one of those is used when it already exists (``python -m baselines setup NAME
--root $TTSF_BASELINES_TEST_ROOT``), else the test is skipped with the ``check`` message.

``real_face_items``: 2 items from ``tests/data/real_av`` (VoxCeleb2, CC BY 4.0): frame 0
of the clip as the portrait and its first 2.0 s (``$TTSF_BASELINES_TEST_SECONDS``) of speech as a
16 kHz wav.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

REAL_AV = Path(__file__).resolve().parents[1] / "data" / "real_av"
CLIPS = ("audio_00015", "input_00002")
#: seconds of speech per item; ``$TTSF_BASELINES_TEST_SECONDS`` shortens it on a slow machine
#: (SadTalker's renderer costs seconds of CPU per frame)
SECONDS = float(os.environ.get("TTSF_BASELINES_TEST_SECONDS", "2.0"))
#: overlay environments the fixture does NOT build itself (heavy: a source build, ~1 GB of placeholder
#: weights, minutes of CPU per clip); their test runs once ``python -m baselines setup NAME --root ROOT``
#: has built the environment in the test root, and is skipped otherwise. MakeItTalk: 743 MiB of placeholder
#: weights (its four checkpoints + face_alignment's) and ~70 s of CPU per 2-s clip (docs/baselines.md)
BUILD_ONLY_WHEN_ASKED = ("sadtalker", "makeittalk")


def placeholder_root() -> Path:
    env = os.environ.get("TTSF_BASELINES_TEST_ROOT")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "ttsf-bench" / "baselines-placeholder"


@pytest.fixture()
def placeholder_upstream(monkeypatch):
    def prepare(name: str):
        from baselines.install import SetupError, build_placeholders, check, create_env, layout, local_source

        root = placeholder_root()
        monkeypatch.setenv("TTSF_BASELINES_ROOT", str(root))
        for var in (f"TTSF_{name.upper()}_DIR", f"TTSF_{name.upper()}_PYTHON"):
            monkeypatch.delenv(var, raising=False)
        from eval.systems import create

        adapter = create(name)
        root.mkdir(parents=True, exist_ok=True)
        with open(root / f".{name}.setup.lock", "a+") as lock:  # one set-up at a time (xdist, parallel sessions)
            fcntl.flock(lock, fcntl.LOCK_EX)
            if (adapter.env.mode != "overlay" or name in BUILD_ONLY_WHEN_ASKED) and not adapter.python.is_file():
                _, lines = check(adapter)
                pytest.skip(f"{name}: its own environment is not built here (python -m baselines setup {name} "
                            f"--root {root}): `python -m baselines check {name}` says: " + " | ".join(lines))
            try:
                if adapter.checkout_commit() != adapter.commit:
                    if local_source(adapter) is None:
                        _, lines = check(adapter)
                        pytest.skip(f"no local source for {name}: `python -m baselines check {name}` says: "
                                    + " | ".join(lines))
                    layout(adapter, log=lambda *_: None)
                if adapter.env.mode == "overlay":
                    create_env(adapter, log=lambda *_: None)  # seconds; idempotent
                build_placeholders(adapter, log=lambda *_: None)
            except SetupError as exc:
                pytest.fail(f"{name}: {exc}")
        ok, lines = check(adapter)
        assert any(line.startswith("PLACEHOLDER checkpoint") for line in lines), lines
        assert all(not line.startswith(("MISSING", "BROKEN", "WRONG")) for line in lines), lines
        return adapter

    return prepare


@pytest.fixture(scope="session")
def real_face_items(tmp_path_factory):
    """``(root, [Item, Item])``: real portraits + :data:`SECONDS` of each clip's own speech."""
    from ttsf import media
    from ttsf.data.manifest import item_from_dict

    root = tmp_path_factory.mktemp("real_faces")
    items = []
    for clip in CLIPS:
        src = REAL_AV / f"{clip}.mp4"
        audio = media.read_audio(src, media.SAMPLE_RATE)[: int(SECONDS * media.SAMPLE_RATE)]
        media.write_audio(root / f"{clip}.wav", audio, media.SAMPLE_RATE)
        (root / f"{clip}.mp4").write_bytes(src.read_bytes())
        items.append(item_from_dict({"id": clip, "dataset": "real_av", "speaker": clip, "text": "hello there",
                                     "text_source": None, "source": {"path": f"{clip}.mp4", "frame": 0},
                                     "ref_video": None, "ref_audio": f"{clip}.wav", "duration": SECONDS}))
    return root, items
