#!/usr/bin/env bash
# The HTML report's browser test (crates/qcs/tests/html.rs): Debian's chromium, driven by
# playwright-core from npm, pinned, under /opt/qcs-browser (never Playwright's own browser
# download: the machine reaches only the package registries). Idempotent: installs only what is
# missing. Run as root.
set -euo pipefail

PREFIX=/opt/qcs-browser
PLAYWRIGHT=1.64.1

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ "${#need[@]}" -gt 0 ]; then
  echo "70-chromium: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

if ! grep -q "\"version\": \"$PLAYWRIGHT\"" \
  "$PREFIX/node_modules/playwright-core/package.json" 2>/dev/null; then
  echo "70-chromium: installing playwright-core $PLAYWRIGHT under $PREFIX"
  mkdir -p "$PREFIX"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --silent --no-audit --no-fund \
    --prefix "$PREFIX" "playwright-core@$PLAYWRIGHT"
fi
exit 0
