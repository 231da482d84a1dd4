# The apt-get install that scripts/ensure-{chromium,postgres,redis}.sh share; sourced by them, not run.
# Each ensure script checks for its tool first and sources this only to install the Debian package.

# apt_prepare WHO MISSING PACKAGE INSTEAD
# Says (as WHO) that MISSING was not found and PACKAGE will be installed; sets SUDO to the prefix
# that runs apt-get as root (none as root, sudo otherwise). Exits 1 when neither is possible or
# there is no apt-get, saying what to do instead (INSTEAD, on a system without apt-get).
apt_prepare() {
  local who=$1 missing=$2 package=$3 instead=$4
  echo "$who: $missing not found; installing Debian's $package package with apt-get." >&2
  if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
  elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "$who: not root and sudo is not available; install it yourself: apt-get install $package" >&2
    exit 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "$who: apt-get not found (not a Debian-based system?); $instead" >&2
    exit 1
  fi
}

# apt_install WHO PACKAGE NEEDED_BY [apt-get install options...]
# Updates the package lists and installs PACKAGE without recommends and without questions; exits 1
# (as WHO, naming NEEDED_BY, what needs it) when apt-get fails. Call apt_prepare first.
apt_install() {
  local who=$1 package=$2 needed_by=$3
  shift 3
  export DEBIAN_FRONTEND=noninteractive
  if ! { "${SUDO[@]}" apt-get update && "${SUDO[@]}" apt-get install -y --no-install-recommends "$@" "$package"; }; then
    echo "$who: apt-get could not install $package; $needed_by." >&2
    exit 1
  fi
}
