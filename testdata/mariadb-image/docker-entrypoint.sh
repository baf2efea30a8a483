#!/bin/bash
# The environment contract of the official mariadb image, kept small:
# MARIADB_ROOT_PASSWORD / MYSQL_ROOT_PASSWORD, MARIADB_ALLOW_EMPTY_ROOT_PASSWORD,
# MARIADB_DATABASE / MYSQL_DATABASE, MARIADB_USER / MYSQL_USER,
# MARIADB_PASSWORD / MYSQL_PASSWORD, and /docker-entrypoint-initdb.d/*
# (.sql, .sql.gz, .sh) run once, when the datadir is empty.
set -euo pipefail

if [[ ${1:-} == -* ]]; then
  set -- mariadbd "$@"
fi
if [[ ${1:-} != mariadbd && ${1:-} != mysqld ]]; then
  exec "$@"
fi

datadir=/var/lib/mysql
socket=/run/mysqld/mysqld.sock
mkdir -p /run/mysqld
chown mysql:mysql /run/mysqld "$datadir"

root_password=${MARIADB_ROOT_PASSWORD:-${MYSQL_ROOT_PASSWORD:-}}
allow_empty=${MARIADB_ALLOW_EMPTY_ROOT_PASSWORD:-${MYSQL_ALLOW_EMPTY_PASSWORD:-}}
database=${MARIADB_DATABASE:-${MYSQL_DATABASE:-}}
user=${MARIADB_USER:-${MYSQL_USER:-}}
password=${MARIADB_PASSWORD:-${MYSQL_PASSWORD:-}}

note() { echo "docker-entrypoint: $*" >&2; }

sql_escape() { printf '%s' "$1" | sed "s/\\\\/\\\\\\\\/g; s/'/\\\\'/g"; }

if [[ ! -d $datadir/mysql ]]; then
  if [[ -z $root_password && -z $allow_empty ]]; then
    note "database is uninitialized and no root password is set: give MARIADB_ROOT_PASSWORD (or MYSQL_ROOT_PASSWORD) or MARIADB_ALLOW_EMPTY_ROOT_PASSWORD=1"
    exit 1
  fi
  note "initializing $datadir"
  mariadb-install-db --user=mysql --datadir="$datadir" --skip-test-db \
    --auth-root-authentication-method=normal >/dev/null
  "$@" --user=mysql --skip-networking --socket="$socket" &
  pid=$!
  for _ in $(seq 1 60); do
    mariadb-admin --socket="$socket" -uroot ping >/dev/null 2>&1 && break
    sleep 0.5
  done
  run_sql() { mariadb --protocol=socket --socket="$socket" -uroot "$@"; }
  rp=$(sql_escape "$root_password")
  {
    echo "SET @@SESSION.SQL_LOG_BIN=0;"
    echo "DELETE FROM mysql.user WHERE user='' OR (user='root' AND host NOT IN ('localhost'));"
    echo "ALTER USER 'root'@'localhost' IDENTIFIED BY '$rp';"
    echo "CREATE USER 'root'@'%' IDENTIFIED BY '$rp';"
    echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
    if [[ -n $database ]]; then
      echo "CREATE DATABASE IF NOT EXISTS \`$database\`;"
    fi
    if [[ -n $user && -n $password ]]; then
      echo "CREATE USER '$(sql_escape "$user")'@'%' IDENTIFIED BY '$(sql_escape "$password")';"
      if [[ -n $database ]]; then
        echo "GRANT ALL ON \`$database\`.* TO '$(sql_escape "$user")'@'%';"
      fi
    fi
    echo "FLUSH PRIVILEGES;"
  } | run_sql
  export MYSQL_PWD=$root_password
  for f in /docker-entrypoint-initdb.d/*; do
    [[ -e $f ]] || continue
    note "running $f"
    case $f in
      *.sh) . "$f" ;;
      *.sql) run_sql -uroot ${database:+"$database"} <"$f" ;;
      *.sql.gz) gunzip -c "$f" | run_sql -uroot ${database:+"$database"} ;;
      *.sql.zst) zstd -dc "$f" | run_sql -uroot ${database:+"$database"} ;;
      *) note "ignoring $f" ;;
    esac
  done
  unset MYSQL_PWD
  mariadb-admin --socket="$socket" -uroot --password="$root_password" shutdown
  wait "$pid" || true
  note "initialization done"
fi

exec "$@" --user=mysql
