#!/usr/bin/env bash
# Makes sure Debian's Chromium is at /usr/bin/chromium for the Playwright end-to-end tests.
# Installs it with apt if missing; never downloads browsers any other way (no `playwright install`).
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
  exit 0
fi

source "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh"
apt_prepare ensure-chromium "$CHROMIUM" chromium "install Chromium at $CHROMIUM yourself."
apt_install ensure-chromium chromium "the e2e tests need $CHROMIUM"

if [ ! -x "$CHROMIUM" ]; then
  echo "ensure-chromium: the chromium package installed, but $CHROMIUM is still missing." >&2
  exit 1
fi

echo "ensure-chromium: installed $("$CHROMIUM" --version 2>/dev/null || echo chromium)." >&2
