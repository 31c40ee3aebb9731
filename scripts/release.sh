#!/usr/bin/env bash
# Builds qcs as a release ships it and packages it, with checksums:
#
#   scripts/release.sh [--target TRIPLE] [--out DIR] [--version X.Y.Z] [--binary PATH]
#
#   --target   Rust target triple; default: on Linux this machine's <arch>-unknown-linux-musl
#              (a static binary, what the release ships), elsewhere the host triple
#   --out      where the archives go; default $QCS_DIST, else dist/ at the repository root
#   --version  the version the archive is named for; default the workspace version in
#              Cargo.toml. When the binary runs here, `qcs --version` must print it.
#   --binary   package this already built qcs instead of running cargo (it is checked the same way)
#
# It runs `cargo build --locked --profile dist --target TRIPLE -p qcs` (the release profile,
# stripped), refuses a Linux musl binary
# that is not static (an ELF with a PT_INTERP program header), and writes into the out directory
#
#   qcs-<target>.tar.gz   (qcs-<target>.zip for windows targets) holding one directory
#                         qcs-<version>-<target>/ with qcs (qcs.exe), README.md, CHANGELOG.md
#                         and the license files when the repository has them
#   SHA256SUMS            `sha256sum` format, one line for every qcs-*.tar.gz and qcs-*.zip in
#                         the directory (archives of other targets built there before are kept)
#
# Archives are reproducible: entries in name order, owner 0:0, fixed modes, every mtime set to
# SOURCE_DATE_EPOCH, else the time of the last commit. Runs with bash 3.2 (macOS) and Git Bash
# (Windows); a windows zip needs python3 (or zip). scripts/setup/80-release.sh installs what a
# Debian machine needs (musl-tools, the rustup musl target). See docs/release.md.
set -euo pipefail

say() { echo "release: $*"; }
die() {
  echo "release: error: $1" >&2
  if [ "$#" -gt 1 ]; then echo "hint: $2" >&2; fi
  exit 1
}
usage() {
  sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
  exit 2
}

root=$(cd "$(dirname "$0")/.." && pwd)

target="" out="${QCS_DIST:-}" version="" binary=""
while [ "$#" -gt 0 ]; do
  case "$1" in
    --target | --out | --version | --binary)
      if [ "$#" -lt 2 ] || [ -z "$2" ]; then die "$1 needs a value" "scripts/release.sh --help"; fi
      case "$1" in
        --target) target=$2 ;;
        --out) out=$2 ;;
        --version) version=$2 ;;
        --binary) binary=$2 ;;
      esac
      shift 2
      ;;
    --target=* | --out=* | --version=* | --binary=*)
      value=${1#*=}
      [ -n "$value" ] || die "${1%%=*} needs a value" "scripts/release.sh --help"
      case "$1" in
        --target=*) target=$value ;;
        --out=*) out=$value ;;
        --version=*) version=$value ;;
        --binary=*) binary=$value ;;
      esac
      shift
      ;;
    -h | --help) usage ;;
    *) die "unknown argument \`$1\`" "scripts/release.sh --help" ;;
  esac
done

# --- what to build ------------------------------------------------------------------------------

# The workspace version: `version` in Cargo.toml's [workspace.package].
workspace_version() {
  awk '
    /^\[/ { section = $0; next }
    section == "[workspace.package]" && $1 == "version" {
      sub(/^[^=]*=[ \t]*"/, ""); sub(/".*$/, ""); print; exit
    }' "$root/Cargo.toml"
}
if [ -z "$version" ]; then
  version=$(workspace_version)
  [ -n "$version" ] || die "no version in [workspace.package] of $root/Cargo.toml" "pass --version X.Y.Z"
fi
version=${version#v}
case "$version" in
  [0-9]*.[0-9]*.[0-9]*) ;;
  *) die "version \`$version\` is not X.Y.Z" "pass --version X.Y.Z (a leading v is dropped)" ;;
esac

host=""
if command -v rustc >/dev/null 2>&1; then
  host=$(rustc -vV | sed -n 's/^host: //p')
