#!/usr/bin/env bash
# A real HTTP proxy for qcs-qualys's proxy tests (crates/qcs-qualys/tests): tinyproxy, which the
# tests start themselves on 127.0.0.1 with an ephemeral port and a config in a temp dir, with and
# without BasicAuth. Idempotent: installs only what is missing, then checks that it runs. Run as
# root.
set -euo pipefail
SETUP_NAME=40-proxy
# shellcheck source=scripts/setup/common.bash
. "$(dirname "$0")/common.bash"

if ! command -v tinyproxy >/dev/null 2>&1; then
  apt_install tinyproxy
  # The package starts a system-wide instance on port 8888; the tests do not need it.
  if command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now tinyproxy >/dev/null 2>&1 || true
  fi
fi
must_run tinyproxy tinyproxy -v
