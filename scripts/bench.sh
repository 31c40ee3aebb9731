#!/usr/bin/env bash
# Whole-process benchmark of `qcs evaluate` on a generated 20,000-vulnerability, 3,000-package
# report with every condition configured; then the in-process criterion benchmark.
# Results go in BENCHMARKS.md by hand, with the machine's load noted.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }

cargo build --release -p qcs --bin qcs --example gen_report
out=target/bench
mkdir -p "$out"
target/release/examples/gen_report 20000 3000 1 debian >"$out/report-20k.json"
ls -l "$out/report-20k.json"

# Every condition configured (the same policy as crates/qcs/benches/evaluate.rs).
policy=(--fail-severity '5=0,4=10,3=100,2=1000,1=5000'
  --fail-qids '376209,100000-199999,6000000-6099999'
  --fail-cves 'CVE-2021-44228,CVE-2022-22965,CVE-2023-4863,CVE-2024-3094'
  --fail-software 'openssl=1\.1\..*' --fail-software '.*:log4j-core<2.17.1'
  --fail-software 'lib.*>=1.0' --fail-software 'python3\..*'
  --fail-cvss max:9.0 --potential
  --exclude-qids '6000123,370000-370100' --exclude-cves CVE-2023-1234)
qcs=(target/release/qcs evaluate -q --report "$out/report-20k.json" "${policy[@]}" --output-dir "$out/reports")
q() { printf '%q ' "$@"; }

echo "== load: $(uptime)"
hyperfine --warmup 3 --runs 20 -i \
  -n 'evaluate, summary.json' "$(q "${qcs[@]}") --format json" \
  -n 'evaluate, table only' "$(q "${qcs[@]}") --format table=/dev/null"
for f in json table=/dev/null; do
  /usr/bin/time -f "peak RSS with --format $f: %M KB, %e s" "${qcs[@]}" --format "$f" || true
done

cargo bench -p qcs --bench evaluate
