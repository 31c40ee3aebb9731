#!/usr/bin/env bash
# Runs the Jenkins shared library's test (QcsScanTest.groovy) with Debian's groovy: the qcsScan
# step against a stub pipeline context. Needs groovy (scripts/setup/60-groovy.sh) and bash.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if ! command -v groovy >/dev/null 2>&1; then
  echo "groovy is missing: run scripts/setup/60-groovy.sh (apt-get install groovy)" >&2
  exit 2
fi
# Groovy 2.4 on a recent JVM warns about illegal reflective access; the warnings are noise here.
export JAVA_OPTS="${JAVA_OPTS:-} --add-opens=java.base/java.lang=ALL-UNNAMED"
exec groovy -cp "$here/stubs" "$here/QcsScanTest.groovy" "$here/../vars/qcsScan.groovy"
