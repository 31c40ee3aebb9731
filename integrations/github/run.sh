#!/usr/bin/env bash
# The scan step of the qcs GitHub Action (action.yml here and at the repository root): builds the
# `qcs scan` command line from the action's inputs (INPUT_* environment variables), runs it with
# the Qualys and proxy credentials in the environment (never on the command line), writes the
# step outputs (outcome, exit-code, summary-path, sarif-path, report-dir) to $GITHUB_OUTPUT,
# appends summary.md to $GITHUB_STEP_SUMMARY, and exits with qcs's exit code (0 passed, 1 policy
# violated, 2-5 tool errors; 0 with report-only except for 2).
#
# INPUT_ARGS holds one argument a line (`--flag=value`, or the flag and its value on two
# lines): no word splitting, so an argument may hold spaces. Blanks around a line, a Windows CR
# and empty lines are dropped.
set -euo pipefail

qcs="${QCS_BIN:-qcs}"
[ -n "$qcs" ] || qcs=qcs
out_dir="${INPUT_OUTPUT_DIR:-qcs-reports}"

is_true() {
  case "${1:-}" in
    true | True | TRUE | yes | 1) return 0 ;;
    *) return 1 ;;
  esac
}

# Secrets: from the inputs into the variables qcs reads; inputs left empty keep what the workflow
# already set in the environment.
export_secret() { # NAME VALUE
  if [ -n "$2" ]; then
    # Mask a value that did not come from the secrets context, so it never shows in the log.
    echo "::add-mask::$2"
    export "$1=$2"
  fi
}
export_secret QUALYS_USERNAME "${INPUT_USERNAME:-}"
export_secret QUALYS_PASSWORD "${INPUT_PASSWORD:-}"
export_secret QUALYS_CLIENT_ID "${INPUT_CLIENT_ID:-}"
export_secret QUALYS_CLIENT_SECRET "${INPUT_CLIENT_SECRET:-}"
export_secret QCS_PROXY_USERNAME "${INPUT_PROXY_USERNAME:-}"
export_secret QCS_PROXY_PASSWORD "${INPUT_PROXY_PASSWORD:-}"
# The proxy for qcs alone (this process and its child), as qcs reads it from the environment.
if [ -n "${INPUT_PROXY:-}" ]; then export HTTPS_PROXY="$INPUT_PROXY"; fi
if [ -n "${INPUT_NO_PROXY:-}" ]; then export NO_PROXY="$INPUT_NO_PROXY"; fi

args=(scan)
opt() { # FLAG VALUE: the flag only when the value is set
  if [ -n "$2" ]; then args+=("$1" "$2"); fi
}
opt --config "${INPUT_CONFIG:-}"
opt --platform "${INPUT_PLATFORM:-}"
opt --api-url "${INPUT_API_URL:-}"
opt --gateway-url "${INPUT_GATEWAY_URL:-}"
opt --auth "${INPUT_AUTH:-}"
opt --ca-bundle "${INPUT_CA_BUNDLE:-}"
opt --engine "${INPUT_ENGINE:-}"
opt --policy "${INPUT_POLICY:-}"
opt --criteria-json "${INPUT_CRITERIA_JSON:-}"
opt --timeout "${INPUT_TIMEOUT:-}"
opt --interval "${INPUT_INTERVAL:-}"
opt --dockerfile "${INPUT_DOCKERFILE:-}"
if is_true "${INPUT_SKIP_SENSOR_CHECK:-}"; then args+=(--skip-sensor-check); fi
args+=(--output-dir "$out_dir")

