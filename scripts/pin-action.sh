#!/usr/bin/env bash
# Pins the GitHub Action to a qcs release: writes VERSION into the marker line of the action's
# install step, so that `uses: qcs-scan/qcs@vVERSION` and `uses:
# qcs-scan/qcs/integrations/github@vVERSION` (and the major tag the release workflow moves with
# them) install exactly that release:
#
#   scripts/pin-action.sh VERSION [ACTION_YML...]
#
# With no file it pins both forms of the action: action.yml at the repository root (the
# Marketplace's) and integrations/github/action.yml. The marker is the one line
#
#   QCS_ACTION_VERSION: ""  # written by the release workflow (scripts/pin-action.sh)
#
# and becomes `QCS_ACTION_VERSION: "VERSION"  # …`. It fails, changing nothing in any file,
# unless every file holds the marker exactly once with an empty value (so a second run fails:
# already pinned). The release workflow (.github/workflows/release.yml) commits the result on
# top of the tagged commit and moves the tags to it; docs/release.md explains why.
set -euo pipefail

die() {
  echo "pin-action: error: $*" >&2
  exit 1
}

if [ "$#" -lt 1 ]; then
  echo "usage: $0 VERSION [ACTION_YML...]" >&2
  exit 2
fi
version=${1#v}
shift
if [ "$#" -eq 0 ]; then
  root=$(cd "$(dirname "$0")/.." && pwd)
  set -- "$root/action.yml" "$root/integrations/github/action.yml"
fi

if ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
  die "\`$version\` is not a version X.Y.Z (or X.Y.Z-pre)"
fi

marker='^([[:space:]]*)QCS_ACTION_VERSION:[[:space:]]*""([[:space:]]+#.*written by the release workflow.*)$'
any='^[[:space:]]*QCS_ACTION_VERSION:'

# Every file is checked before any is written.
for file in "$@"; do
  [ -f "$file" ] || die "$file does not exist"
  empty=$(grep -cE "$marker" "$file" || true)
  all=$(grep -cE "$any" "$file" || true)
  if [ "$empty" != 1 ] || [ "$all" != 1 ]; then
    if [ "$all" = 1 ]; then
      die "$file is already pinned ($(grep -E "$any" "$file" | sed 's/^[[:space:]]*//')): pin an unpinned action.yml"
    fi
    die "$file must hold the marker line exactly once, found $all QCS_ACTION_VERSION line(s), $empty of them unpinned; the marker: QCS_ACTION_VERSION: \"\"  # written by the release workflow"
  fi
done

tmps=()
trap 'rm -f "${tmps[@]}"' EXIT
for file in "$@"; do
  tmp="$file.pin.$$"
  tmps+=("$tmp")
  sed -E "s/$marker/\\1QCS_ACTION_VERSION: \"$version\"\\2/" "$file" >"$tmp"
  pinned=$(grep -cE "^[[:space:]]*QCS_ACTION_VERSION: \"$version\"[[:space:]]+#" "$tmp" || true)
  [ "$pinned" = 1 ] || die "writing the version into $file failed"
done
for file in "$@"; do
  cat "$file.pin.$$" >"$file"
  echo "pin-action: $file: QCS_ACTION_VERSION: \"$version\""
done
