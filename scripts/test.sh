#!/usr/bin/env bash
# Runs every test of qcs on a fresh machine: installs what is missing (each scripts/setup/*.sh,
# idempotent, as root), then checks formatting and lints, builds the release archive, then runs
# the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

for setup in scripts/setup/*.sh; do
  [ -e "$setup" ] || continue
  echo "==> $setup"
  bash "$setup"
done

echo "==> scripts/gen-containerd-api.sh --check"
scripts/gen-containerd-api.sh --check
echo "==> cargo fmt --check"
cargo fmt --all --check
echo "==> cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
# The release archive as the release workflow builds it (static musl binary, SHA256SUMS); the
# GitHub Action's installer is tested against it (crates/qcs/tests/integrations.rs).
echo "==> scripts/release.sh --out target/dist"
scripts/release.sh --out target/dist
export QCS_DIST="$PWD/target/dist"
echo "==> cargo test"
cargo test --workspace --locked --no-fail-fast
# Every fuzz target over its committed seeds, which keep the inputs of past findings (the long
# runs are recorded in BENCHMARKS.md, not run here).
echo "==> scripts/fuzz.sh --smoke"
scripts/fuzz.sh --smoke
