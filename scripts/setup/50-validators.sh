#!/usr/bin/env bash
# The official report validators for qcs-report's schema tests (crates/qcs/tests/reports.rs):
# xmllint (libxml2-utils) for JUnit against the Jenkins XSD; check-jsonschema, pinned, in a venv
# at /opt/qcs-validators/venv for SARIF 2.1.0 and the GitLab container-scanning schema; and the
# SARIF Multitool, pinned, under /opt/qcs-validators/sarif for GitHub's ingestion rules
# (see ../shared/schemas/README.md). Idempotent: installs only what is missing, then checks that
# each validator runs. Run as root.
set -euo pipefail
SETUP_NAME=50-validators
# shellcheck source=scripts/setup/common.bash
. "$(dirname "$0")/common.bash"

PREFIX=/opt/qcs-validators
VENV="$PREFIX/venv"
SARIF="$PREFIX/sarif"
CHECK_JSONSCHEMA=0.39.0
MULTITOOL=5.7.0

need=()
command -v xmllint >/dev/null 2>&1 || need+=(libxml2-utils)
command -v python3 >/dev/null 2>&1 || need+=(python3 python3-venv)
command -v npm >/dev/null 2>&1 || need+=(npm)
apt_install "${need[@]}"

# The installed version, read from the package metadata (running the tool takes seconds).
if [ ! -x "$VENV/bin/check-jsonschema" ] ||
  ! compgen -G "$VENV/lib/python3*/site-packages/check_jsonschema-$CHECK_JSONSCHEMA.dist-info" >/dev/null; then
  echo "50-validators: installing check-jsonschema $CHECK_JSONSCHEMA in $VENV"
  mkdir -p "$PREFIX"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "check-jsonschema==$CHECK_JSONSCHEMA" 'jsonschema[format-nongpl]'
fi

tool="$SARIF/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"
if [ ! -x "$tool" ] || ! grep -q "\"version\": \"$MULTITOOL\"" \
  "$SARIF/node_modules/@microsoft/sarif-multitool/package.json" 2>/dev/null; then
  echo "50-validators: installing @microsoft/sarif-multitool $MULTITOOL under $SARIF"
  mkdir -p "$SARIF"
  npm install --silent --no-audit --no-fund --prefix "$SARIF" "@microsoft/sarif-multitool@$MULTITOOL"
fi

must_run xmllint xmllint --version
must_run check-jsonschema "$VENV/bin/check-jsonschema" --version
must_run "the SARIF Multitool" "$tool" --version