# Formats: comma, space or newline separated. json (outcome), markdown (step summary) and sarif
# (upload) are added when the action needs them.
read -r -a formats <<<"$(printf '%s' "${INPUT_FORMATS:-json}" | tr ',\n' '  ')"
has_format() {
  local f
  for f in "${formats[@]}"; do
    [ "${f%%=*}" = "$1" ] && return 0
  done
  return 1
}
has_format json || formats+=(json)
if is_true "${INPUT_STEP_SUMMARY:-true}" && ! has_format markdown; then formats+=(markdown); fi
if is_true "${INPUT_SARIF_UPLOAD:-false}" && ! has_format sarif; then formats+=(sarif); fi
# Where a format's file ends up: FORMAT=PATH, else its name in the output directory.
path_of() { # FORMAT DEFAULT-FILE
  local f
  for f in "${formats[@]}"; do
    if [ "$f" = "$1" ]; then printf '%s/%s' "$out_dir" "$2"; return; fi
    if [ "${f%%=*}" = "$1" ]; then printf '%s' "${f#*=}"; return; fi
  done
}
for f in "${formats[@]}"; do args+=(--format "$f"); done

if is_true "${INPUT_REPORT_ONLY:-false}"; then args+=(--report-only); fi
# One argument a line, each kept whole (a read loop: bash 3.2 of macOS runners has no mapfile).
while IFS= read -r line; do
  line="${line%$'\r'}"
  line="${line#"${line%%[![:space:]]*}"}"
  line="${line%"${line##*[![:space:]]}"}"
  if [ -n "$line" ]; then args+=("$line"); fi
done <<<"${INPUT_ARGS:-}"
# Images last; none given: qcs reads IMAGE_ID.
read -r -a images <<<"$(printf '%s' "${INPUT_IMAGES:-}" | tr ',\n' '  ')"
if [ "${#images[@]}" -gt 0 ]; then args+=("${images[@]}"); fi

# The command line, each argument quoted as the shell would need it.
printf 'qcs'
printf ' %q' "${args[@]}"
printf '\n'
code=0
"$qcs" "${args[@]}" || code=$?

summary_json="$(path_of json summary.json)"
summary_md="$(path_of markdown summary.md)"
sarif="$(path_of sarif results.sarif)"

# The outcome: from summary.json when there is one (it holds the verdict even with
# --report-only), else from the exit code.
outcome=""
if [ -f "$summary_json" ]; then
  outcome="$(grep -o '"outcome"[[:space:]]*:[[:space:]]*"[a-z_]*"' "$summary_json" | head -n 1 |
    sed 's/.*"\([a-z_]*\)"$/\1/' || true)"
fi
if [ -z "$outcome" ]; then
  case "$code" in
    0) outcome=passed ;;
    1) outcome=failed ;;
    *) outcome=error ;;
  esac
fi

case "$code" in
  0) reason="" ;;
  1) reason="policy violated" ;;
  2) reason="usage or configuration error" ;;
  3) reason="container engine or sensor error" ;;
  4) reason="Qualys API error" ;;
  5) reason="no complete scan result (timed out waiting for the scan)" ;;
  *) reason="qcs did not run to the end (is it installed?)" ;;
esac

if [ -n "${GITHUB_OUTPUT:-}" ]; then
  {
    echo "outcome=$outcome"
    echo "exit-code=$code"
    echo "report-dir=$out_dir"
    if [ -f "$summary_md" ]; then echo "summary-path=$summary_md"; else echo "summary-path="; fi
    if [ -n "$sarif" ] && [ -f "$sarif" ]; then echo "sarif-path=$sarif"; else echo "sarif-path="; fi
  } >>"$GITHUB_OUTPUT"
fi

if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && is_true "${INPUT_STEP_SUMMARY:-true}"; then
  if [ -f "$summary_md" ]; then
    cat "$summary_md" >>"$GITHUB_STEP_SUMMARY"
  else
    printf '### qcs\n\nNo summary: qcs ended with exit code %s (%s).\n' "$code" "$reason" >>"$GITHUB_STEP_SUMMARY"
  fi
fi

if [ "$code" -ne 0 ]; then
  echo "::error title=qcs::${reason} (exit code ${code}); reports in ${out_dir}/"
fi
exit "$code"
