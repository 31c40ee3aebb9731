#!/usr/bin/env bash
# Prerequisites of the integrations' tests (crates/qcs/tests/integrations.rs): Debian's groovy,
# which runs the Jenkins shared library's step against a stub pipeline context
# (integrations/jenkins/test/run.sh), PyYAML for Debian's python3, which parses the GitHub
# Action and the GitLab template, and curl for the Action's install script. Idempotent: installs only what is missing. Run as root.
set -euo pipefail

need=()
command -v groovy >/dev/null 2>&1 || need+=(groovy)
# install.sh of the GitHub Action downloads with curl (a file:// release in the test)
command -v curl >/dev/null 2>&1 || need+=(curl)
if ! /usr/bin/python3 -c 'import yaml' >/dev/null 2>&1; then
  need+=(python3-yaml)
fi

if [ "${#need[@]}" -gt 0 ]; then
  echo "60-groovy: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
exit 0
