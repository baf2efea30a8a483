#!/usr/bin/env bash
# Brings a fresh Debian machine (as root) to where dr's demo and tests run:
# the packages, a running Docker engine, and the test MariaDB image.
# Each step is skipped when already done, so it costs little on a second run.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH

log() { printf 'setup: %s\n' "$*" >&2; }

need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v docker-compose >/dev/null || need+=(docker-compose)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v zstd >/dev/null || need+=(zstd)
command -v age >/dev/null || need+=(age)
command -v zip >/dev/null || need+=(zip)
command -v tar >/dev/null || need+=(tar)
command -v curl >/dev/null || need+=(curl)
# make test renders the daemon's status page in headless Chromium.
command -v chromium >/dev/null || need+=(chromium)
if ((${#need[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing ${need[*]}; run as root or install them: apt-get install ${need[*]}" >&2
    exit 1
  fi
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  log "no Docker engine answers; starting dockerd (log: /var/log/dr-dockerd.log)"
  nohup dockerd >/var/log/dr-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  if ! docker info >/dev/null 2>&1; then
    echo "setup: dockerd did not come up within 60 s; its log ends with:" >&2
    tail -n 30 /var/log/dr-dockerd.log >&2
    exit 1
  fi
fi

bash testdata/mariadb-image/build.sh
