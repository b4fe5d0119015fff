#!/usr/bin/env bash
# The browser tests drive Debian's Chromium through playwright-core (no browser download from the
# internet). Installs it from Debian's packages when it is missing; CHROMIUM_PATH names another binary.
set -euo pipefail
browser="${CHROMIUM_PATH:-}"
if [ -n "$browser" ] && [ -x "$browser" ]; then exit 0; fi
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != "0" ]; then
  echo "The browser tests need Chromium: run 'sudo apt-get install chromium' (Debian/Ubuntu), or set CHROMIUM_PATH." >&2
  exit 1
fi
echo "installing Debian's chromium for the browser tests"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
chromium --version 2>/dev/null || true
