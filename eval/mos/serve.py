"""``python -m eval.mos serve DIR``: the study's static site on 127.0.0.1, storing submitted answers.

GET serves ``DIR/site`` (read-only, no directory listing outside it). ``POST /submit`` takes one
answer file (at most 1 MB), checks it against ``DIR/key.json`` (study, rater, signature) and
writes ``DIR/answers/<rater>.json`` atomically (temporary file + rename). A second, different
file for the same rater is refused (409) so a reload cannot overwrite finished answers.
"""

from __future__ import annotations

import functools
import json
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ttsf.atomic import atomic_write_bytes

MAX_BODY = 1 << 20


def store_answer(study: Path, key: dict, body: bytes) -> tuple[int, str]:
    """Validate one submitted answer file and store it; returns ``(http status, message)``."""
    from eval.mos.answers import FORMAT, sign

    try:
        doc = json.loads(body.decode("utf-8"))
        payload, sig = doc["payload"], doc["signature"]["value"]
        rater = payload["rater"]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
        return 400, "not an answer file"
    if payload.get("format") != FORMAT or payload.get("study") != key["study_id"]:
        return 400, "answers to another study"
    if rater not in key["raters"]:
        return 400, "unknown rater"
    if sig != sign(payload, key["raters"][rater]["token"]):
        return 400, "signature does not match"
    folder = study / "answers"
    folder.mkdir(exist_ok=True)
    dst = folder / f"{rater}.json"
    if dst.exists():
        return (200, "already stored") if dst.read_bytes() == body else (409, "answers for this rater already stored")
    atomic_write_bytes(dst, body, fsync=True)
    return 200, "stored"


class Handler(SimpleHTTPRequestHandler):
    study: Path
    key: dict

    def list_directory(self, path):  # no folder listings
        self.send_error(HTTPStatus.NOT_FOUND)
        return None

    def do_POST(self):
        if self.path.split("?")[0].rstrip("/").split("/")[-1] != "submit":
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length <= 0 or length > MAX_BODY:
            self.send_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE if length > MAX_BODY else HTTPStatus.BAD_REQUEST)
            return
        status, message = store_answer(self.study, self.key, self.rfile.read(length))
        data = json.dumps({"status": message}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def make_server(study: Path, port: int = 8000) -> ThreadingHTTPServer:
    from eval.mos.keyfile import load_key

    study = Path(study)
    key = load_key(study / "key.json")
    if not (study / "site").is_dir():
        raise FileNotFoundError(f"{study}/site: no such folder (build the study with `eval.mos packets`)")
    handler = type("StudyHandler", (Handler,), {"study": study, "key": key})
    return ThreadingHTTPServer(("127.0.0.1", port), functools.partial(handler, directory=str(study / "site")))


def serve(study: Path, port: int = 8000) -> None:
    server = make_server(study, port)
    host, real_port = server.server_address[:2]
    print(f"serving {study}/site on http://{host}:{real_port}/ (answers to {study}/answers/); Ctrl-C stops")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
