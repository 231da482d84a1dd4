#!/usr/bin/env bash
# Makes sure PostgreSQL's server binaries (initdb, pg_ctl, postgres) are installed for the storage
# tests, which start private instances of their own (signaling-server/test/support/private-postgres.ts).
# Installs Debian's postgresql package with apt if missing; never downloads PostgreSQL any other way.
# The package's default cluster is not wanted (the tests never use a shared server on 5432), so on a
# machine without postgresql-common yet, the install is told not to create one.
set -euo pipefail

find_initdb() {
  if [ -n "${GMNET_POSTGRES_BIN:-}" ] && [ -x "$GMNET_POSTGRES_BIN/initdb" ]; then
    return 0
  fi
  if command -v initdb >/dev/null 2>&1; then
    return 0
  fi
  local bin
  for bin in /usr/lib/postgresql/*/bin; do
    if [ -x "$bin/initdb" ] && [ -x "$bin/pg_ctl" ] && [ -x "$bin/postgres" ]; then
      return 0
    fi
  done
  return 1
}

if find_initdb; then
  exit 0
fi

source "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh"
apt_prepare ensure-postgres initdb postgresql "install PostgreSQL's server binaries yourself, or point GMNET_POSTGRES_BIN at the folder with initdb, pg_ctl and postgres."

# postgresql-common reads this before creating the package's main cluster; keep it from creating one.
CREATECLUSTER=/etc/postgresql-common/createcluster.conf
if [ ! -e "$CREATECLUSTER" ]; then
  "${SUDO[@]}" mkdir -p /etc/postgresql-common
  echo "create_main_cluster = false" | "${SUDO[@]}" tee "$CREATECLUSTER" >/dev/null
fi

apt_install ensure-postgres postgresql "the storage tests need initdb, pg_ctl and postgres" -o Dpkg::Options::=--force-confold

if ! find_initdb; then
  echo "ensure-postgres: the postgresql package installed, but initdb is still missing." >&2
  exit 1
fi

echo "ensure-postgres: installed $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -n 1)." >&2
