#!/bin/bash
# The environment contract of the official postgres image, kept small:
# POSTGRES_PASSWORD (required unless POSTGRES_HOST_AUTH_METHOD=trust),
# POSTGRES_USER (default postgres), POSTGRES_DB (default the user),
# POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD (default scram-sha-256),
# PGDATA (default /var/lib/postgresql/data), and
# /docker-entrypoint-initdb.d/* (.sh, .sql, .sql.gz, .sql.zst) run once, when
# the data directory is empty. Arguments starting with "-" are postgres's
# (command: ["-c", "fsync=off"]); a command "postgres ..." runs the server
# with them (command: postgres -c fsync=off); anything else is exec'd as is.
set -euo pipefail

if [[ ${1:-} == -* ]]; then
  set -- postgres "$@"
fi
if [[ ${1:-} != postgres ]]; then
  exec "$@"
fi

export PGDATA=${PGDATA:-/var/lib/postgresql/data}

note() { echo "docker-entrypoint: $*" >&2; }

# As root: own the data and socket directories, then run this script again
# as the postgres user (setpriv execs in place: postgres stays PID 1).
if [[ $(id -u) == 0 ]]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA"
  chown postgres:postgres /var/run/postgresql
  chmod 0700 "$PGDATA"
  chmod 3777 /var/run/postgresql
  HOME=/var/lib/postgresql exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
fi

if [[ ! -s $PGDATA/PG_VERSION ]]; then
  user=${POSTGRES_USER:-postgres}
  db=${POSTGRES_DB:-$user}
  auth=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
  if [[ -z ${POSTGRES_PASSWORD:-} && $auth != trust ]]; then
    note "database is uninitialized and no password is set: give POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust to allow every connection without one)"
    exit 1
  fi
  note "initializing $PGDATA"
  # The password reaches initdb through a pipe, never a command line.
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is words, as upstream
  initdb --username="$user" --pwfile=<(printf '%s\n' "${POSTGRES_PASSWORD:-}") \
    ${POSTGRES_INITDB_ARGS:-} >/dev/null
  # As upstream: trust on the socket (docker exec psql needs no password),
  # the chosen method from anywhere else.
  printf '\nhost all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"
  printf "\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"

  # A server on the socket only, for the database and the init scripts.
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w -t 120 start >/dev/null
  psql_init() { psql -v ON_ERROR_STOP=1 --no-psqlrc --username="$user" --dbname=postgres -q "$@"; }
  if [[ $db != postgres ]]; then
    exists=$(psql_init -tA -v db="$db" <<<"SELECT 1 FROM pg_database WHERE datname = :'db'")
    if [[ -z $exists ]]; then
      psql_init -v db="$db" <<<'CREATE DATABASE :"db";'
    fi
  fi
  export PGUSER=$user PGDATABASE=$db
  for f in /docker-entrypoint-initdb.d/*; do
    [[ -e $f ]] || continue
    note "running $f"
    case $f in
      *.sh) . "$f" ;;
      *.sql) psql_init --dbname="$db" -f "$f" ;;
      *.sql.gz) gunzip -c "$f" | psql_init --dbname="$db" ;;
      *.sql.zst) zstd -dc "$f" | psql_init --dbname="$db" ;;
      *) note "ignoring $f" ;;
    esac
  done
  unset PGUSER PGDATABASE
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  note "initialization done"
fi

exec "$@"
