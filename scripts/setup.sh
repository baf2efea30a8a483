#!/usr/bin/env bash
# Brings a fresh Debian machine (as root) to where dr's demo and tests run:
# the packages, a running Docker engine, and the test MariaDB and PostgreSQL
# images.
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
command -v jq >/dev/null || need+=(jq)
command -v tar >/dev/null || need+=(tar)
command -v curl >/dev/null || need+=(curl)
# make test renders the daemon's status page in headless Chromium.
command -v chromium >/dev/null || need+=(chromium)
# The malware scan tests start clamd with a signature database that
# sigtool makes at test time.
[[ -x /usr/sbin/clamd ]] || command -v clamd >/dev/null || need+=(clamav-daemon)
command -v sigtool >/dev/null || need+=(clamav)
command -v clamdscan >/dev/null || need+=(clamdscan)
if ((${#need[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing ${need[*]}; run as root or install them: apt-get install ${need[*]}" >&2
    exit 1
  fi
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
# dr's tests run their own clamd; the packages' daemons are not needed,
# and freshclam would try to download definitions.
for svc in clamav-freshclam clamav-daemon; do
  if [[ -x /etc/init.d/$svc && $(id -u) -eq 0 ]]; then /etc/init.d/$svc stop >/dev/null 2>&1 || true; fi
done

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
# It prints the image's name, which setup has no use for.
bash testdata/postgres-image/build.sh >/dev/null
