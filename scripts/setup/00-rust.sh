#!/usr/bin/env bash
# The Rust toolchain's formatter and linter (rustup components; present on most machines).
set -euo pipefail
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
  rustup component add rustfmt clippy
fi
