"""The rating page in a real headless Chromium (Debian's chromium + chromium-driver), as a simulated rater.

Rates every trial with keyboard and mouse, reloads in the middle (progress must survive),
finishes, downloads the answer file, and checks it equals what was entered, that its
signature verifies, that the hostile transcript shows as text, and that scoring accepts it.
A screenshot is written under the test's tmp dir and its path printed.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from eval.mos.answers import read_answers, sign
from eval.mos.packets import build_study
from eval.mos.score import score

from .fakerun import make_run

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
HOSTILE = '<script>alert(1)</script> "><img src=x onerror=alert(2)> {{x}} \U0001F600 \u202eRTL\u202c'

pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER),
                                reason="no Chromium: apt-get install chromium chromium-driver (scripts/setup.sh does)")


def _driver(profile: Path, downloads: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--autoplay-policy=no-user-gesture-required", "--mute-audio", f"--user-data-dir={profile}",
              "--window-size=1000,900"):
        opts.add_argument(a)
    opts.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                           "download.prompt_for_download": False})
    drv = webdriver.Chrome(service=Service(executable_path=DRIVER), options=opts)
    drv.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    return drv


def _log(request, text: str) -> None:
    """A line in the test log even when output is captured (pytest's terminal reporter)."""
    print(text)
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(text)


def _wait(fn, timeout=20.0, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("host", ["file", "serve"])
def test_a_rater_completes_the_study_in_chromium(tmp_path, host, request):
    """``file``: the site opened from a folder; ``serve``: from ``eval.mos serve`` (answers also POSTed)."""
    import threading

    from selenium.webdriver.common.by import By

    from eval.mos.serve import make_server

    t0 = time.time()
    run = make_run(tmp_path / "run", ["gt", "sadtalker-tts", "ttsf"], ["a/1", "a/2", "b/1", "b/2"],
                   seconds=0.6, texts={i: HOSTILE for i in ["a/1", "a/2", "b/1", "b/2"]})
    study = tmp_path / "study"
    build_study([run], ["sadtalker-tts", "ttsf"], study, clips=2, raters=2, seed=3, training=1)
    key = json.loads((study / "key.json").read_text())
    rater = "rater_01"
    page = study / "site" / key["raters"][rater]["page"]
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    drv = _driver(tmp_path / "profile", downloads)
    server = None
    url = page.as_uri()
    if host == "serve":
        server = make_server(study, 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/{page.name}"
    entered = []
    try:
        drv.get(url)
        drv.find_element(By.ID, "start").click()
        n = len(key["raters"][rater]["trials"])
        for i in range(n):
            _wait(lambda: drv.find_elements(By.ID, "video"), what="trial page")
            name = key["raters"][rater]["trials"][i]
            v = key["videos"][name]
            if v["kind"] == "trap":
                scores = [v["asked"]] * 3
            elif v["kind"] == "gold":
                scores = [1, 4, 4]
            else:
                scores = [1 + (i + k) % 5 for k in range(3)]
            # the transcript is shown as text, never as markup
            assert drv.find_element(By.ID, "transcript").text.startswith("Text: \u201c<script>alert(1)</script>")
            assert drv.find_elements(By.TAG_NAME, "img") == []
            nxt = drv.find_element(By.ID, "next")
            assert not nxt.is_enabled()
            if i == 0:  # keyboard; two answers and a finished video are not enough to go on
                body = drv.find_element(By.TAG_NAME, "body")
                body.send_keys(" ")
                body.send_keys(str(scores[0]))
                body.send_keys(str(scores[1]))
                _wait(lambda: drv.execute_script("return document.getElementById('video').ended"), what="video end")
                body.send_keys("\n")  # Enter must not advance yet
                assert not drv.find_element(By.ID, "next").is_enabled()
                assert drv.execute_script("return window.__mos.state().i") == 0
                body.send_keys(str(scores[2]))
            elif i % 2 == 0:  # keyboard
                body = drv.find_element(By.TAG_NAME, "body")
                body.send_keys(" ")
                for s in scores:
                    body.send_keys(str(s))
            else:  # mouse
                drv.find_element(By.ID, "play").click()
                for crit, s in zip(key["criteria"], scores):
                    drv.find_element(By.CSS_SELECTOR, f"#q-{crit} button[data-s='{s}']").click()
            if i:
                assert not drv.find_element(By.ID, "next").is_enabled()  # still playing: refuses to advance
            _wait(lambda: drv.find_element(By.ID, "next").is_enabled(), what="video played through")
            if i == 1:
                drv.save_screenshot(str(tmp_path / "mos_page.png"))
                _log(request, f"MOS rating page screenshot ({host}): {tmp_path / 'mos_page.png'}")
            drv.find_element(By.ID, "next").click()
            entered.append((name, scores))
            if i == n // 2:  # reload in the middle: progress must be kept
                drv.refresh()
                _wait(lambda: drv.find_elements(By.ID, "trial-title"), what="page after reload")
                state = drv.execute_script("return window.__mos.state()")
                assert state["i"] == i + 1 and len(state["answers"]) == i + 1
        _wait(lambda: drv.find_elements(By.ID, "download"), what="finish page")
        drv.find_element(By.ID, "download").click()
        path = downloads / f"answers_{rater}.json"
        _wait(lambda: path.exists() and path.stat().st_size > 0, what="downloaded answer file")
        if server is not None:
            stored = study / "answers" / f"{rater}.json"
            _wait(stored.exists, what="answers stored by the server")
            assert stored.read_bytes() == path.read_bytes()
            assert "saved on the study server" in drv.find_element(By.ID, "status").text
    finally:
        drv.quit()
        if server is not None:
            server.shutdown()
            server.server_close()
    doc = json.loads(path.read_text("utf-8"))
    got = [(t["video"], [t[c] for c in key["criteria"]]) for t in doc["payload"]["trials"]]
    assert got == entered
    assert all(t["ended"] and t["played_ms"] >= 0.9 * t["duration_ms"] > 0 for t in doc["payload"]["trials"])
    assert doc["signature"]["value"] == sign(doc["payload"], key["raters"][rater]["token"])
    rep = read_answers([path], key)
    assert rep.counts()["files_accepted"] == 1 and rep.counts()["rows_rejected"] == 0
    res = score(rep, key)
    assert res["mos"]["raters_answered"] == 1
    _log(request, f"MOS browser test ({host}): {time.time() - t0:.1f} s")
