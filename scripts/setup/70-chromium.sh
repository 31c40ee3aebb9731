#!/usr/bin/env bash
# The HTML report's browser test (crates/qcs/tests/html.rs): Debian's chromium, driven by
# playwright-core from npm, pinned, under /opt/qcs-browser (never Playwright's own browser
# download: the machine reaches only the package registries). Idempotent: installs only what is
# missing, then checks that Chromium starts headless and playwright-core loads. Run as root.
set -euo pipefail
SETUP_NAME=70-chromium
# shellcheck source=scripts/setup/common.bash
. "$(dirname "$0")/common.bash"

PREFIX=/opt/qcs-browser
PLAYWRIGHT=1.64.1

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
apt_install "${need[@]}"

if ! grep -q "\"version\": \"$PLAYWRIGHT\"" \
  "$PREFIX/node_modules/playwright-core/package.json" 2>/dev/null; then
  echo "70-chromium: installing playwright-core $PLAYWRIGHT under $PREFIX"
  mkdir -p "$PREFIX"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --silent --no-audit --no-fund \
    --prefix "$PREFIX" "playwright-core@$PLAYWRIGHT"
fi

profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
must_run chromium chromium --headless --no-sandbox --disable-gpu --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --dump-dom 'data:text/html,<p>ok</p>'
must_run playwright-core node -e "require('$PREFIX/node_modules/playwright-core')"
