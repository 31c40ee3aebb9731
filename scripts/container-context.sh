#!/usr/bin/env bash
# Stages the build context of the qcs image (the Containerfile at the repository root):
#
#   scripts/container-context.sh DEST ARCH=BINARY [ARCH=BINARY...]     (ARCH: amd64 or arm64)
#
# DEST/Containerfile        a copy of the repository's Containerfile
# DEST/rootfs/              etc/passwd and etc/group (root, qcs 65532), etc/nsswitch.conf,
#                           etc/ssl/certs/ca-certificates.crt (this machine's bundle, Debian's
#                           ca-certificates), tmp/ (1777), home/
# DEST/empty/               an empty directory, copied to /home/qcs and /work owned by 65532
# DEST/ARCH/usr/local/bin/qcs   the binary; when it is dynamically linked (a glibc build),
#                           also its loader and each shared library ldd lists, at their
#                           absolute paths under DEST/ARCH/
#
# Then: docker buildx build --platform linux/amd64,linux/arm64 DEST, or
# podman build --build-arg TARGETARCH=amd64 DEST (see the Containerfile on TARGETARCH).
# Needs readelf (binutils); ldd only for a dynamic binary, which must then be for this
# machine's architecture. Anything DEST held under those names is replaced; other files in
# DEST are left alone.
set -euo pipefail

die() {
  echo "container-context: $*" >&2
  exit 1
}

usage() {
  echo "usage: $0 DEST ARCH=BINARY [ARCH=BINARY...]   (ARCH: amd64 or arm64)" >&2
  exit 2
}

[ "$#" -ge 2 ] || usage
dest=$1
shift

repo=$(cd "$(dirname "$0")/.." && pwd)
containerfile="$repo/Containerfile"
ca_bundle=/etc/ssl/certs/ca-certificates.crt

command -v readelf >/dev/null 2>&1 || die "readelf is missing: install binutils"
[ -f "$containerfile" ] || die "$containerfile is missing"
[ -s "$ca_bundle" ] ||
  die "$ca_bundle is missing or empty: install the CA certificates (Debian/Ubuntu: apt-get install ca-certificates)"

# Check every argument before writing anything.
declare -A seen=()
for spec in "$@"; do
  case "$spec" in
    *=*) ;;
    *) die "\`$spec\` is not ARCH=BINARY" ;;
  esac
  arch=${spec%%=*}
  bin=${spec#*=}
  case "$arch" in
    amd64) machine='X86-64' ;;
    arm64) machine='AArch64' ;;
    *) die "unknown architecture \`$arch\` in \`$spec\`: use amd64 or arm64" ;;
  esac
  [ -z "${seen[$arch]:-}" ] || die "$arch is given twice"
  seen[$arch]=1
  [ -f "$bin" ] || die "$bin ($arch) does not exist or is not a file"
  [ -x "$bin" ] || die "$bin ($arch) is not executable"
  header=$(readelf -h "$bin" 2>/dev/null) || die "$bin ($arch) is not an ELF file"
  grep -Eq "^ *Machine: .*$machine" <<<"$header" ||
    die "$bin is not an $arch binary: $(grep -E '^ *Machine:' <<<"$header" | sed 's/^ *//; s/  */ /g')"
done

mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
[ "$dest" != / ] || die "DEST must not be /"
rm -rf "$dest/rootfs" "$dest/empty" "$dest/amd64" "$dest/arm64" "$dest/Containerfile"

install -m 0644 "$containerfile" "$dest/Containerfile"

root="$dest/rootfs"
install -d -m 0755 "$root/etc/ssl/certs" "$root/home"
install -d -m 1777 "$root/tmp"
# The explicit chmod: install -d leaves the sticky bit to the umask on some systems.
chmod 1777 "$root/tmp"
install -d -m 0755 "$dest/empty"
printf '%s\n' \
  'root:x:0:0:root:/root:/sbin/nologin' \
  'qcs:x:65532:65532:qcs:/home/qcs:/sbin/nologin' >"$root/etc/passwd"
printf '%s\n' 'root:x:0:' 'qcs:x:65532:' >"$root/etc/group"
printf '%s\n' 'hosts: files dns' >"$root/etc/nsswitch.conf"
chmod 0644 "$root/etc/passwd" "$root/etc/group" "$root/etc/nsswitch.conf"
install -m 0644 "$ca_bundle" "$root/etc/ssl/certs/ca-certificates.crt"

# Copies the file behind $1 (symlinks followed) to the same absolute path under $2.
copy_at() {
  local file=$1 top=$2
  case "$file" in
    /*) ;;
    *) die "ldd named a library without an absolute path: $file" ;;
  esac
  install -D -m 0755 "$(readlink -f "$file")" "$top$file"
}

for spec in "$@"; do
  arch=${spec%%=*}
  bin=${spec#*=}
  top="$dest/$arch"
  install -D -m 0755 "$bin" "$top/usr/local/bin/qcs"
  interp=$(readelf -lW "$bin" | sed -n 's/.*\[Requesting program interpreter: \(.*\)\]$/\1/p')
  if [ -z "$interp" ]; then
    echo "container-context: $arch: $bin is static"
    continue
  fi
  # Dynamically linked: ldd loads it with this machine's loader, so it must be this
  # machine's architecture.
  command -v ldd >/dev/null 2>&1 || die "$bin ($arch) is dynamically linked and ldd is missing"
  libs=$(ldd "$bin" 2>&1) ||
    die "$bin ($arch) is dynamically linked and ldd cannot list its libraries (a binary for another architecture? give a static build):
$libs"
  if grep -q 'not found' <<<"$libs"; then
    die "$bin ($arch) needs libraries this machine lacks:
$libs"
  fi
  copy_at "$interp" "$top"
  count=0
  while read -r lib; do
    copy_at "$lib" "$top"
    count=$((count + 1))
  done < <(sed -n 's/^[[:space:]]*[^[:space:]]* => \(\/[^[:space:]]*\) (0x[0-9a-f]*)$/\1/p' <<<"$libs")
  echo "container-context: $arch: $bin is dynamically linked: copied $interp and $count libraries"
done

echo "container-context: staged $dest (build it with docker buildx build or podman build)"
