"""Weights registry: pinned entries, locating and verifying, atomic resumable downloads.

Downloads are tested against a local HTTP server on 127.0.0.1 only.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import re
import threading
import zipfile

import pytest

from ttsf import weights
from ttsf.weights import fetch as dl
from ttsf.weights import store, verify
from ttsf.weights.entries import FileSpec, WeightsEntry
from ttsf.weights.errors import MissingWeights

CONTRACT_NAMES = {
    "pt_inception", "syncnet_v2", "sfd_face", "hopenet_robust", "arcface_buffalo_l", "arcface_antelopev2",
    "whisper_large_v3", "xvect_voxceleb", "hifigan_16k_user", "mobilenet_v2_offline", "whenet", "sface", "yunet",
    "resemblyzer", "whisper_base_ct2", "hifigan_ts_16k", "syncnet_offline",
}


@pytest.fixture
def root(tmp_path, monkeypatch):
    """An empty weights root; reference-package caches pointed into tmp too."""
    monkeypatch.setenv("TTSF_WEIGHTS", str(tmp_path / "weights"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("INSIGHTFACE_HOME", str(tmp_path / "insightface"))
    monkeypatch.setattr(verify, "_memory_cache", {})
    return tmp_path / "weights"


def test_entries_cover_the_contract_and_pin_valid_hashes():
    table = weights.entries()
    assert CONTRACT_NAMES <= set(table)
    assert len(table) == len(weights.ENTRIES)  # unique names
    for entry in table.values():
        for spec in entry.files:
            assert spec.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", spec.sha256), entry.name
        assert entry.backends and entry.licence and entry.source
    # published hashes: pytorch-fid's name carries the prefix; whisper's URL carries the hash
    inception = table["pt_inception"].file
    assert inception.sha256.startswith("6726825d") and "6726825d" in inception.filename
    large = table["whisper_large_v3"].file
    assert large.sha256 in large.urls[0]
    assert table["whisper_large_v3"].spec.sha256 == large.sha256  # the WeightsSpec view


@pytest.mark.parametrize("name", ["resemblyzer", "whenet", "sface", "yunet", "mobilenet_v2_offline", "hifigan_ts_16k"])
def test_packaged_weights_are_found_and_match_their_pinned_hash(root, name):
    path = weights.locate(name)
    assert path.is_file()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == weights.get_entry(name).file.sha256


def test_whisper_base_ct2_is_assembled_verified_and_cached(root, monkeypatch):
    path = weights.locate("whisper_base_ct2")
    assert path == root / "whisper-base-ct2" / "model.bin"
    assert path.stat().st_size == 145_217_607
    assert {p.name for p in path.parent.iterdir()} >= {"model.bin", "config.json", "tokenizer.json", "vocabulary.json"}
    # a second locate trusts the (size, mtime) cache instead of re-hashing 145 MB
    calls = []
    monkeypatch.setattr(verify, "_memory_cache", {})
    monkeypatch.setattr(verify, "sha256_file", lambda p: calls.append(p) or "x")
    assert weights.locate("whisper_base_ct2") == path
    assert calls == []


def test_missing_weights_message_is_actionable(root):
    with pytest.raises(MissingWeights) as info:
        weights.locate("whisper_large_v3")
    text = str(info.value)
    entry = weights.get_entry("whisper_large_v3")
    assert "large-v3.pt" in text and entry.file.sha256 in text and entry.file.urls[0] in text
    assert str(root / "whisper" / "large-v3.pt") in text
    assert "python -m eval.weights download whisper_large_v3" in text


def test_reference_package_location_is_honoured_and_hash_checked(root, tmp_path):
    hub = tmp_path / "torch" / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    fake = hub / "pt_inception-2015-12-05-6726825d.pth"
    fake.write_bytes(b"not the inception weights")
    assert weights.find("pt_inception") == fake
    with pytest.raises(weights.CorruptWeights, match="bytes, expected 95628359"):
        weights.locate("pt_inception")


def test_corrupt_file_is_rejected_and_the_cache_notices_edits(root, monkeypatch):
    folder = root / "whisper"
    folder.mkdir(parents=True)
    (folder / "tiny.pt").write_bytes(b"garbage")
    with pytest.raises(weights.CorruptWeights, match="sha256"):
        weights.locate("whisper_tiny")
    good = b"good weights"
    _patch_table(monkeypatch,
                 WeightsEntry("w", FileSpec("w.bin", hashlib.sha256(good).hexdigest()), ("x/y",), "l", "s"))
    root.mkdir(exist_ok=True)
    (root / "w.bin").write_bytes(good)
    assert weights.locate("w") == root / "w.bin"  # hashed once, cached by (size, mtime)
    (root / "w.bin").write_bytes(b"edited weights!")  # new size and mtime: the cache entry is stale
    with pytest.raises(weights.CorruptWeights):
        weights.locate("w")


# ----------------------------------------------------------------------------- downloads


class _Server:
    """Serves ``files`` (path -> bytes) with Range support; ``cut`` truncates the next reply."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.cut: dict[str, int] = {}
        self.ranges: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                data = server.files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                start = 0
                rng = self.headers.get("Range")
                server.ranges.append(rng or "")
                if rng:
                    start = int(re.match(r"bytes=(\d+)-", rng).group(1))
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                limit = server.cut.pop(self.path, None)
                self.wfile.write(body if limit is None else body[:limit])
                self.wfile.flush()
                if limit is not None:
                    self.close_connection = True

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    srv = _Server()
    yield srv
    srv.close()


