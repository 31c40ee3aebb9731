#!/usr/bin/env bash
# The install step of the qcs GitHub Action (action.yml): puts a qcs binary on the runner and
# writes its path to $GITHUB_OUTPUT as `bin`.
#
#   QCS_VERSION "1.2.3"/"v1.2.3": download that release
#   QCS_VERSION "installed":      use the qcs on PATH; fail when there is none
#   QCS_VERSION empty:            QCS_ACTION_VERSION when set: the release the action was pinned
#                                 to by the release workflow (uses: …@v1.2.3 or @v1 installs
#                                 exactly that one; a qcs on PATH is used only when it is that
#                                 version); else the qcs on PATH; else the latest release
#
# A release holds one archive per platform, qcs-<target>.tar.gz (qcs-<target>.zip on Windows)
# with one directory qcs-<version>-<target>/ holding the binary, and SHA256SUMS listing them
# (scripts/release.sh writes both). The archive is verified against SHA256SUMS before it is
# unpacked, and the installed binary must print the version asked for (`qcs --version`).
# QCS_REPOSITORY (owner/name) says where the releases are (default: the repository the action
# was checked out from); QCS_DOWNLOAD_BASE overrides the releases URL (a mirror:
# $QCS_DOWNLOAD_BASE/download/v<version>/<asset> and $QCS_DOWNLOAD_BASE/latest/download/<asset>).
set -euo pipefail

error() {
  echo "::error title=qcs::$*" >&2
  exit 1
}

version="${QCS_VERSION:-}"
version="${version#v}"
pinned="${QCS_ACTION_VERSION:-}"
pinned="${pinned#v}"

found() {
  echo "qcs: using $1 ($("$1" --version 2>/dev/null || echo 'version unknown'))"
  if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "bin=$1" >>"$GITHUB_OUTPUT"; fi
  exit 0
}

# The version a qcs binary prints (`qcs 1.2.3` → 1.2.3), empty when it prints none.
version_of() {
  "$1" --version 2>/dev/null | awk 'NR == 1 && $1 == "qcs" { print $2 }' || true
}

existing="$(command -v qcs 2>/dev/null || true)"
if [ "$version" = installed ]; then
  [ -n "$existing" ] || error "version 'installed' asks for the qcs on PATH, and there is none: install qcs in an earlier step, or set version to a release (e.g. 1.2.3)"
  found "$existing"
fi
asked_by="the version input"
if [ -z "$version" ] && [ -n "$pinned" ]; then
  version="$pinned"
  asked_by="the action's pinned version (QCS_ACTION_VERSION)"
  if [ -n "$existing" ] && [ "$(version_of "$existing")" = "$version" ]; then
    found "$existing"
  fi
elif [ -z "$version" ] && [ -n "$existing" ]; then
  found "$existing"
fi
if [ -n "$version" ] && ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
  error "version '$version' (from $asked_by) is not a release version such as 1.2.3, nor 'installed'"
fi

# The runner's platform → the release target.
os="${RUNNER_OS:-$(uname -s)}"
arch="${RUNNER_ARCH:-$(uname -m)}"
case "$os" in
  Linux | linux) os_part=linux ;;
  macOS | Darwin | darwin) os_part=macos ;;
  Windows | MINGW* | MSYS* | CYGWIN*) os_part=windows ;;
  *) os_part=other ;;
esac
case "$arch" in
  X64 | x86_64 | amd64 | AMD64) arch_part=x86_64 ;;
  ARM64 | arm64 | aarch64) arch_part=aarch64 ;;
  *) arch_part=other ;;
esac
exe="" kind=tar.gz
case "$os_part/$arch_part" in
  linux/x86_64 | linux/aarch64) target="$arch_part-unknown-linux-musl" ;;
  macos/x86_64 | macos/aarch64) target="$arch_part-apple-darwin" ;;
  windows/x86_64) target=x86_64-pc-windows-msvc exe=.exe kind=zip ;;
  *)
    error "no qcs release for $os $arch runners (releases have Linux X64 and ARM64, macOS X64 and ARM64, Windows X64): install qcs on the runner in an earlier step and set version: installed"
    ;;
esac
asset="qcs-$target.$kind"

