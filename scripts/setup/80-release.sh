#!/usr/bin/env bash
# What scripts/release.sh needs to build the static Linux release of qcs on this machine:
# Debian's musl-tools (musl-gcc, the C compiler for ring's and mimalloc's C code) and the Rust
# target <arch>-unknown-linux-musl (rustup). Then checks each one works: musl-gcc builds a static
# program that runs, the target is installed. Idempotent: installs only what is missing. Run as
# root (or as a user with passwordless sudo, as on GitHub's runners).
set -euo pipefail

fail() {
  echo "80-release: FAILED: $*" >&2
  exit 1
}

if [ "$(uname -s)" != Linux ]; then
  echo "80-release: not Linux; scripts/release.sh builds for the host triple here, nothing to install"
  exit 0
fi

case "$(uname -m)" in
  x86_64 | amd64) arch=x86_64 ;;
  aarch64 | arm64) arch=aarch64 ;;
  *) fail "no musl release target for $(uname -m) machines (releases are x86_64 and aarch64)" ;;
esac
target="$arch-unknown-linux-musl"

as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    fail "installing musl-tools needs root: run scripts/setup/80-release.sh as root (or apt-get install musl-tools)"
  fi
}

if ! command -v musl-gcc >/dev/null 2>&1; then
  echo "80-release: installing musl-tools"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends musl-tools
fi

command -v rustup >/dev/null 2>&1 ||
  fail "rustup is missing: the $target standard library comes from rustup (https://rustup.rs)"
if ! rustup target list --installed | grep -qx "$target"; then
  echo "80-release: rustup target add $target"
  rustup target add "$target"
fi

# The checks: each tool runs and does its job.
command -v musl-gcc >/dev/null 2>&1 || fail "musl-gcc is not on PATH after installing musl-tools"
musl-gcc --version >/dev/null 2>&1 || fail "musl-gcc --version exits $? (is gcc installed?)"
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf '#include <stdio.h>\nint main(void) { puts("musl ok"); return 0; }\n' >"$probe/probe.c"
musl-gcc -static -o "$probe/probe" "$probe/probe.c" || fail "musl-gcc cannot build a static program"
[ "$("$probe/probe")" = "musl ok" ] || fail "a program built by musl-gcc does not run"
rustup target list --installed | grep -qx "$target" ||
  fail "rustup does not list $target as installed after rustup target add"
echo "80-release: musl-gcc and the Rust target $target work"
exit 0