def _spec(data: bytes, url: str, name: str = "w.bin", sha: str | None = "auto") -> FileSpec:
    return FileSpec(name, hashlib.sha256(data).hexdigest() if sha == "auto" else sha, (url,), size=len(data))


def test_download_is_verified_and_atomic(server, tmp_path):
    data = bytes(range(256)) * 4000
    server.files["/w.bin"] = data
    dest = tmp_path / "out" / "w.bin"
    assert dl.fetch_url(server.url + "/w.bin", dest, _spec(data, server.url + "/w.bin")) == dest
    assert dest.read_bytes() == data and not (tmp_path / "out" / "w.bin.part").exists()


def test_interrupted_download_resumes_with_a_range_request(server, tmp_path):
    data = hashlib.sha256(b"seed").digest() * 40000  # 1.28 MB
    server.files["/big.bin"] = data
    server.cut["/big.bin"] = 300_000  # the first reply stops after 300 kB
    dest = tmp_path / "big.bin"
    spec = _spec(data, server.url + "/big.bin", "big.bin")
    with pytest.raises(dl.DownloadError, match="rerun to resume"):
        dl.fetch_url(spec.urls[0], dest, spec)
    part = tmp_path / "big.bin.part"
    assert part.stat().st_size == 300_000 and not dest.exists()
    dl.fetch_url(spec.urls[0], dest, spec)
    assert server.ranges == ["", "bytes=300000-"]
    assert dest.read_bytes() == data and not part.exists()


def test_hash_mismatch_deletes_the_download(server, tmp_path):
    server.files["/w.bin"] = b"tampered content"
    dest = tmp_path / "w.bin"
    spec = _spec(b"the real content", server.url + "/w.bin")
    spec = FileSpec("w.bin", spec.sha256, spec.urls)
    with pytest.raises(weights.CorruptWeights, match="pinned"):
        dl.fetch_url(spec.urls[0], dest, spec)
    assert not dest.exists() and not (tmp_path / "w.bin.part").exists()


def _patch_table(monkeypatch, *entries: WeightsEntry):
    table = {e.name: e for e in entries}
    monkeypatch.setattr(store, "entries", lambda: table)


def test_download_by_name_and_archive_member(server, root, monkeypatch):
    onnx = b"onnx-bytes" * 1000
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("pack/det.onnx", b"detector")
        zf.writestr("pack/rec.onnx", onnx)
    server.files["/pack.zip"] = buf.getvalue()
    server.files["/plain.bin"] = b"plain weights"
    _patch_table(
        monkeypatch,
        WeightsEntry("packed", FileSpec("rec.onnx", hashlib.sha256(onnx).hexdigest()), ("x/y",), "l", "s",
                     subdir="pack", archive=FileSpec("pack.zip", None, (server.url + "/pack.zip",)),
                     archive_member="rec.onnx"),
        WeightsEntry("plain", _spec(b"plain weights", server.url + "/plain.bin", "plain.bin"), ("x/y",), "l", "s"),
    )
    assert weights.download("packed") == root / "pack" / "rec.onnx"
    assert (root / "pack" / "rec.onnx").read_bytes() == onnx
    assert weights.download("plain").read_bytes() == b"plain weights"
    assert weights.locate("plain") == root / "plain.bin"


def test_offline_download_says_where_to_put_the_file(root, monkeypatch):
    _patch_table(monkeypatch, WeightsEntry("far", FileSpec("far.bin", "0" * 64, ("http://127.0.0.1:9/far.bin",)),
                                           ("x/y",), "l", "source text"))
    with pytest.raises(MissingWeights) as info:
        weights.download("far", timeout=2)
    assert "download failed" in str(info.value) and str(root / "far.bin") in str(info.value)


def test_cli_list_where_and_verify(root, capsys):
    from eval.weights.__main__ import main

    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "resemblyzer" in out and "present" in out and "whisper_large_v3" in out and "missing" in out
    assert main(["where", "pt_inception"]) == 0
    assert "hub/checkpoints/pt_inception-2015-12-05-6726825d.pth" in capsys.readouterr().out
    assert main(["verify", "whenet", "pt_inception"]) == 0
    out = capsys.readouterr().out
    assert "whenet: ok (pinned) sha256 8f8bcf92" in out and "pt_inception: missing" in out
