#!/usr/bin/env bash
# The docker CLI for qcs-emulator's conformance test (crates/qcs-emulator/tests/emulator/
# docker_cli.rs): the real client drives the emulator's Docker Engine API stand-in over a unix
# socket. From Debian's packages: `docker-cli` where the release has it, else `docker.io`, which
# also ships dockerd. No daemon is started or left running: the test needs none, and a CI
# container has no business running one. Idempotent: installs only what is missing, then checks
# that the CLI (and curl, which the test's shell pipeline uses) runs. Run as root.
set -euo pipefail
SETUP_NAME=35-docker-cli
# shellcheck source=scripts/setup/common.bash
. "$(dirname "$0")/common.bash"

cli=/usr/bin/docker
# (without procps there is no pgrep: then nothing is checked)
dockerd_running() { command -v pgrep >/dev/null 2>&1 && pgrep -x dockerd >/dev/null 2>&1; }
daemon_was_running=no
if dockerd_running; then daemon_was_running=yes; fi

# The test's shell pipeline polls the emulated Qualys API with curl.
if ! command -v curl >/dev/null 2>&1; then
  apt_install curl
fi

if [ ! -x "$cli" ]; then
  # Debian 12 ships only docker.io (CLI and daemon); later releases split out docker-cli.
  pkg=docker.io
  if apt-cache show docker-cli >/dev/null 2>&1; then
    pkg=docker-cli
  fi
  # Keep the package's maintainer scripts from starting dockerd (or containerd): a policy-rc.d
  # that refuses every start, only for this install, unless one is already in place.
  policy=/usr/sbin/policy-rc.d
  own_policy=no
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# qcs setup: no daemons during the install\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    own_policy=yes
  fi
  trap '[ "$own_policy" = yes ] && rm -f "$policy"' EXIT
  apt_install "$pkg"
  if [ "$own_policy" = yes ]; then
    rm -f "$policy"
    own_policy=no
  fi
  trap - EXIT
fi

# The package enables docker.service and docker.socket (socket activation would start dockerd on
# the first connection to /var/run/docker.sock): disable both (systemctl does that offline too),
# and stop them where systemd runs.
if command -v systemctl >/dev/null 2>&1 && [ -e /lib/systemd/system/docker.service ]; then
  if [ -d /run/systemd/system ]; then
    systemctl disable --now docker.socket docker.service >/dev/null 2>&1 || true
  else
    systemctl disable docker.socket docker.service >/dev/null 2>&1 || true
  fi
fi
if [ "$daemon_was_running" = no ] && dockerd_running; then
  echo "$SETUP_NAME: dockerd is running after the install; stop it (the tests need none)" >&2
  exit 1
fi

must_run "docker CLI ($cli)" "$cli" --version
must_run curl curl --version
echo "$SETUP_NAME: $("$cli" --version)"
