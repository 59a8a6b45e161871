#!/usr/bin/env bash
# One-time, idempotent set-up: system packages, a Python 3.11 virtual environment
# in .venv, and every Python dependency (pinned by requirements/constraints.txt).
# Re-running is a no-op once the marker for the current requirement files exists.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
VENV=${VENV:-.venv}
# chromium + chromium-driver: the MOS rating page is tested in headless Chromium (tests/eval/mos/test_browser.py)
SYSTEM_PKGS=(espeak-ng flite ffmpeg sox chromium chromium-driver)
SYSTEM_BINS=(espeak-ng flite ffmpeg sox chromium chromedriver)

log() { printf '[setup] %s\n' "$*" >&2; }

# --- system packages --------------------------------------------------------------
missing=()
for i in "${!SYSTEM_BINS[@]}"; do
  command -v "${SYSTEM_BINS[$i]}" >/dev/null 2>&1 || missing+=("${SYSTEM_PKGS[$i]}")
done
if ((${#missing[@]})); then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      log "missing system packages: ${missing[*]} (install them with apt-get as root, then re-run)"; exit 1
    fi
  fi
  log "installing system packages: ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Python -------------------------------------------------------------------------
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  log "$PYTHON not found: install Python 3.11 (Debian: apt-get install python3.11 python3.11-venv) or set PYTHON=..."
  exit 1
fi
stamp_src=$(cat pyproject.toml requirements/*.txt scripts/setup.sh | sha256sum | cut -c1-16)
marker="$VENV/.ttsf-setup-$stamp_src"
if [ -f "$marker" ]; then
  log "environment up to date ($VENV)"
  exit 0
fi
[ -x "$VENV/bin/python" ] || { log "creating $VENV with $PYTHON"; "$PYTHON" -m venv "$VENV"; }
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
start=$(date +%s)
log "installing Python dependencies (torch==2.14.1 is large: a few minutes)"
"${PIP[@]}" install 'setuptools<81' wheel
"${PIP[@]}" install -c requirements/constraints.txt -e '.[test]' -r requirements/extras.txt
# Packages whose declared dependencies are stale or clash: see requirements/nodeps.txt.
"${PIP[@]}" install -c requirements/constraints.txt --no-deps -r requirements/nodeps.txt
rm -f "$VENV"/.ttsf-setup-*
touch "$marker"
log "done in $(( $(date +%s) - start )) s; venv size $(du -sh "$VENV" | cut -f1)"