fi
if [ -z "$target" ]; then
  [ -n "$host" ] || die "rustc is missing, so this machine's target is unknown" \
    "install Rust (https://rustup.rs) or pass --target TRIPLE"
  case "$host" in
    *-linux-*) target="${host%%-*}-unknown-linux-musl" ;;
    *) target=$host ;;
  esac
fi
arch=${target%%-*}

exe="" kind=tar.gz
case "$target" in
  *-windows-*) exe=.exe kind=zip ;;
esac
archive="qcs-$target.$kind"
top="qcs-$version-$target"

# The mtime of every archive entry.
epoch=${SOURCE_DATE_EPOCH:-}
if [ -z "$epoch" ]; then
  epoch=$(git -C "$root" -c safe.directory="$root" log -1 --format=%ct 2>/dev/null || true)
fi
case "$epoch" in
  '' | *[!0-9]*)
    die "no timestamp for the archive entries (SOURCE_DATE_EPOCH unset and no git commit in $root)" \
      "set SOURCE_DATE_EPOCH to a Unix time, e.g. SOURCE_DATE_EPOCH=\$(date +%s)"
    ;;
esac

# --- prerequisites ------------------------------------------------------------------------------

# The musl target: the Rust standard library for it, and a C compiler for the crates that build
# C (ring, mimalloc): musl-gcc for this machine's own architecture.
if [ -z "$binary" ]; then
  command -v cargo >/dev/null 2>&1 || die "cargo is missing" "install Rust (https://rustup.rs)"
  case "$target" in
    *-linux-musl*)
      if command -v rustup >/dev/null 2>&1; then
        rustup target list --installed 2>/dev/null | grep -qx "$target" ||
          die "the Rust target $target is not installed" \
            "rustup target add $target   (on Debian, scripts/setup/80-release.sh installs everything)"
      elif [ ! -d "$(rustc --print sysroot)/lib/rustlib/$target" ]; then
        die "the Rust standard library for $target is missing" \
          "install the target, e.g. rustup target add $target"
      fi
      cc_var="CC_$(echo "$target" | tr '.-' '__')"
      if [ -n "${!cc_var:-}" ]; then
        say "C compiler for $target: ${!cc_var} (from $cc_var)"
      elif [ "$host" = "$arch-unknown-linux-gnu" ] || [ "$host" = "$arch-unknown-linux-musl" ]; then
        command -v musl-gcc >/dev/null 2>&1 ||
          die "musl-gcc is missing: it compiles the C code of ring and mimalloc for $target" \
            "apt-get install musl-tools   (on Debian, scripts/setup/80-release.sh installs everything)"
        export "$cc_var=musl-gcc"
      elif command -v "$arch-linux-musl-gcc" >/dev/null 2>&1; then
        export "$cc_var=$arch-linux-musl-gcc"
        linker_var="CARGO_TARGET_$(echo "$target" | tr 'a-z.-' 'A-Z__')_LINKER"
        if [ -z "${!linker_var:-}" ]; then export "$linker_var=$arch-linux-musl-gcc"; fi
      else
        die "no C compiler for $target on this $host machine (musl-gcc builds for its own architecture only)" \
          "build on an $arch Linux machine (the release workflow uses an $arch runner), or put a cross compiler $arch-linux-musl-gcc on PATH (or set $cc_var)"
      fi
      ;;
  esac
fi

# --- build --------------------------------------------------------------------------------------

if [ -n "$binary" ]; then
  [ -f "$binary" ] || die "--binary $binary does not exist"
  bin=$binary
  say "packaging $bin (given with --binary) as $target"
else
  say "cargo build --locked --profile dist --target $target -p qcs"
  (cd "$root" && cargo build --locked --profile dist --target "$target" -p qcs) ||
    die "cargo build for $target failed (see above)"
  bin="${CARGO_TARGET_DIR:-$root/target}/$target/dist/qcs$exe"
  [ -f "$bin" ] || die "cargo built no $bin"
