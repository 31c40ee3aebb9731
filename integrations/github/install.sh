#!/usr/bin/env bash
# The install step of the qcs GitHub Action (action.yml): puts a qcs binary on the runner and
# writes its path to $GITHUB_OUTPUT as `bin`.
#
#   QCS_VERSION empty:          use the qcs already on PATH, else download the release that
#                               matches the action's own tag (uses: …@v1.2.3), else the latest
#   QCS_VERSION "installed":    use the qcs on PATH; fail when there is none
#   QCS_VERSION "1.2.3"/"v1.2.3": download that release
#
# A release holds one archive per platform, qcs-<target>.tar.gz (the binary `qcs` inside), and
# SHA256SUMS listing them; the archive is verified against SHA256SUMS before it is unpacked.
# QCS_REPOSITORY (owner/name) says where the releases are; QCS_DOWNLOAD_BASE overrides the
# releases URL (a mirror, or a file:// directory in tests).
set -euo pipefail

version="${QCS_VERSION:-}"
version="${version#v}"

found() {
  echo "qcs: using $1 ($("$1" --version 2>/dev/null || echo 'version unknown'))"
  if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "bin=$1" >>"$GITHUB_OUTPUT"; fi
  exit 0
}

if [ -z "$version" ] || [ "$version" = installed ]; then
  if existing="$(command -v qcs 2>/dev/null)"; then
    found "$existing"
  fi
  if [ "$version" = installed ]; then
    echo "::error title=qcs::version 'installed' asks for the qcs on PATH, and there is none" >&2
    exit 1
  fi
fi

# No version asked for: the release of the action's own tag when it is an exact version.
if [ -z "$version" ] && [[ "${GITHUB_ACTION_REF:-}" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  version="${GITHUB_ACTION_REF#v}"
fi

os="${RUNNER_OS:-$(uname -s)}"
arch="${RUNNER_ARCH:-$(uname -m)}"
case "$os" in
  Linux | linux) os_part=unknown-linux-musl ;;
  macOS | Darwin | darwin) os_part=apple-darwin ;;
  *)
    echo "::error title=qcs::no qcs release for $os runners; install qcs on the runner and set version: installed" >&2
    exit 1
    ;;
esac
case "$arch" in
  X64 | x86_64 | amd64) arch_part=x86_64 ;;
  ARM64 | arm64 | aarch64) arch_part=aarch64 ;;
  *)
    echo "::error title=qcs::no qcs release for $arch runners" >&2
    exit 1
    ;;
esac
asset="qcs-${arch_part}-${os_part}.tar.gz"

base="${QCS_DOWNLOAD_BASE:-}"
if [ -z "$base" ]; then
  repository="${QCS_REPOSITORY:-${GITHUB_ACTION_REPOSITORY:-}}"
  if [ -z "$repository" ]; then
    echo "::error title=qcs::the repository of the qcs releases is not known; set the repository input" >&2
    exit 1
  fi
  base="https://github.com/${repository}/releases"
fi
if [ -n "$version" ]; then
  url="$base/download/v$version"
else
  url="$base/latest/download"
fi

dest="${QCS_INSTALL_DIR:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}/qcs-bin}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "qcs: downloading $url/$asset"
curl --fail --silent --show-error --location --retry 3 -o "$work/$asset" "$url/$asset"
curl --fail --silent --show-error --location --retry 3 -o "$work/SHA256SUMS" "$url/SHA256SUMS"

expected="$(awk -v f="$asset" '$2 == f || $2 == "*" f { print $1 }' "$work/SHA256SUMS" | head -n 1)"
if [ -z "$expected" ]; then
  echo "::error title=qcs::SHA256SUMS of the release does not list $asset" >&2
  exit 1
fi
if command -v sha256sum >/dev/null 2>&1; then
  actual="$(sha256sum "$work/$asset" | awk '{ print $1 }')"
else
  actual="$(shasum -a 256 "$work/$asset" | awk '{ print $1 }')"
fi
if [ "$actual" != "$expected" ]; then
  echo "::error title=qcs::checksum mismatch for $asset: expected $expected, got $actual" >&2
  exit 1
fi

mkdir -p "$work/unpacked" "$dest"
tar -xzf "$work/$asset" -C "$work/unpacked"
bin="$(find "$work/unpacked" -type f -name qcs | head -n 1)"
if [ -z "$bin" ]; then
  echo "::error title=qcs::$asset holds no qcs binary" >&2
  exit 1
fi
install -m 0755 "$bin" "$dest/qcs"
if [ -n "${GITHUB_PATH:-}" ]; then echo "$dest" >>"$GITHUB_PATH"; fi
found "$dest/qcs"
