#!/usr/bin/env bash
# Browser tests drive Debian's Chromium at /usr/bin/chromium. Install it when we can (root with
# apt-get); otherwise say exactly what is missing.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "installing Debian's chromium for the browser tests..."
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
  exit 0
fi
echo "error: the browser tests need Debian's chromium at /usr/bin/chromium: sudo apt-get install chromium" >&2
exit 1
