#!/usr/bin/env bash
# Runs the fuzz targets in fuzz/ (cargo-fuzz, libFuzzer, the nightly toolchain), each for
# SECONDS, starting from the committed seeds in fuzz/corpus/<target>/; what libFuzzer finds on
# the way goes to fuzz/work/<target>/ (ignored), a crash to fuzz/artifacts/<target>/.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     default: 600 seconds, every target
#   scripts/fuzz.sh --smoke                    every target once over its committed seeds (which
#                                              include the inputs of past findings): what
#                                              scripts/test.sh runs, deterministic and quick
#
# It prints one line per target: executions, corpus size, and whether anything was found; the
# runs recorded in BENCHMARKS.md were made with it. Needs `cargo install cargo-fuzz` and
# `rustup toolchain install nightly`. docs/fuzzing.md explains the targets.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

smoke=no
if [ "${1:-}" = --smoke ]; then
  smoke=yes
  shift
fi
seconds="${1:-600}"
shift || true
case "$seconds" in
  '' | *[!0-9]*)
    echo "fuzz: SECONDS must be a whole number, got \`$seconds\`" >&2
    exit 2
    ;;
esac
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "fuzz: cargo-fuzz or the nightly toolchain is missing" >&2
  echo "hint: rustup toolchain install nightly && cargo install cargo-fuzz --locked" >&2
  exit 2
fi
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list --fuzz-dir .)
fi

# One build for every target (the --locked lock file is fuzz/Cargo.lock).
cargo +nightly fuzz build --fuzz-dir . 2>&1 | tail -n 3

status=0
if [ "$smoke" = yes ]; then
  for t in "${targets[@]}"; do
    if ! out=$(cargo +nightly fuzz run --fuzz-dir . "$t" "corpus/$t" -- -runs=0 2>&1); then
      printf '%s\n' "$out" | tail -n 40 >&2
      echo "fuzz: $t fails on a committed seed (above)" >&2
      status=1
    else
      echo "fuzz: $t: $(find "corpus/$t" -type f | wc -l) seeds, no finding"
    fi
  done
  exit "$status"
fi
for t in "${targets[@]}"; do
  mkdir -p "work/$t" "artifacts/$t"
  log="work/$t.log"
  started=$(date +%s)
  if cargo +nightly fuzz run --fuzz-dir . "$t" "work/$t" "corpus/$t" -- \
    -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 >"$log" 2>&1; then
    found=none
  else
    found="FOUND (see $log and fuzz/artifacts/$t)"
    status=1
  fi
  took=$(($(date +%s) - started))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  corpus=$(find "work/$t" -type f | wc -l)
  echo "fuzz: $t: ${took}s, ${execs:-?} executions, corpus $corpus, findings: $found"
done
exit "$status"
