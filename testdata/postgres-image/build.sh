#!/usr/bin/env bash
# Makes the PostgreSQL image the tests run, without a registry, as
# testdata/mariadb-image/build.sh makes the MariaDB one. Prints the image's
# tag (dr-test/postgres:<major>, the major of this machine's Debian release)
# on stdout; everything else goes to stderr.
#
# Order: an image already tagged so wins (a second run costs nothing); then
# the official postgres:<major> if present or pullable; otherwise a Debian
# root filesystem of this machine's release is bootstrapped from the mirror
# its apt sources already use (read here at run time, never written into the
# repo), postgresql is installed into it, the entrypoint beside this script
# (the official image's environment contract) is added, and the result is
# `docker import`ed. DR_TEST_PG_IMAGE names the tag instead.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)

log() { printf 'postgres-image: %s\n' "$*" >&2; }

# shellcheck source=../apt-mirror.sh
source "$here/../apt-mirror.sh"
read -r mirror suite < <(apt_mirror | head -n 1) || true

# The PostgreSQL major of that release: what this machine's apt would install
# ("15+248" → 15), else the release's known major, else found after the
# build in the root filesystem.
major=
if [[ -n ${suite:-} ]]; then
  major=$(apt-cache policy postgresql 2>/dev/null | awk '$1=="Candidate:" && $2 ~ /^[0-9]+\+/ {split($2, v, "+"); print v[1]; exit}' || true)
  if [[ -z $major ]]; then
    case $suite in
      bullseye) major=13 ;;
      bookworm) major=15 ;;
      trixie) major=17 ;;
    esac
  fi
fi

image=${DR_TEST_PG_IMAGE:-}
if [[ -z $image && -n $major ]]; then
  image=dr-test/postgres:$major
fi

if [[ -n $image ]] && docker image inspect "$image" >/dev/null 2>&1; then
  log "$image is present; nothing to do"
  echo "$image"
  exit 0
fi

if [[ -n $major ]]; then
  official=${DR_OFFICIAL_PG_IMAGE:-postgres:$major}
  if docker image inspect "$official" >/dev/null 2>&1 || timeout 30 docker pull "$official" >/dev/null 2>&1; then
    docker tag "$official" "$image"
    log "tagged $official as $image"
    echo "$image"
    exit 0
  fi
fi

if [[ -z ${mirror:-} || -z ${suite:-} ]]; then
  echo "postgres-image: no Debian mirror found in /etc/apt/sources.list or /etc/apt/sources.list.d/*.sources; add one or load postgres:<major> with docker load" >&2
  exit 1
fi
command -v debootstrap >/dev/null || { echo "postgres-image: debootstrap is missing; apt-get install debootstrap" >&2; exit 1; }

work=$(mktemp -d /tmp/dr-postgres-rootfs.XXXXXX)
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs
log "bootstrapping $suite with postgresql (a minute or two)"
# postgresql-common's wrappers in /usr/bin need perl; the versioned bin
# directory goes first on PATH below, so pg_dump and friends are the real
# binaries either way. Since PostgreSQL 10, Debian's postgresql-<major>
# carries the contrib modules (amcheck among them): no postgresql-contrib.
debootstrap --variant=minbase --include=postgresql \
  "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  exit 1
}

found=$(cd "$rootfs/usr/lib/postgresql" && ls -d [0-9]* | sort -n | tail -n 1)
if [[ -z $found || ! -x $rootfs/usr/lib/postgresql/$found/bin/postgres ]]; then
  echo "postgres-image: the bootstrapped system has no /usr/lib/postgresql/<major>/bin/postgres" >&2
  exit 1
fi
if [[ -n $major && $found != "$major" ]]; then
  echo "postgres-image: expected PostgreSQL $major for $suite, the bootstrap installed $found" >&2
  exit 1
fi
major=$found
image=${image:-dr-test/postgres:$major}
amcheck=$rootfs/usr/share/postgresql/$major/extension/amcheck.control
[[ -f $amcheck ]] || log "warning: no amcheck extension in postgresql-$major"

install -m 0755 "$here/docker-entrypoint.sh" "$rootfs/usr/local/bin/docker-entrypoint.sh"
mkdir -p "$rootfs/docker-entrypoint-initdb.d" "$rootfs/var/run/postgresql" "$rootfs/var/lib/postgresql/data"
# The package's postinst made a cluster (/etc/postgresql/<major>/main); the
# official image has none and keeps its data directory empty until the
# first start.
rm -rf "${rootfs:?}/etc/postgresql/$major" "${rootfs:?}/var/lib/postgresql/$major"
chroot "$rootfs" chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
chmod 3777 "$rootfs/var/run/postgresql"
chmod 0700 "$rootfs/var/lib/postgresql/data"
# Smaller: no package lists, cached debs, docs, manuals or translations.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
  "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
  "$rootfs"/usr/share/locale/* "$rootfs"/var/cache/debconf/*-old \
  "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/*
# No JIT: postgresql-$major pulls in LLVM and libz3 (about 130 MB) for it
# alone. Without llvmjit.so the server finds no JIT provider and runs every
# query without one, silently (jit = on stays harmless); no dump, restore or
# check needs it.
rm -rf "$rootfs/usr/lib/postgresql/$major/lib/llvmjit"* "$rootfs/usr/lib/postgresql/$major/lib/bitcode" \
  "$rootfs"/usr/lib/*/libLLVM-*.so* "$rootfs"/usr/lib/*/libz3.so*

tar -C "$rootfs" -c . | docker import \
  --change 'ENTRYPOINT ["docker-entrypoint.sh"]' \
  --change 'CMD ["postgres"]' \
  --change "ENV PATH=/usr/lib/postgresql/$major/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change 'ENV LANG=C.UTF-8' \
  --change "ENV PG_MAJOR=$major" \
  --change 'ENV PGDATA=/var/lib/postgresql/data' \
  --change 'VOLUME /var/lib/postgresql/data' \
  --change 'EXPOSE 5432' \
  - "$image-rootfs" >/dev/null
# docker import takes no STOPSIGNAL; a build FROM the imported image adds it
# (no layer, no registry): SIGINT is postgres's fast shutdown, as in the
# official image, where SIGTERM would wait for every client to leave.
printf 'FROM %s\nSTOPSIGNAL SIGINT\n' "$image-rootfs" |
  DOCKER_BUILDKIT=0 docker build -q -t "$image" - >/dev/null
docker rmi "$image-rootfs" >/dev/null
log "built $image"
echo "$image"
