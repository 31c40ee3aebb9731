#!/usr/bin/env bash
# Regenerates the containerd gRPC bindings kept in crates/qcs-containerd-api/src/generated from
# the .proto files beside them, with the protoc shipped by the protoc-bin-vendored crate (so
# neither this script nor building qcs needs a protoc on the machine).
#
#   scripts/gen-containerd-api.sh           rewrite src/generated
#   scripts/gen-containerd-api.sh --check   fail when src/generated differs from what the protos give
#
# To move to a newer containerd API: copy the .proto files from containerd's api/ directory into
# crates/qcs-containerd-api/proto (same paths), run this script, then the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

crate=crates/qcs-containerd-api
manifest="$crate/codegen/Cargo.toml"
# The generator's own build lives apart from the workspace's target directory.
target="${CARGO_TARGET_DIR:-target}/containerd-api-codegen"

case "${1:-}" in
  "")
    cargo run --quiet --locked --manifest-path "$manifest" --target-dir "$target" -- "$PWD/$crate"
    echo "gen-containerd-api: wrote $crate/src/generated"
    ;;
  --check)
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    mkdir -p "$work/crate"
    cp -R "$crate/proto" "$work/crate/proto"
    cargo run --quiet --locked --manifest-path "$manifest" --target-dir "$target" -- "$work/crate"
    if ! diff -ru "$crate/src/generated" "$work/crate/src/generated"; then
      echo "gen-containerd-api: $crate/src/generated is not what the protos give" >&2
      echo "hint: run scripts/gen-containerd-api.sh and commit the result" >&2
      exit 1
    fi
    echo "gen-containerd-api: $crate/src/generated matches the protos"
    ;;
  *)
    echo "usage: $0 [--check]" >&2
    exit 2
    ;;
esac
