#!/usr/bin/env bash
# Prerequisites of the integrations' tests (crates/qcs/tests/integrations.rs): Debian's groovy,
# which runs the Jenkins shared library's step against a stub pipeline context
# (integrations/jenkins/test/run.sh), with default-jre-headless (Debian's groovy starts the JVM at
# /usr/lib/jvm/default-java, which only that package provides: a machine with another JDK has the
# groovy package but no groovy that runs), PyYAML for Debian's python3, which parses the GitHub
# Action and the GitLab template, and curl for the Action's install script. Idempotent: installs
# only what is missing, then checks that each tool runs. Run as root.
set -euo pipefail
SETUP_NAME=60-groovy
# shellcheck source=scripts/setup/common.bash
. "$(dirname "$0")/common.bash"

need=()
command -v groovy >/dev/null 2>&1 || need+=(groovy)
[ -x /usr/lib/jvm/default-java/bin/java ] || need+=(default-jre-headless)
# install.sh of the GitHub Action downloads with curl
command -v curl >/dev/null 2>&1 || need+=(curl)
if ! /usr/bin/python3 -c 'import yaml' >/dev/null 2>&1; then
  need+=(python3-yaml)
fi
apt_install "${need[@]}"

must_run groovy groovy --version
must_run curl curl --version
must_run "PyYAML (Debian's python3)" /usr/bin/python3 -c 'import yaml'
