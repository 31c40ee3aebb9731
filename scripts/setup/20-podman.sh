#!/usr/bin/env bash
# Prerequisites of qcs-emulator's engine-watcher test (crates/qcs-emulator/tests/emulator/podman.rs):
# Podman's Docker-compatible service with runc (crun fails on these machines) and tar for the
# generated rootfs tarball. Idempotent: installs only what is missing. Run as root.
set -euo pipefail

need=()
command -v podman >/dev/null 2>&1 || need+=(podman)
command -v runc >/dev/null 2>&1 || need+=(runc)
command -v tar >/dev/null 2>&1 || need+=(tar)
command -v newuidmap >/dev/null 2>&1 || need+=(uidmap)

if [ "${#need[@]}" -gt 0 ]; then
  echo "20-podman: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# `podman import` needs a signature policy; Debian's package ships one, but make sure.
if [ ! -e /etc/containers/policy.json ]; then
  mkdir -p /etc/containers
  printf '{"default":[{"type":"insecureAcceptAnything"}]}\n' >/etc/containers/policy.json
fi
exit 0
