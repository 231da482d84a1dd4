#!/usr/bin/env bash
# Makes sure redis-server is installed for the cluster tests, which start private instances of their
# own (signaling-server/test/support/private-redis.ts). Installs Debian's redis-server package with
# apt if missing; never downloads Redis any other way. The package starts a system instance on 6379,
# which the tests never use, so it is stopped and disabled after the install where systemctl or
# service exists.
set -euo pipefail

find_redis() {
  if [ -n "${GMNET_REDIS_SERVER:-}" ] && [ -x "$GMNET_REDIS_SERVER" ]; then
    return 0
  fi
  command -v redis-server >/dev/null 2>&1
}

if find_redis; then
  exit 0
fi

source "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh"
apt_prepare ensure-redis redis-server redis-server "install redis-server yourself, or point GMNET_REDIS_SERVER at the redis-server binary."
apt_install ensure-redis redis-server "the cluster tests need it" -o Dpkg::Options::=--force-confold

# The package's own instance on 6379 is not wanted: stop it and keep it from starting at boot.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  "${SUDO[@]}" systemctl stop redis-server >/dev/null 2>&1 || true
  "${SUDO[@]}" systemctl disable redis-server >/dev/null 2>&1 || true
elif command -v service >/dev/null 2>&1; then
  "${SUDO[@]}" service redis-server stop >/dev/null 2>&1 || true
  if command -v update-rc.d >/dev/null 2>&1; then
    "${SUDO[@]}" update-rc.d redis-server disable >/dev/null 2>&1 || true
  fi
fi

if ! find_redis; then
  echo "ensure-redis: the redis-server package installed, but redis-server is still missing." >&2
  exit 1
fi

echo "ensure-redis: installed $(command -v redis-server)." >&2
