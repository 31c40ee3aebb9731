#!/usr/bin/env bash
# Container engines for qcs-engine's tests (crates/qcs-engine/tests): Podman's Docker-compatible
# service, runc (crun fails on these machines), containerd with ctr, stunnel (TLS with client
# certificates in front of Podman's TCP listener) and a static busybox for the test images; also
# protoc, which the containerd-client crate's build script needs to generate its gRPC bindings.
# Idempotent: installs only what is missing. Run as root.
set -euo pipefail

need=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_cmd podman || need+=(podman)
have_cmd runc || need+=(runc)
{ have_cmd containerd && have_cmd ctr; } || need+=(containerd)
have_cmd stunnel4 || have_cmd stunnel || need+=(stunnel4)
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
have_cmd protoc || need+=(protobuf-compiler)
have_cmd newuidmap || need+=(uidmap)

if [ "${#need[@]}" -gt 0 ]; then
  echo "30-engines: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# Podman needs a policy file to import/save images; Debian's package ships one, but make sure.
if [ ! -e /etc/containers/policy.json ]; then
  mkdir -p /etc/containers
  printf '{"default":[{"type":"insecureAcceptAnything"}]}\n' >/etc/containers/policy.json
fi
exit 0
