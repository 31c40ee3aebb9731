#!/usr/bin/env bash
# Whole-process benchmark of `qcs evaluate` on generated reports of 1,000, 20,000 and 100,000
# vulnerabilities (150, 3,000 and 15,000 packages) with every condition configured: time with
# hyperfine (`--format json`, and the table only), peak RSS with /usr/bin/time, the size of
# summary.json; then the in-process criterion benchmark at the same sizes.
# Results go in BENCHMARKS.md by hand, with the machine's load noted (printed before each size).
#
#   scripts/bench.sh                 # everything
#   scripts/bench.sh --no-criterion  # the whole process only
#   SIZES="20000:3000" scripts/bench.sh --no-criterion
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
criterion=1
[ "${1:-}" = "--no-criterion" ] && criterion=0

cargo build --release -p qcs --bin qcs --example gen_report
out=target/bench
mkdir -p "$out"

# Every condition configured (the same policy as crates/qcs/benches/evaluate.rs).
policy=(--fail-severity '5=0,4=10,3=100,2=1000,1=5000'
  --fail-qids '376209,100000-199999,6000000-6099999'
  --fail-cves 'CVE-2021-44228,CVE-2022-22965,CVE-2023-4863,CVE-2024-3094'
  --fail-software 'openssl=1\.1\..*' --fail-software '.*:log4j-core<2.17.1'
  --fail-software 'lib.*>=1.0' --fail-software 'python3\..*'
  --fail-cvss max:9.0 --potential
  --exclude-qids '6000123,370000-370100' --exclude-cves CVE-2023-1234)
q() { printf '%q ' "$@"; }

for size in ${SIZES:-1000:150 20000:3000 100000:15000}; do
  vulns=${size%%:*}
  packages=${size##*:}
  report="$out/report-$vulns.json"
  [ -s "$report" ] || target/release/examples/gen_report "$vulns" "$packages" 1 debian >"$report"
  qcs=(target/release/qcs evaluate -q --report "$report" "${policy[@]}" --output-dir "$out/reports-$vulns")
  runs=20
  [ "$vulns" -ge 100000 ] && runs=10
  echo "== $vulns vulnerabilities, $packages packages: $(wc -c <"$report") bytes"
  echo "== load: $(uptime)"
  hyperfine -N --warmup 3 --runs "$runs" -i \
    -n "evaluate $vulns, summary.json" "$(q "${qcs[@]}") --format json" \
    -n "evaluate $vulns, table only" "$(q "${qcs[@]}") --format table=/dev/null"
  # the table last but one: each run clears the earlier one's outputs, and summary.json is kept
  for f in table=/dev/null json; do
    /usr/bin/time -f "peak RSS with --format $f: %M KB, %e s" "${qcs[@]}" --format "$f" || true
  done
  echo "summary.json: $(wc -c <"$out/reports-$vulns/summary.json") bytes"
done

if [ "$criterion" = 1 ]; then
  cargo bench -p qcs --bench evaluate
fi
