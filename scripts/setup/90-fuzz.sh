#!/usr/bin/env bash
# The fuzz smoke run of scripts/test.sh (scripts/fuzz.sh --smoke): the nightly Rust toolchain
# (cargo-fuzz builds with sanitizers) and cargo-fuzz from crates.io, pinned. Idempotent:
# installs only what is missing, then checks that `cargo +nightly fuzz` runs.
set -euo pipefail
SETUP_NAME=90-fuzz
# shellcheck source=scripts/setup/common.bash
. "$(dirname "$0")/common.bash"

CARGO_FUZZ=0.13.2

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "90-fuzz: installing the nightly toolchain"
  rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version 2>/dev/null | grep -q " $CARGO_FUZZ"; then
  echo "90-fuzz: installing cargo-fuzz $CARGO_FUZZ"
  cargo install --locked --quiet cargo-fuzz --version "$CARGO_FUZZ"
fi
must_run "the nightly toolchain" rustup run nightly rustc --version
must_run cargo-fuzz cargo +nightly fuzz --version
