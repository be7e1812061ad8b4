#!/usr/bin/env bash
# The browser the report tests open report.html and summary.html in (test/browser/): Debian's
# `chromium` package, driven by playwright-core (which downloads no browser of its own). Does
# nothing where it is already installed (under a second). Where it is missing and we are root on
# Debian/Ubuntu, installs it with apt (about a minute on a fresh machine). Anywhere else it says
# what to do and exits 3; the browser suite then fails with the same advice (it never skips).
# Grading does not need it: scripts/setup.sh does not call this; `npm run test:browser` does.
set -euo pipefail

BIN=${LABGRADE_CHROMIUM:-/usr/bin/chromium}
say() { printf 'provision-chromium: %s\n' "$*" >&2; }

if [ -x "$BIN" ]; then
  say "chromium present: $BIN"
  exit 0
fi
if [ -n "${LABGRADE_CHROMIUM:-}" ]; then
  say "LABGRADE_CHROMIUM=$BIN is not an executable file: point it at a Chromium binary or unset it to use Debian's /usr/bin/chromium."
  exit 3
fi
if ! command -v apt-get >/dev/null 2>&1; then
  say "no $BIN and no apt-get: install Chromium for this OS and set LABGRADE_CHROMIUM=/path/to/chromium, then run this again."
  exit 3
fi
if [ "$(id -u)" -ne 0 ]; then
  say "no $BIN and we are not root: run 'sudo apt-get install -y chromium' (or this script as root), then run the tests again."
  exit 3
fi

# Another apt/dpkg run (unattended upgrades, a parallel job) may hold the lock: wait for it.
say "installing Debian's chromium with apt (about a minute)…"
export DEBIAN_FRONTEND=noninteractive
apt_get() { apt-get -o DPkg::Lock::Timeout=300 -q "$@"; }
apt_get update >/dev/null
# DejaVu has the ✓ ✗ marks the reports use; chromium alone may come with no font that does.
apt_get install -y --no-install-recommends chromium fonts-dejavu-core >/dev/null
if [ ! -x "$BIN" ]; then
  say "apt-get installed chromium but $BIN is still missing: check 'dpkg -L chromium'."
  exit 3
fi
say "installed: $("$BIN" --version 2>/dev/null || echo "$BIN")"
