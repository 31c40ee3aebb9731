#!/usr/bin/env bash
# A real HTTP proxy for qcs-qualys's proxy tests (crates/qcs-qualys/tests): tinyproxy, which the
# tests start themselves on 127.0.0.1 with an ephemeral port and a config in a temp dir, with and
# without BasicAuth. Idempotent: installs only what is missing. Run as root.
set -euo pipefail

if ! command -v tinyproxy >/dev/null 2>&1; then
  echo "40-proxy: installing tinyproxy"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends tinyproxy
  # The package starts a system-wide instance on port 8888; the tests do not need it.
  if command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now tinyproxy >/dev/null 2>&1 || true
  fi
fi
exit 0
