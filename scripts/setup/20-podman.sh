#!/usr/bin/env bash
# Prerequisites of qcs-emulator's engine-watcher test (crates/qcs-emulator/tests/emulator/podman.rs)
# and of the container image test (crates/qcs/tests/container.rs): Podman with runc (crun fails on
# these machines), uidmap, and tar for the generated rootfs tarball. Idempotent: installs only
# what is missing, then checks that each tool runs. Run as root.
set -euo pipefail
SETUP_NAME=20-podman
# shellcheck source=scripts/setup/common.bash
. "$(dirname "$0")/common.bash"

need=()
command -v podman >/dev/null 2>&1 || need+=(podman)
command -v runc >/dev/null 2>&1 || need+=(runc)
command -v tar >/dev/null 2>&1 || need+=(tar)
command -v newuidmap >/dev/null 2>&1 || need+=(uidmap)
apt_install "${need[@]}"

# `podman import` needs a signature policy; Debian's package ships one, but make sure.
if [ ! -e /etc/containers/policy.json ]; then
  mkdir -p /etc/containers
  printf '{"default":[{"type":"insecureAcceptAnything"}]}\n' >/etc/containers/policy.json
fi

must_run podman podman --version
must_run runc runc --version
must_run tar tar --version
# The tests' own storage setup (vfs, runc, a temp root): podman must be able to start with it.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
must_run "podman (vfs storage, runc)" podman --root "$tmp/root" --runroot "$tmp/run" \
  --storage-driver vfs --runtime runc info
