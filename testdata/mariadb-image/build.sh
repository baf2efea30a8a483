#!/usr/bin/env bash
# Makes the MariaDB image the tests and the demo run, without a registry.
#
# Order: an image already tagged $DR_TEST_IMAGE wins (so a second run costs
# nothing); then the official mariadb:10.11 if present or pullable; otherwise
# a Debian root filesystem is bootstrapped from the mirror this machine's apt
# sources already use (read here at run time, never written into the repo),
# mariadb-server is installed into it, the entrypoint below (the official
# image's environment contract) is added, and the result is `docker import`ed.
set -euo pipefail

image=${DR_TEST_IMAGE:-dr-test/mariadb:10.11}
official=${DR_OFFICIAL_IMAGE:-mariadb:10.11}
here=$(cd "$(dirname "$0")" && pwd)

log() { printf 'mariadb-image: %s\n' "$*" >&2; }

if docker image inspect "$image" >/dev/null 2>&1; then
  log "$image is present; nothing to do"
  exit 0
fi

if docker image inspect "$official" >/dev/null 2>&1 || timeout 30 docker pull "$official" >/dev/null 2>&1; then
  docker tag "$official" "$image"
  log "tagged $official as $image"
  exit 0
fi

# shellcheck source=../apt-mirror.sh
source "$here/../apt-mirror.sh"
read -r mirror suite < <(apt_mirror | head -n 1) || true
if [[ -z ${mirror:-} || -z ${suite:-} ]]; then
  echo "mariadb-image: no Debian mirror found in /etc/apt/sources.list or /etc/apt/sources.list.d/*.sources; add one or load $official with docker load" >&2
  exit 1
fi
command -v debootstrap >/dev/null || { echo "mariadb-image: debootstrap is missing; apt-get install debootstrap" >&2; exit 1; }

work=$(mktemp -d /tmp/dr-mariadb-rootfs.XXXXXX)
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs
log "bootstrapping $suite with mariadb-server (about a minute)"
debootstrap --variant=minbase --include=mariadb-server,mariadb-client \
  "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  exit 1
}

install -m 0755 "$here/docker-entrypoint.sh" "$rootfs/usr/local/bin/docker-entrypoint.sh"
mkdir -p "$rootfs/docker-entrypoint-initdb.d" "$rootfs/run/mysqld"
chroot "$rootfs" chown mysql:mysql /run/mysqld /var/lib/mysql
# The official image keeps its datadir empty until first start.
rm -rf "${rootfs:?}/var/lib/mysql/"*
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
# Listen on every interface as the official image does (the default Debian
# config binds 127.0.0.1 only).
printf '[mariadbd]\nbind-address = 0.0.0.0\nskip-name-resolve\n' >"$rootfs/etc/mysql/mariadb.conf.d/99-dr-test.cnf"

tar -C "$rootfs" -c . | docker import \
  --change 'ENTRYPOINT ["docker-entrypoint.sh"]' \
  --change 'CMD ["mariadbd"]' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'VOLUME /var/lib/mysql' \
  --change 'EXPOSE 3306' \
  - "$image" >/dev/null
log "built $image"