fi

# Reads LEN (1-8) bytes at OFFSET of FILE as a little-endian unsigned number.
le_uint() {
  local bytes value=0 shift_by=0 b
  bytes=$(od -An -tu1 -j "$2" -N "$3" "$1") || return 1
  for b in $bytes; do
    value=$((value + (b << shift_by)))
    shift_by=$((shift_by + 8))
  done
  [ "$shift_by" -eq $(($3 * 8)) ] || return 1
  echo "$value"
}

# A Linux binary: an ELF for the target's architecture; for musl, static (no PT_INTERP).
case "$target" in
  *-linux-*)
    magic=$(od -An -c -N 4 "$bin" | tr -d ' ')
    [ "$magic" = '177ELF' ] || die "$bin is not an ELF file"
    if [ "$(le_uint "$bin" 4 1)" != 2 ] || [ "$(le_uint "$bin" 5 1)" != 1 ]; then
      die "$bin is not a 64-bit little-endian ELF file"
    fi
    machine=$(le_uint "$bin" 18 2)
    case "$arch:$machine" in
      x86_64:62 | aarch64:183) ;;
      *) die "$bin is an ELF for machine $machine, not for $arch (e_machine x86_64 62, aarch64 183)" ;;
    esac
    phoff=$(le_uint "$bin" 32 8)
    phentsize=$(le_uint "$bin" 54 2)
    phnum=$(le_uint "$bin" 56 2)
    interp=no
    i=0
    while [ "$i" -lt "$phnum" ]; do
      if [ "$(le_uint "$bin" $((phoff + i * phentsize)) 4)" = 3 ]; then interp=yes; fi
      i=$((i + 1))
    done
    case "$target" in
      *-musl*)
        if [ "$interp" = yes ]; then
          die "$bin is dynamically linked (it has a program interpreter, PT_INTERP): a $target release must be static" \
            "build with the musl target's defaults (crt-static); do not set -C target-feature=-crt-static in RUSTFLAGS or .cargo/config.toml"
        fi
        say "$bin is static (no PT_INTERP), $arch"
        ;;
    esac
    if command -v file >/dev/null 2>&1; then say "file: $(file -b "$bin")"; fi
    ;;
esac

# When it runs here, the binary must say the version the archive is named for.
runs_here=no
case "$target" in
  "$host") runs_here=yes ;;
  "$arch-unknown-linux-musl")
    case "$host" in "$arch"-unknown-linux-*) runs_here=yes ;; esac
    ;;
esac
if [ "$runs_here" = yes ]; then
  said=$("$bin" --version 2>&1) || die "$bin --version failed: $said"
  said_version=$(echo "$said" | awk 'NR == 1 { print $2 }')
  [ "$said_version" = "$version" ] ||
    die "$bin --version prints \`$said\`, but the archive is for version $version" \
      "set version in [workspace.package] of Cargo.toml to $version and rebuild, or pass --version $said_version"
  say "$bin --version: $said"
fi

# --- package ------------------------------------------------------------------------------------

[ -f "$root/README.md" ] || die "$root/README.md is missing"
[ -f "$root/CHANGELOG.md" ] || die "$root/CHANGELOG.md is missing"

