#!/usr/bin/env bash
# Container engines for qcs-engine's tests (crates/qcs-engine/tests): Podman's Docker-compatible
# service, runc (crun fails on these machines), containerd with ctr, stunnel (TLS with client
# certificates in front of Podman's TCP listener) and a static busybox for the test images.
# (containerd's gRPC bindings are generated and kept in crates/qcs-containerd-api: no protoc.)
# Idempotent: installs only what is missing, then checks that each tool runs. Run as root.
set -euo pipefail
SETUP_NAME=30-engines
# shellcheck source=scripts/setup/common.bash
. "$(dirname "$0")/common.bash"

need=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_cmd podman || need+=(podman)
have_cmd runc || need+=(runc)
{ have_cmd containerd && have_cmd ctr; } || need+=(containerd)
have_cmd stunnel4 || have_cmd stunnel || need+=(stunnel4)
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
have_cmd newuidmap || need+=(uidmap)
apt_install "${need[@]}"

# Podman needs a policy file to import/save images; Debian's package ships one, but make sure.
if [ ! -e /etc/containers/policy.json ]; then
  mkdir -p /etc/containers
  printf '{"default":[{"type":"insecureAcceptAnything"}]}\n' >/etc/containers/policy.json
fi

must_run podman podman --version
must_run runc runc --version
must_run containerd containerd --version
must_run ctr ctr --version
must_run containerd-shim-runc-v2 containerd-shim-runc-v2 -v
stunnel="$(command -v stunnel4 || command -v stunnel)"
# stunnel prints its version on stderr and exits 0 with -version.
must_run stunnel "$stunnel" -version
must_run "busybox (static)" /bin/busybox true
