#!/usr/bin/env bash
# End-to-end tests drive Debian's chromium with Playwright; they never download a browser.
set -euo pipefail
CHROMIUM="${PARTNERHUB_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "Installing Debian's chromium for the end-to-end tests..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if [ ! -x "$CHROMIUM" ]; then
    echo "ERROR: Chromium is missing at $CHROMIUM and the end-to-end tests need it." >&2
    echo "Install it with: sudo apt-get install -y chromium   (Debian/Ubuntu)," >&2
    echo "or set PARTNERHUB_CHROMIUM to a Chromium/Chrome binary." >&2
    exit 1
fi
