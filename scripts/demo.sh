#!/usr/bin/env bash
# The demo, as an operator's first hour: an Appwrite-shaped stack (MariaDB
# with Appwrite-like tables, an "appwrite" service with its data volumes)
# is started from the test assets; dr init writes its dr.yaml, dr keygen
# makes the age key pair, dr doctor checks everything, then dr backs it up
# encrypted to a local-directory remote, lists the backups, verifies the
# newest one, restores it after a staged crisis, and ends with a restore
# drill of the backup and its report; then the same stack on PostgreSQL
# (Appwrite 1.9's other database): init, doctor, backup, a crisis, restore,
# drill. Everything lives under .demo/ and in the compose projects "drdemo"
# and "drdemopg"; `make clean` and `docker-compose -p … down -v` remove it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
demo=$root/.demo
stack=$demo/appwrite
dr=$root/bin/dr
project=${DR_DEMO_PROJECT:-drdemo}
stack_pg=$demo/appwrite-pg
project_pg=${project}pg

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

mkdir -p "$stack" "$demo/backups" "$demo/state"
# Lay the stack out as on a real Appwrite host: docker-compose.yml and .env
# side by side in one directory.
cp docker-compose.test.yml "$stack/docker-compose.yml"
cp testdata/.env "$stack/.env"
chmod 600 "$stack/.env"
mkdir -p "$stack/testdata" && rm -rf "$stack/testdata/seed" && cp -r testdata/seed "$stack/testdata/seed"

step "starting the demo stack (compose project $project)"
(cd "$stack" && docker-compose -p "$project" up -d)
container=$(docker ps -q --filter "label=com.docker.compose.project=$project" --filter "label=com.docker.compose.service=mariadb")
printf 'waiting for MariaDB to accept connections and finish seeding'
for _ in $(seq 1 120); do
  # The entrypoint's first-run server listens on the socket only; TCP
  # answers once the seed is in.
  if docker exec "$container" sh -c 'MYSQL_PWD="$MYSQL_ROOT_PASSWORD" exec mariadb-admin --protocol=tcp -h127.0.0.1 -uroot ping' >/dev/null 2>&1; then
    break
  fi
  printf '.'
  sleep 1
done
# The appwrite service fills its empty volumes on first start, then marks it.
app=$(docker ps -q --filter "label=com.docker.compose.project=$project" --filter "label=com.docker.compose.service=appwrite")
for _ in $(seq 1 60); do
  docker exec "$app" test -f /tmp/dr-seeded 2>/dev/null && break
  sleep 1
done
echo

step "dr init: find the stack and write its dr.yaml"
# --force: the demo may run again over its own file. state_dir stays under
# .demo through the environment instead of /var/lib/dr.
export DR_STATE_DIR=$demo/state
"$dr" init --project "$project" --remote "$demo/backups" --out "$demo/dr.yaml" --force
export DR_CONFIG=$demo/dr.yaml
# The demo's retention keeps the five newest; dr init writes seven.
sed -i 's/keep_last: 7$/keep_last: 5/' "$demo/dr.yaml"
sed -n '1,/^destinations:/p' "$demo/dr.yaml"

step "dr keygen: the age key pair backups are encrypted to"
# dr keygen never replaces an identity; the demo's own is made fresh.
rm -f "$demo/key.txt"
"$dr" keygen --out "$demo/key.txt" | tee "$demo/keygen.out"
recipient=$(grep -o 'age1[0-9a-z]*' "$demo/keygen.out" | head -n 1)
sed -i "s/^  recipients: \[\]/  recipients: [$recipient]/" "$demo/dr.yaml"
# Restores and verification read the identity from here (on a real host
# it lives elsewhere, brought in only for a restore).
export DR_IDENTITY=$demo/key.txt

step "dr doctor -i key.txt: every check, with the fix for each failure"
"$dr" doctor -i "$demo/key.txt"

step "dr config check"
"$dr" config check

step "the stack dr discovers (dr backup --dry-run)"
docker ps --filter "label=com.docker.compose.project=$project" --format 'table {{.Names}}\t{{.Image}}\t{{.Status}}'
"$dr" backup --dry-run

step "dr backup (encrypted to the recipient dr keygen printed)"
"$dr" backup

step "dr list"
"$dr" list

step "dr verify --latest"
"$dr" verify --latest