# Where the releases are.
base="${QCS_DOWNLOAD_BASE:-}"
if [ -z "$base" ]; then
  repository="${QCS_REPOSITORY:-${GITHUB_ACTION_REPOSITORY:-}}"
  # In composite actions github.action_repository is empty: the runner checks an action out
  # to WORK/_actions/OWNER/REPO/REF/ (the root action.yml is that directory itself, the one in
  # integrations/github below it); used from its own repository (uses: ./ or
  # ./integrations/github), the action lives in the workspace.
  action_path="${GITHUB_ACTION_PATH:-}"
  action_path="${action_path//\\//}"
  if [ -z "$repository" ]; then
    case "$action_path" in
      */_actions/*/*/*)
        rest="${action_path#*/_actions/}"
        owner="${rest%%/*}"
        rest="${rest#*/}"
        repository="$owner/${rest%%/*}"
        ;;
    esac
  fi
  if [ -z "$repository" ] && [ -n "${GITHUB_WORKSPACE:-}" ] && [ -n "$action_path" ]; then
    workspace="${GITHUB_WORKSPACE//\\//}"
    case "$action_path" in
      "$workspace" | "$workspace"/*) repository="${GITHUB_REPOSITORY:-}" ;;
    esac
  fi
  [ -n "$repository" ] || error "the repository of the qcs releases is not known: set the action's repository input (owner/name)"
  base="https://github.com/${repository}/releases"
fi
if [ -n "$version" ]; then
  url="$base/download/v$version"
  release="release v$version"
else
  url="$base/latest/download"
  release="latest release"
fi

dest="${QCS_INSTALL_DIR:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}/qcs-bin}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Downloads URL to FILE; returns 0, or 4 when the server answered 404 (other failures end here).
fetch() {
  local code rc=0
  code="$(curl --silent --show-error --location --retry 3 --connect-timeout 30 \
    -o "$2" -w '%{http_code}' "$1" 2>"$work/curl.err")" || rc=$?
  if [ "$rc" -ne 0 ]; then
    if [ "$rc" -eq 37 ]; then return 4; fi # file:// URL without the file
    error "could not download $1 (curl exit code $rc: $(tail -n 1 "$work/curl.err")); check the runner's network access to $base"
  fi
  case "$code" in
    2?? | 000) return 0 ;;
    404) return 4 ;;
    *) error "downloading $1 failed with HTTP $code; try again later, or set QCS_DOWNLOAD_BASE to a mirror" ;;
  esac
}

echo "qcs: downloading $url/$asset"
fetch "$url/$asset" "$work/$asset" || {
  if [ -n "$version" ]; then
    error "$url/$asset is missing (HTTP 404): the $release may not have a qcs build for $os $arch runners ($asset), or version $version does not exist; see $base, pick a version that has $asset, or install qcs yourself and set version: installed"
  fi
  error "$url/$asset is missing (HTTP 404): the $release may not have a qcs build for $os $arch runners ($asset), or the repository has no release yet; see $base"
}
fetch "$url/SHA256SUMS" "$work/SHA256SUMS" ||
  error "$url/SHA256SUMS is missing (HTTP 404), so $asset cannot be verified and is not installed; use a release that has SHA256SUMS (every release of the release workflow has one)"

expected="$(awk -v f="$asset" '$2 == f || $2 == "*" f { print $1 }' "$work/SHA256SUMS" | head -n 1)"
[ -n "$expected" ] || error "SHA256SUMS of the $release ($url/SHA256SUMS) does not list $asset, so it cannot be verified and is not installed"
if command -v sha256sum >/dev/null 2>&1; then
  actual="$(sha256sum "$work/$asset" | awk '{ print $1 }')"
else
  actual="$(shasum -a 256 "$work/$asset" | awk '{ print $1 }')"
fi
actual="${actual#\\}"
if [ "$actual" != "$expected" ]; then
  error "checksum mismatch for $asset from $url: SHA256SUMS expects $expected, the download is $actual; not installed. The download is corrupt or was changed: re-run the job, and if it persists report it to the qcs maintainers"
fi
echo "qcs: $asset matches SHA256SUMS ($actual)"

mkdir -p "$work/unpacked"
if [ "$kind" = zip ]; then
  if command -v unzip >/dev/null 2>&1; then
    unzip -q "$work/$asset" -d "$work/unpacked"
  elif command -v 7z >/dev/null 2>&1; then
    7z x -bd -y "-o$work/unpacked" "$work/$asset" >/dev/null
  else
    native() { if command -v cygpath >/dev/null 2>&1; then cygpath -w "$1"; else echo "$1"; fi; }
    powershell -NoProfile -Command \
      "Expand-Archive -LiteralPath '$(native "$work/$asset")' -DestinationPath '$(native "$work/unpacked")'"
  fi
else
  tar -xzf "$work/$asset" -C "$work/unpacked"
fi

# One directory qcs-<version>-<target>/: it names the version (the latest release's, too).
top="$(cd "$work/unpacked" && find . -mindepth 1 -maxdepth 1 | sed 's|^\./||')"
case "$top" in
  *$'\n'* | "") top_ok=no ;;
  "qcs-"*"-$target") top_ok=yes ;;
  *) top_ok=no ;;
esac
if [ "$top_ok" != yes ] || [ ! -d "$work/unpacked/$top" ]; then
  error "$asset does not hold one directory qcs-<version>-$target/ (it holds: $(echo "$top" | tr '\n' ' ')); is $base a qcs release?"
fi
archived="${top#qcs-}"
archived="${archived%-"$target"}"
if [ -z "$version" ]; then
  version="$archived"
elif [ "$archived" != "$version" ]; then
  error "$asset of the $release holds qcs $archived ($top/), not $version; not installed"
fi
bin="$work/unpacked/$top/qcs$exe"
[ -f "$bin" ] || error "$asset holds no qcs$exe in $top/"

mkdir -p "$dest"
cp "$bin" "$dest/qcs$exe"
chmod 0755 "$dest/qcs$exe"
said="$("$dest/qcs$exe" --version 2>&1 || true)"
if [ "$(echo "$said" | awk 'NR == 1 && $1 == "qcs" { print $2 }')" != "$version" ]; then
  rm -f "$dest/qcs$exe"
  error "the qcs of $asset does not run as qcs $version here (qcs --version printed: $(echo "$said" | head -n 3 | tr '\n' ' ')); not installed"
fi
if [ -n "${GITHUB_PATH:-}" ]; then echo "$dest" >>"$GITHUB_PATH"; fi
found "$dest/qcs$exe"
