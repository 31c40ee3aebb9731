#!/usr/bin/env bash
# Throughput of `qcs emulator` on loopback, measured with wrk (a second process on the same two
# cores): image details and the filtered image list, with the rate limit raised out of the way.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release -p qcs --bin qcs
work=$(mktemp -d)
trap 'kill "$emu" 2>/dev/null || true; rm -rf "$work"' EXIT
cat >"$work/scenario.toml" <<'TOML'
[rate-limit]
limit = 100000000
window_secs = 60

[[images]]
generate = { seed = 3, base = "debian", vulnerabilities = 40, packages = 120 }
upload_after_secs = 0
processing_secs = 0
TOML
port=18543
target/release/qcs emulator --listen "127.0.0.1:$port" --scenario "$work/scenario.toml" >"$work/out" 2>&1 &
emu=$!
for _ in $(seq 1 100); do grep -q "Ctrl-C" "$work/out" && break; sleep 0.1; done
base="http://127.0.0.1:$port"
token=$(curl -sf -X POST -d 'username=qcs-demo&password=qcs-demo&token=true' "$base/auth")
sha=$(curl -sf -H "Authorization: Bearer $token" "$base/csapi/v1.3/images?pageSize=1" | sed -E 's/.*"sha":"([0-9a-f]{64})".*/\1/')
echo "== load: $(uptime)"
echo "== GET /csapi/v1.3/images/{sha}"
wrk -t2 -c32 -d10s -H "Authorization: Bearer $token" "$base/csapi/v1.3/images/$sha"
echo "== GET /csapi/v1.3/images?filter=sha:... and lastScanned:[now-600s ... now]"
wrk -t2 -c32 -d10s -H "Authorization: Bearer $token" \
  "$base/csapi/v1.3/images?filter=sha%3A$sha+and+lastScanned%3A+%5Bnow-600s+...+now%5D"
