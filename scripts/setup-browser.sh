#!/usr/bin/env bash
# Debian's Chromium for the web console's browser test (Playwright drives it; no browser
# download at run time). Installed with apt when missing and we are root; otherwise the
# browser test is skipped locally (and fails under CI, which must have it). A CJK font
# (WenQuanYi Zen Hei) so the test's screenshots (var/console-screenshots/) show Chinese.
set -euo pipefail
PACKAGES=(chromium fonts-wqy-zenhei)
if command -v chromium >/dev/null 2>&1 && fc-list :lang=zh 2>/dev/null | grep -q .; then
    exit 0
fi
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "linli: installing Debian's chromium and a CJK font for the console browser test"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "${PACKAGES[@]}" >/dev/null 2>&1 || {
        apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "${PACKAGES[@]}" >/dev/null
    }
else
    echo "linli: chromium not found and not root: the console browser test will be skipped"
fi
