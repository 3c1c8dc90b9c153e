#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment and install everything it needs,
# system packages included where the machine allows. Safe to run again: it only does
# what is missing.
set -euo pipefail
VENV="${1:-.venv}"
PYTHON="${PYTHON:-python3}"

# WordNet 3.0 files from Debian (offline alternative to nltk.download("wordnet")).
if [ ! -f /usr/share/wordnet/data.noun ] && command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
  if $SUDO true 2>/dev/null; then
    $SUDO apt-get update -qq >/dev/null || echo "setup: apt-get update failed; continuing" >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wordnet-base wordnet-sense-index >/dev/null \
      || echo "setup: could not install Debian WordNet packages; will try nltk.download" >&2
  fi
fi

# Headless Chromium and its driver for the review page's browser tests (they skip without).
if ! { command -v chromium >/dev/null && command -v chromedriver >/dev/null; } \
  && command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
  if $SUDO true 2>/dev/null; then
    $SUDO apt-get update -qq >/dev/null || echo "setup: apt-get update failed; continuing" >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null \
      || echo "setup: could not install chromium; the browser tests will skip" >&2
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".[test]"
# Copy WordNet into the venv's NLTK data folder (or download it where the internet allows).
"$VENV/bin/python" -m pipeline.normalize.wordnet_setup
touch "$VENV/.installed"
