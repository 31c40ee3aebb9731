#!/usr/bin/env bash
# Runs the Jenkins shared library's tests with Debian's groovy, each step against a stub pipeline
# context (harness/, stubs/): QcsScanTest.groovy (the qcsScan step) and GetImageVulnsTest.groovy
# (getImageVulnsFromQualys, the drop-in for the plugin's step). Prints every test's line, then one
# closing line "N passed, M failed" over both; exits non-zero when any test fails or a file does
# not run to its end. With QCS_COMMANDS_OUT set, that file gets the command lines of both.
# Needs groovy (scripts/setup/60-groovy.sh) and bash.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if ! command -v groovy >/dev/null 2>&1; then
  echo "groovy is missing: run scripts/setup/60-groovy.sh (apt-get install groovy)" >&2
  exit 2
fi
# Groovy 2.4 on a recent JVM warns about illegal reflective access; the warnings are noise here.
export JAVA_OPTS="${JAVA_OPTS:-} --add-opens=java.base/java.lang=ALL-UNNAMED"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
commands_out="${QCS_COMMANDS_OUT:-}"
passed=0 failed=0 status=0
: > "$work/all.commands"
run_one() { # <test file> <argument>
  local name="$1" out="$work/$1.out" closing
  local code=0
  QCS_COMMANDS_OUT="${commands_out:+$work/$name.commands}" \
    groovy -cp "$here/stubs:$here/harness" "$here/$name" "$2" > "$out" 2>&1 || code=$?
  cat "$out"
  closing="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1 || true)"
  if [ -z "$closing" ]; then
    echo "$name did not run to its end (exit code $code)" >&2
    status=1
    return
  fi
  passed=$((passed + ${closing%% passed*}))
  failed=$((failed + $(echo "$closing" | sed -E 's/.*, ([0-9]+) failed$/\1/')))
  [ "$code" -eq 0 ] || status=1
  if [ -n "$commands_out" ] && [ -f "$work/$name.commands" ]; then
    cat "$work/$name.commands" >> "$work/all.commands"
  fi
}
run_one QcsScanTest.groovy "$here/../vars/qcsScan.groovy"
run_one GetImageVulnsTest.groovy "$here/../vars"
if [ -n "$commands_out" ]; then
  cp "$work/all.commands" "$commands_out"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] || status=1
exit "$status"
