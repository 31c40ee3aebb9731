#!/usr/bin/env bash
# Benchmark of `qcs report merge` on 1,000 single-image summaries (the worst case for file count:
# 1,000 matrix jobs of one image each), each with its raw report in images/<id>.json beside it:
# time with hyperfine, peak RSS with /usr/bin/time. Results go in BENCHMARKS.md by hand, with the
# machine's load noted.
#
#   scripts/bench-merge.sh [N]     (default 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }

cargo build --release -p qcs --bin qcs --example gen_report
out=target/bench-merge
rm -rf "$out" && mkdir -p "$out/runs"
for i in $(seq 1 "$n"); do
  run="$out/runs/$i"
  mkdir -p "$run/images"
  # 40 vulnerabilities and 120 packages per image, a different image (sha) per seed
  target/release/examples/gen_report 40 120 "$i" debian >"$run/report.json"
  target/release/qcs evaluate -q --report "$run/report.json" --fail-severity 5=0 \
    --output-dir "$run" --format json || [ $? -eq 1 ]
  id=$(sed -n 's/.*"image_id": *"\([0-9a-f]\{12\}\)".*/\1/p' "$run/summary.json" | head -1)
  mv "$run/report.json" "$run/images/$id.json"
done
du -sh "$out/runs"

merge=(target/release/qcs report merge -q --output-dir "$out/merged" --format json --format sarif --format html)
q() { printf '%q ' "$@"; }
echo "== load: $(uptime)"
hyperfine --warmup 1 --runs 10 -i \
  -n "merge $n summaries: json" "$(q "${merge[@]:0:6}") --format json $out/runs/*/summary.json" \
  -n "merge $n summaries: json, sarif, html" "$(q "${merge[@]}") $out/runs/*/summary.json"
/usr/bin/time -f "peak RSS, json: %M KB, %e s" "${merge[@]:0:6}" --format json "$out"/runs/*/summary.json || true
/usr/bin/time -f "peak RSS, json+sarif+html: %M KB, %e s" "${merge[@]}" "$out"/runs/*/summary.json || true
ls -l "$out/merged"
