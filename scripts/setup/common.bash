# Shared by the setup scripts (sourced, not run: test.sh runs only scripts/setup/*.sh).
#   apt_install PKG...      installs Debian packages, non-interactively
#   must_run WHAT CMD...    runs CMD and fails the setup, with CMD's output and a hint, unless it
#                           exits 0: a package being present is not proof that its tool starts

apt_install() {
  [ "$#" -gt 0 ] || return 0
  echo "${SETUP_NAME:-setup}: installing $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "$@"
}

must_run() {
  local what="$1" out
  shift
  if ! out="$("$@" 2>&1 </dev/null)"; then
    echo "${SETUP_NAME:-setup}: $what is installed but does not run: \`$*\` failed:" >&2
    printf '%s\n' "$out" | sed 's/^/  | /' >&2
    echo "hint: fix the installation above, then run scripts/test.sh again" >&2
    exit 1
  fi
}
