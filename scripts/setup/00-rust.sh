#!/usr/bin/env bash
# The Rust toolchain's formatter and linter (rustup components; present on most machines).
# Idempotent; checks that both run.
set -euo pipefail
SETUP_NAME=00-rust
# shellcheck source=scripts/setup/common.bash
. "$(dirname "$0")/common.bash"

if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
  rustup component add rustfmt clippy
fi
must_run rustfmt cargo fmt --version
must_run clippy cargo clippy --version