step "the archive opens with standard tools (age, zstd, tar)"
latest=$(ls -t "$demo"/backups/*.tar.zst.age | head -n 1)
age -d -i "$demo/key.txt" "$latest" | tar --zstd -tv | sed -n '1,20p'  # sed reads it all: head would end tar with SIGPIPE

step "a crisis: a table dropped, rows deleted, files gone from a volume"
docker exec "$container" sh -c 'MYSQL_PWD="$MYSQL_ROOT_PASSWORD" mariadb -uroot -e "DROP TABLE appwrite._1_sessions_perms; DELETE FROM appwrite._1_users LIMIT 10"'
docker exec "$app" rm -rf /storage/uploads/app-console/bucket1

step "dr restore --latest --dry-run (the plan)"
"$dr" restore --latest --dry-run

step "dr restore --latest --yes"
"$dr" restore --latest --yes

step "dr prune --dry-run (retention: keep_last 5)"
"$dr" prune --dry-run

step "dr runbook list"
"$dr" runbook list

step "dr daemon: one backup on schedule.backup (every minute here), then /metrics and dr status"
# Environment overrides, so dr init's dr.yaml stays as written.
listen=127.0.0.1:19477
export DR_SCHEDULE_BACKUP='* * * * *' DR_HTTP_LISTEN=$listen
"$dr" daemon 2>"$demo/daemon.log" &
daemon=$!
for _ in $(seq 1 90); do
  grep -q '"msg":"job finished"' "$demo/daemon.log" && break
  sleep 1
done
grep -E '"msg":"(daemon started|job started|job finished)"' "$demo/daemon.log"
curl -fsS "http://$listen/healthz"
curl -fsS "http://$listen/metrics" | grep -E '^dr_(job_last|backup|destination|healthy)'
"$dr" status
kill -TERM "$daemon"
wait "$daemon" && echo "dr daemon stopped on SIGTERM, exit 0"
unset DR_SCHEDULE_BACKUP DR_HTTP_LISTEN

step "dr drill --latest (restore into a throwaway container, check row for row)"
"$dr" drill --latest

step "the drill report, written once beside the backup"
report=$(ls -t "$demo"/backups/*.drill-*.json | head -n 1)
echo "$report"
cat "$report"

step "dr list (with the last drill)"
"$dr" list

step "the same on PostgreSQL: Appwrite 1.9's other database (compose project $project_pg)"
# The same Appwrite-shaped stack with a postgresql service (volume
# appwrite-postgresql, fsync off as Appwrite's compose file sets it), its
# own dr.yaml and backups, the same age key.
mkdir -p "$stack_pg" "$demo/backups-pg" "$demo/state-pg"
cp docker-compose.test-postgres.yml "$stack_pg/docker-compose.yml"
cp testdata/postgres.env "$stack_pg/.env"
chmod 600 "$stack_pg/.env"
mkdir -p "$stack_pg/testdata" && rm -rf "$stack_pg/testdata/seed-postgres" && cp -r testdata/seed-postgres "$stack_pg/testdata/seed-postgres"
(cd "$stack_pg" && docker-compose -p "$project_pg" up -d)
pg=$(docker ps -q --filter "label=com.docker.compose.project=$project_pg" --filter "label=com.docker.compose.service=postgresql")
printf 'waiting for PostgreSQL to accept connections and finish seeding'
for _ in $(seq 1 120); do
  # TCP answers once the entrypoint's first-run server (socket only) ran the seed.
  docker exec "$pg" sh -c 'exec pg_isready -q -h 127.0.0.1 -U "$POSTGRES_USER"' >/dev/null 2>&1 && break
  printf '.'
  sleep 1
done
app_pg=$(docker ps -q --filter "label=com.docker.compose.project=$project_pg" --filter "label=com.docker.compose.service=appwrite")
for _ in $(seq 1 60); do
  docker exec "$app_pg" test -f /tmp/dr-seeded 2>/dev/null && break
  sleep 1
done
echo
export DR_STATE_DIR=$demo/state-pg DR_CONFIG=$demo/dr-pg.yaml
"$dr" init --project "$project_pg" --remote "$demo/backups-pg" --out "$demo/dr-pg.yaml" --force
sed -i "s/^  recipients: \[\]/  recipients: [$recipient]/" "$demo/dr-pg.yaml"

step "dr doctor on PostgreSQL: passes, and warns about Appwrite's fsync=off"
"$dr" doctor -i "$demo/key.txt"

step "dr backup (pg_dump through the Docker API, same archive, same encryption)"
"$dr" backup

step "a crisis on PostgreSQL: a table dropped, rows deleted"
docker exec "$pg" sh -c 'psql -X -q -U "$POSTGRES_USER" -d appwrite -c "DROP TABLE \"_1_sessions_perms\"; DELETE FROM \"_1_users\" WHERE \"_id\" <= 10"'

step "dr restore --latest --yes (the current database renamed aside first)"
"$dr" restore --latest --yes

step "dr aside list (dr aside undo would bring the pre-restore database back)"
"$dr" aside list

step "dr drill --latest (a throwaway container of the stack's own PostgreSQL image)"
"$dr" drill --latest

export DR_STATE_DIR=$demo/state DR_CONFIG=$demo/dr.yaml

echo
echo "Restoring the database by hand, without dr (docs/emergency.md: \"restoring by hand\"):"
echo "  age -d -i $demo/key.txt $latest \\"
echo "    | tar --zstd -xO --wildcards 'db/dump.sql.*' \\"
echo "    | docker exec -i $container sh -c 'MYSQL_PWD=\"\$MYSQL_ROOT_PASSWORD\" exec mariadb -uroot --max-allowed-packet=1G --binary-mode'"
echo "  (rows over 16 MiB: SET GLOBAL max_allowed_packet=1073741824 first, and back after)"
echo
echo "Demo done. Backups are in $demo/backups and $demo/backups-pg; the stacks run as compose projects $project and $project_pg."
echo "Remove them with: (cd $stack && docker-compose -p $project down -v) && (cd $stack_pg && docker-compose -p $project_pg down -v) && make clean"
