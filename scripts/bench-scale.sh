#!/usr/bin/env bash
# Scale of `qcs scan` (product.md §8): N images (default 500) in one scan against `qcs emulator`
# with its Docker Engine API stand-in and simulated CI/CD sensor, the API's real rate limit
# (5,000 calls per 60 s on /csapi/v1.3/images/**). Reports the wall time, the peak RSS, the API
# calls and 429s the emulator logged, and how long after the last result became available
# (its upload time + the platform's processing delay) the scan finished.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-500}
scan_delay=5
processing=10
cargo build --release -p qcs --bin qcs
work=$(mktemp -d)
trap 'kill "$emu" 2>/dev/null || true; rm -rf "$work"' EXIT
{
  printf '[sensor]\nscan_delay_secs = %s\nprocessing_delay_secs = %s\n\n[docker]\nsensor = "running"\n' \
    "$scan_delay" "$processing"
  for i in $(seq 1 "$n"); do
    printf '[[docker.images]]\ntags = ["scale/img-%s:1"]\nreport = { seed = %s, vulnerabilities = 30, packages = 60 }\n' "$i" "$i"
  done
} >"$work/scenario.toml"
port=18544
target/release/qcs emulator --listen "127.0.0.1:$port" --scenario "$work/scenario.toml" \
  --docker-socket "$work/docker.sock" >"$work/emulator.out" 2>&1 &
emu=$!
for _ in $(seq 1 100); do grep -q "Ctrl-C" "$work/emulator.out" && break; sleep 0.1; done
images=$(seq -s, -f 'scale/img-%g:1' 1 "$n")
echo "== load: $(uptime)"
start=$(date +%s.%N)
set +e
QUALYS_USERNAME=qcs-demo QUALYS_PASSWORD=qcs-demo /usr/bin/time -f "peak RSS %M KB, %e s" \
  target/release/qcs scan -q --gateway-url "http://127.0.0.1:$port" \
  --engine "unix://$work/docker.sock" --images "$images" --output-dir "$work/reports" \
  --format json 2>"$work/scan.err"
rc=$?
set -e
end=$(date +%s.%N)
tail -n 3 "$work/scan.err"
token=$(curl -sf -X POST -d 'username=qcs-demo&password=qcs-demo&token=true' "http://127.0.0.1:$port/auth")
curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$port/_emulator/requests" >"$work/requests.json"
python3 - "$work/reports/summary.json" "$work/requests.json" "$start" "$end" "$processing" "$rc" <<'PY'
import json, sys, datetime
summary, requests, start, end, processing, rc = sys.argv[1:]
s = json.load(open(summary))
r = json.load(open(requests))
def ts(x):
    return datetime.datetime.fromisoformat(x.replace("Z", "+00:00")).timestamp()
scanned = [ts(i["scanned_at"]) for i in s["images"] if i.get("scanned_at")]
last_ready = max(scanned) + float(processing)
outcomes = {}
for i in s["images"]:
    outcomes[i["outcome"]] = outcomes.get(i["outcome"], 0) + 1
api = {k: v for k, v in r["counts"].items() if k.startswith("images")}
limited = sum(1 for e in r["entries"] if e["status"] == 429)
print(f"exit {rc}; images {len(s['images'])} {outcomes}")
print(f"wall {float(end) - float(start):.2f} s; finished {float(end) - last_ready:.2f} s after the last result was available")
print(f"API calls {api} ({sum(api.values()) / len(s['images']):.2f} per image); HTTP 429: {limited}")
details = sorted(e["at_ms"] / 1000 for e in r["entries"] if e["endpoint"] == "images/{id}")
uploads = sorted(scanned)
if details:
    print(f"uploads from {uploads[0] - last_ready:+.1f} s to {uploads[-1] - last_ready:+.1f} s; details calls from "
          f"{details[0] - last_ready:+.1f} s to {details[-1] - last_ready:+.1f} s (relative to the last result)")
PY
