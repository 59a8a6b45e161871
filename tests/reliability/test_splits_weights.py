"""``python -m eval.splits`` and ``python -m eval.weights``: bad names, numbers and folders.

Also the two silent-result findings of issue 18 for these entry points: an empty manifest
reported as ``0/0 items OK`` and a weights file altered in place (mtime restored) whose
remembered hash was trusted.
"""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path

import pytest

from eval.splits import main as splits_main
from eval.weights.__main__ import main as weights_main


@pytest.fixture(scope="module")
def env(base_env, sandbox):
    empty_manifest = sandbox / "emptysplit"
    empty_manifest.mkdir()
    (empty_manifest / "synth_test.jsonl").write_text("")
    return {**base_env, "empty_manifest": str(empty_manifest)}


@pytest.fixture
def weights_root(tmp_path, monkeypatch):
    root = tmp_path / "weights"
    root.mkdir()
    monkeypatch.setenv("TTSF_WEIGHTS", str(root))
    return root


SPLITS = [
    ("splits-limit-negative", ["validate", "synth_test", "--limit=-1"], r"--limit: must be >= 0"),
    ("splits-limit-nan", ["validate", "synth_test", "--limit", "nan"], r"--limit: expected an integer"),
    ("splits-limit-inf", ["validate", "synth_test", "--limit", "inf"], r"--limit: expected an integer"),
    ("splits-limit-float", ["validate", "synth_test", "--limit", "2.5"], r"--limit: expected an integer"),
    ("splits-build-vox2", ["build", "vox2"], r"error: only `build lrs2` exists"),
    ("splits-freeze-lrs2", ["freeze", "lrs2"], r"error: only `freeze vox2` exists"),
    ("splits-freeze-no-root", ["freeze", "vox2", "--data-root", "{missing}"], r"vox2 not found: .*nothing.here", 1),
    ("splits-freeze-empty-root", ["freeze", "vox2", "--data-root", "{empty}"], r"vox2 not found: .*emptydir", 1),
    ("splits-unknown-command", ["explode"], r"invalid choice: 'explode'"),
    ("splits-validate-unknown", ["validate", "nope"], r"\[split\] unknown split 'nope'", 1, "stdout"),
    ("splits-validate-traversal", ["validate", "../x"], r"\[split\] unknown split '../x'", 1, "stdout"),
    ("splits-validate-missing-root", ["validate", "synth_test", "--data-root", "{missing}"],
     r"cannot read manifest .*nothing.here", 1, "stdout"),
    ("splits-validate-root-is-file", ["validate", "synth_test", "--data-root", "{notes}"],
     r"cannot read manifest .*notes.txt", 1, "stdout"),
    ("splits-validate-empty-manifest", ["validate", "synth_test", "--data-root", "{empty_manifest}"],
     r"^synth_test: FAILED: no items .*\n.*\n.*\[manifest\] the split has no items: empty manifest", 1, "stdout"),
]

WEIGHTS = [
    ("weights-where-unknown", ["where", "nope"], r"error: unknown weights 'nope'"),
    ("weights-verify-unknown", ["verify", "nope"], r"error: unknown weights 'nope'"),
    ("weights-download-unknown", ["download", "nope"], r"error: unknown weights 'nope'"),
    ("weights-where-traversal", ["where", "../../etc/passwd"], r"error: unknown weights '../../etc/passwd'"),
    ("weights-verify-one-unknown", ["verify", "yunet", "nope"], r"error: unknown weights 'nope'"),
    ("weights-download-empty-name", ["download", ""], r"error: unknown weights ''"),
    ("weights-timeout-nan", ["download", "yunet", "--timeout", "nan"], r"--timeout: must be a finite number"),
    ("weights-timeout-inf", ["download", "yunet", "--timeout", "inf"], r"--timeout: must be a finite number"),
    ("weights-timeout-zero", ["download", "yunet", "--timeout", "0"], r"--timeout: must be > 0"),
    ("weights-timeout-negative", ["download", "yunet", "--timeout=-5"], r"--timeout: must be > 0"),
    ("weights-timeout-huge", ["download", "yunet", "--timeout", "1e12"], r"--timeout: must be <= 3600"),
    ("weights-timeout-text", ["download", "yunet", "--timeout", "soon"], r"--timeout: expected a number"),
    ("weights-no-command", [], r"the following arguments are required: command"),
]


@pytest.mark.parametrize("c", SPLITS, ids=lambda c: c[0])
def test_splits_refused(c, env, refused):
    refused(splits_main, c, env)


@pytest.mark.parametrize("c", WEIGHTS, ids=lambda c: c[0])
def test_weights_refused(c, env, refused, weights_root):
    refused(weights_main, c, env)


class _Payload:
    def __reduce__(self):
        return (os.system, ("touch /tmp/ttsf-bench-reliability-PWNED",))


def test_pickle_in_the_weights_folder_is_bad_not_ok(weights_root, capsys):
    """An unpinned entry (hopenet) replaced by a plain pickle: `verify` says BAD and exits 1."""
    (weights_root / "hopenet").mkdir()
    (weights_root / "hopenet" / "hopenet_robust_alpha1.pkl").write_bytes(pickle.dumps(_Payload()))
    assert weights_main(["verify", "hopenet_robust"]) == 1
    out = capsys.readouterr().out
    assert "hopenet_robust: BAD" in out and "is a plain Python pickle" in out
    assert not Path("/tmp/ttsf-bench-reliability-PWNED").exists()
    from ttsf.weights import locate
    from ttsf.weights.errors import MissingWeights

    with pytest.raises(MissingWeights, match="plain Python pickle"):
        locate("hopenet_robust")  # every load checks it too


def test_tampered_weights_with_restored_mtime_are_rehashed(weights_root):
    """Issue 18: overwrite 64 bytes, restore the mtime: the cached hash was trusted (FD 147.38 -> 136.27)."""
    from ttsf.hashing import sha256_file
    from ttsf.weights.entries import FileSpec
    from ttsf.weights.errors import CorruptWeights
    from ttsf.weights.verify import check_file, file_sha256

    path = weights_root / "model.pth"
    path.write_bytes(bytes(range(256)) * 64)
    good = sha256_file(path)
    spec = FileSpec("model.pth", sha256=good, size=path.stat().st_size)
    assert check_file(path, spec) == good  # hashed once, remembered in .verified.json
    st = path.stat()
    time.sleep(0.05)  # file timestamps tick at the kernel's coarse clock (a few ms): tamper on a later tick
    with open(path, "r+b") as handle:
        handle.seek(1024)
        handle.write(b"\xff" * 64)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # `touch -d`: same size, same mtime
    assert path.stat().st_mtime_ns == st.st_mtime_ns and path.stat().st_size == st.st_size
    assert file_sha256(path) == sha256_file(path) != good
    with pytest.raises(CorruptWeights, match="has sha256"):
        check_file(path, spec)


def test_run_file_hasher_rehashes_tampered_file(tmp_path):
    from eval.cache import FileHasher

    path = tmp_path / "x.bin"
    path.write_bytes(b"a" * 4096)
    hasher = FileHasher()
    first = hasher(path)
    st = path.stat()
    time.sleep(0.05)
    with open(path, "r+b") as handle:
        handle.write(b"b" * 64)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert hasher(path) != first