[ -n "$out" ] || out="$root/dist"
mkdir -p "$out"
out=$(cd "$out" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/qcs-release.XXXXXX")
trap 'rm -rf "$work"' EXIT
stage="$work/$top"
mkdir "$stage"
cp "$bin" "$stage/qcs$exe"
chmod 0755 "$stage/qcs$exe"
for doc in "$root"/LICENSE* "$root"/COPYING* "$root"/NOTICE* "$root/README.md" "$root/CHANGELOG.md"; do
  [ -f "$doc" ] || continue
  cp "$doc" "$stage/"
  chmod 0644 "$stage/$(basename "$doc")"
done
chmod 0755 "$stage"

# Entries in byte order of their names.
names=()
while IFS= read -r name; do names+=("$name"); done < <(
  cd "$stage" && find . -mindepth 1 -maxdepth 1 -type f | sed 's|^\./||' | LC_ALL=C sort
)

# touch -t takes local time: in UTC it is the epoch.
stamp=$(TZ=UTC date -u -d "@$epoch" +%Y%m%d%H%M.%S 2>/dev/null ||
  TZ=UTC date -u -r "$epoch" +%Y%m%d%H%M.%S 2>/dev/null) ||
  die "cannot turn $epoch into a date (neither GNU nor BSD date)"
for name in "${names[@]}"; do TZ=UTC touch -t "$stamp" "$stage/$name"; done
TZ=UTC touch -t "$stamp" "$stage"

tmp_archive="$work/$archive"
if [ "$kind" = tar.gz ]; then
  if tar --version 2>/dev/null | grep -q 'GNU tar'; then
    owner=(--owner=0 --group=0 --numeric-owner)
  else
    owner=(--uid 0 --gid 0 --numeric-owner) # bsdtar (macOS)
  fi
  entries=("$top")
  for name in "${names[@]}"; do entries+=("$top/$name"); done
  # No AppleDouble (._*) entries for extended attributes on macOS.
  (cd "$work" && COPYFILE_DISABLE=1 tar "${owner[@]}" --format=ustar --no-recursion -cf - "${entries[@]}") |
    gzip -n >"$tmp_archive"
else
  python=""
  for candidate in python3 python py; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import zipfile' >/dev/null 2>&1; then
      python=$candidate
      break
    fi
  done
  if [ -n "$python" ]; then
    # Relative paths only: a native Windows python does not know Git Bash's /tmp.
    (cd "$work" && "$python" - "$archive" "$top" "$epoch" "${names[@]}") <<'PY'
import sys, time, zipfile

archive, top, epoch, names = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
when = time.gmtime(max(epoch, 315532800))[:6]  # zip dates start in 1980
with zipfile.ZipFile(archive, "w") as z:
    entry = zipfile.ZipInfo(top + "/", when)
    entry.external_attr = (0o40755 << 16) | 0x10
    entry.create_system = 3
    z.writestr(entry, b"")
    for name in names:
        entry = zipfile.ZipInfo(top + "/" + name, when)
        mode = 0o100755 if name in ("qcs", "qcs.exe") else 0o100644
        entry.external_attr = mode << 16
        entry.create_system = 3
        entry.compress_type = zipfile.ZIP_DEFLATED
        with open(top + "/" + name, "rb") as f:
            z.writestr(entry, f.read(), compresslevel=9)
PY
  elif command -v zip >/dev/null 2>&1; then
    entries=("$top/")
    for name in "${names[@]}"; do entries+=("$top/$name"); done
    (cd "$work" && TZ=UTC zip -X -9 -q "$archive" "${entries[@]}")
  else
    die "no python3 and no zip to write $archive" "install python3 (or zip)"
  fi
fi
mv -f "$tmp_archive" "$out/$archive"

# --- checksums ----------------------------------------------------------------------------------

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | awk '{ print $1 }' | sed 's/^\\//'
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | awk '{ print $1 }'
  else
    openssl dgst -sha256 -r "$1" | awk '{ print $1 }'
  fi
}
sums="$work/SHA256SUMS"
: >"$sums"
count=0
while IFS= read -r file; do
  printf '%s  %s\n' "$(sha256 "$out/$file")" "$file" >>"$sums"
  count=$((count + 1))
done < <(
  cd "$out" && find . -maxdepth 1 -type f \( -name 'qcs-*.tar.gz' -o -name 'qcs-*.zip' \) |
    sed 's|^\./||' | LC_ALL=C sort
)
mv -f "$sums" "$out/SHA256SUMS"

size=$(wc -c <"$out/$archive" | tr -d ' ')
say "wrote $out/$archive ($size bytes): $top/ with ${names[*]}"
say "wrote $out/SHA256SUMS ($count archive(s)):"
sed 's/^/  /' "$out/SHA256SUMS"
