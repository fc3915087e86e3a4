#!/usr/bin/env bash
# Local infrastructure and services without Docker: a private PostgreSQL
# cluster (Debian's package), a single-node KRaft Kafka broker (jars from Maven
# Central), the development token issuer, notify's development mail server and
# SMS gateway (docs/notify-local.md) and the five services. Everything
# lives in the git-ignored run folder .run/ and is stopped by pid.
#
#   deploy/omsorg.sh install | up | down | status | test [pytest args] | infra-up | migrate
#   deploy/omsorg.sh services-up | services-down | kafka-up | kafka-down | pg-down | cluster-down | kafka-controller
#   deploy/omsorg.sh reload [service ...] | pg-restart
#
# Options (environment), all off by default (docs/drills.md):
#   OMSORG_KAFKA_BROKERS=3   a local three-node KRaft cluster instead of the one
#                            broker (replication factor 3, min.insync.replicas=2)
#   OMSORG_WORKERS=N         N uvicorn worker processes per service under uvicorn's
#                            supervisor (OMSORG_WORKERS_INTAKE=N etc. per service)
#
# The Makefile, `make test` and CI all go through this one script.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUN="$ROOT/.run"
LOGS="$RUN/logs"
PIDS="$RUN/pids"
VENV="$ROOT/.venv"
KAFKA_LIBS="$ROOT/deploy/kafka/target/dependency"
SERVICES=(intake casework messaging provider notify)

PG_PORT=55432
KAFKA_PORT=59092
ISSUER_PORT=8100
declare -A SERVICE_PORT=([intake]=8101 [casework]=8102 [messaging]=8103 [provider]=8104 [notify]=8105)
# Notify's development counterparts (notify.local; they refuse production):
# devmail speaks SMTP on 2525 and lists what it received on 8106, devsms speaks
# 46elks' SMS API on 8107 and posts delivery reports back to notify.
COUNTERPARTS=(devmail devsms)
DEVMAIL_SMTP_PORT=2525
DEVMAIL_HTTP_PORT=8106
DEVSMS_PORT=8107
declare -A COUNTERPART_HEALTH=([devmail]="http://127.0.0.1:$DEVMAIL_HTTP_PORT/health"
  [devsms]="http://127.0.0.1:$DEVSMS_PORT/health")
# Development credentials only: notify refuses them in production.
DEV_SMTP_USER=omsorg DEV_SMTP_PASSWORD=omsorg-dev-mail
DEV_SMS_USER=omsorg DEV_SMS_PASSWORD=omsorg-dev-sms
DEV_CALLBACK_USER=gateway DEV_CALLBACK_PASSWORD=omsorg-dev-callback
# Notify's timing for a local run (production keeps notify.config's defaults:
# 300 s coalescing, quiet hours 21:00-08:00, retries from 30 s up to 30 min):
# a short coalescing window, no quiet hours (start = end) and quick retries, so
# a developer at night and the journey tests see alerts at once and an outage
# drill drains within a minute. The rules themselves are tested with an
# injectable clock (services/notify/tests/). Override any of them here.
NOTIFY_COALESCE_WINDOW_SECONDS=${NOTIFY_COALESCE_WINDOW_SECONDS:-5}
NOTIFY_QUIET_HOURS_START=${NOTIFY_QUIET_HOURS_START:-00:00}
NOTIFY_QUIET_HOURS_END=${NOTIFY_QUIET_HOURS_END:-00:00}
NOTIFY_RETRY_BASE_SECONDS=${NOTIFY_RETRY_BASE_SECONDS:-2}
NOTIFY_RETRY_MAX_SECONDS=${NOTIFY_RETRY_MAX_SECONDS:-60}
BIND_HOST=${OMSORG_BIND_HOST:-127.0.0.1}

# Every process refuses to start unless told its environment; this script runs
# development (the e-ID simulator, the development token issuer) explicitly.
export OMSORG_ENVIRONMENT=${OMSORG_ENVIRONMENT:-development}
# Intake's login limits per client address: every local test logs in from 127.0.0.1.
export INTAKE_LOGIN_START_BURST=${INTAKE_LOGIN_START_BURST:-50}
export INTAKE_LOGIN_START_PER_MINUTE=${INTAKE_LOGIN_START_PER_MINUTE:-300}
export INTAKE_LOGIN_COLLECT_BURST=${INTAKE_LOGIN_COLLECT_BURST:-150}
export INTAKE_LOGIN_COLLECT_PER_MINUTE=${INTAKE_LOGIN_COLLECT_PER_MINUTE:-1500}
export INTAKE_LOGIN_PURGE_INTERVAL_SECONDS=${INTAKE_LOGIN_PURGE_INTERVAL_SECONDS:-2}
# Set by the caller, or what runs (see kafka_bootstrap, after the process helpers).
KAFKA_BOOTSTRAP_GIVEN=${KAFKA_BOOTSTRAP_SERVERS:-}
export OMSORG_ISSUER_URL=${OMSORG_ISSUER_URL:-http://127.0.0.1:$ISSUER_PORT}
# The citizens' e-ID login: intake signs their tokens as this issuer.
export OMSORG_CITIZEN_ISSUER_URL=${OMSORG_CITIZEN_ISSUER_URL:-http://127.0.0.1:${SERVICE_PORT[intake]}/auth}

log() { printf '[omsorg] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }

# One database per service, with two roles: <svc>_owner owns the database and
# its tables and runs the migrations; <svc>, what the service connects as, may
# only read and write rows (and only INSERT/SELECT the audit log; docs/audit.md).
# Tests that bring their own PostgreSQL (testcontainers) set
# OMSORG_DATABASE_URL_PATTERN and OMSORG_MIGRATION_URL_PATTERN, {name} standing
# for the service.
DATABASE_URL_PATTERN="postgresql+asyncpg://{name}@127.0.0.1:$PG_PORT/{name}"
MIGRATION_URL_PATTERN="postgresql+asyncpg://{name}_owner@127.0.0.1:$PG_PORT/{name}"
if [ -n "${OMSORG_DATABASE_URL_PATTERN:-}" ]; then
  DATABASE_URL_PATTERN=$OMSORG_DATABASE_URL_PATTERN
  MIGRATION_URL_PATTERN=${OMSORG_MIGRATION_URL_PATTERN:-$OMSORG_DATABASE_URL_PATTERN}
fi
database_url() { local placeholder="{name}"; echo "${DATABASE_URL_PATTERN//"$placeholder"/$1}"; }
migration_url() { local placeholder="{name}"; echo "${MIGRATION_URL_PATTERN//"$placeholder"/$1}"; }
# The user name in a URL: scheme://user[:password]@host...
url_user() { local rest=${1#*://}; rest=${rest%%@*}; echo "${rest%%:*}"; }

# ---------------------------------------------------------------- install ---

install_python() {
  if ! command -v uv >/dev/null 2>&1; then
    log "installing uv from PyPI"
    python3 -m pip install --quiet --disable-pip-version-check uv >&2
  fi
  # --frozen: the lock file is the truth; a fresh clone gets the same versions.
  uv sync --frozen --all-packages --quiet >&2
}

pg_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

install_postgres() {
  if [ -z "$(pg_bindir)" ] || [ ! -x "$(pg_bindir)/initdb" ]; then
    log "installing PostgreSQL from Debian's packages"
    as_root apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >&2
  fi
}

install_kafka() {
  if ! ls "$KAFKA_LIBS"/kafka_2.13-*.jar >/dev/null 2>&1; then
    command -v mvn >/dev/null || die "Maven (mvn) is needed to fetch the Kafka jars"
    command -v java >/dev/null || die "Java 17+ is needed to run Kafka"
    log "fetching the Kafka broker jars from Maven Central"
    (cd "$ROOT/deploy/kafka" && mvn -q -B dependency:copy-dependencies -DincludeScope=runtime >&2)
  fi
}

cmd_install() { install_python; install_postgres; install_kafka; }

# ------------------------------------------------------------- processes ---

pid_alive() { [ -f "$PIDS/$1.pid" ] && kill -0 "$(cat "$PIDS/$1.pid")" 2>/dev/null; }

# Start a background process that never holds the caller's stdout/stderr.
spawn() {
  local name=$1; shift
  mkdir -p "$LOGS" "$PIDS"
  setsid "$@" </dev/null >>"$LOGS/$name.log" 2>&1 &
  echo $! >"$PIDS/$name.pid"
}

stop_pid() {
  local name=$1
  if pid_alive "$name"; then
    local pid; pid=$(cat "$PIDS/$name.pid")
    kill -TERM "$pid" 2>/dev/null || true
    # 30 s: the HTTP drain (10 s), then consumers' last batch and the relay's last pass.
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    # Still there: kill its whole process group (spawn's setsid made it the
    # leader), so a uvicorn supervisor's workers do not outlive it on the port.
    if kill -0 "$pid" 2>/dev/null; then kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; fi
    log "stopped $name"
  fi
  rm -f "$PIDS/$name.pid"
}

wait_http() {
  local url=$1 name=$2 tries=${3:-120}
  for _ in $(seq 1 "$tries"); do
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then return 0; fi
    sleep 0.5
  done
  log "$name did not answer $url; last lines of $LOGS/$name.log:"
  tail -n 30 "$LOGS/$name.log" >&2 || true
  return 1
}

# ------------------------------------------------------------- postgres ---

# PostgreSQL refuses to run as root; as root we run it as the 'postgres' user.
# That user must reach the data folder, which a private (0700) clone may
# forbid; then the data lives in /var/tmp and .run/pg links to it.
PG_OS_USER=""
[ "$(id -u)" -eq 0 ] && PG_OS_USER=postgres
pg_run() { if [ -n "$PG_OS_USER" ]; then runuser -u "$PG_OS_USER" -- "$@"; else "$@"; fi; }

pg_prepare_dir() {
  mkdir -p "$RUN"
  if [ -e "$RUN/pg" ]; then return; fi
  if [ -n "$PG_OS_USER" ] && ! runuser -u postgres -- test -x "$RUN"; then
    local elsewhere; elsewhere="/var/tmp/omsorg-pg-$(echo "$ROOT" | md5sum | cut -c1-12)"
    rm -rf "$elsewhere"; mkdir -p "$elsewhere"; chown postgres "$elsewhere"
    ln -s "$elsewhere" "$RUN/pg"
  else
    mkdir -p "$RUN/pg"
    [ -n "$PG_OS_USER" ] && chown postgres "$RUN/pg"
  fi
}

# The real path of .run/pg: the postgres user may reach it only that way.
pg_dir() { if [ -e "$RUN/pg" ]; then readlink -f "$RUN/pg"; else echo "$RUN/pg"; fi; }

pg_running() { local PGDIR; PGDIR=$(pg_dir)
  [ -d "$PGDIR/data" ] && pg_run "$(pg_bindir)/pg_ctl" -D "$PGDIR/data" status >/dev/null 2>&1; }

pg_up() {
  pg_prepare_dir
  local PGDIR; PGDIR=$(pg_dir)
  local bin; bin=$(pg_bindir)
  if [ ! -f "$PGDIR/data/PG_VERSION" ]; then
    log "initdb into $RUN/pg/data"
    pg_run "$bin/initdb" -D "$PGDIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$RUN/pg-initdb.log" 2>&1 \
      || { cat "$RUN/pg-initdb.log" >&2; die "initdb failed"; }
    mkdir -p "$PGDIR/sock"; [ -n "$PG_OS_USER" ] && chown postgres "$PGDIR/sock"
    cat >>"$PGDIR/data/postgresql.conf" <<EOF
# Omsorg local cluster: own port, own socket folder, loopback only.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PGDIR/sock'
max_connections = 300
shared_buffers = 256MB
fsync = on
EOF
    # Trust on loopback only, for local use; nothing else may connect.
    cat >"$PGDIR/data/pg_hba.conf" <<EOF
local all all trust
host  all all 127.0.0.1/32 trust
EOF
  fi
  if ! pg_running; then
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    pg_run "$bin/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/postgres.log" -w -t 60 start >/dev/null \
      || { tail -n 30 "$PGDIR/postgres.log" >&2; die "PostgreSQL did not start"; }
  fi
  pg_databases
}

# Roles and databases, idempotent. Each service: <svc>_owner owns the database
# and runs the migrations, <svc> runs the service (grants: shared.alembic_env).
# A cluster from before that split has everything owned by <svc>: it moves to
# <svc>_owner. omsorg_test (the library tests' scratch database) keeps one role.
pg_databases() {
  local s
  for s in "${SERVICES[@]}"; do
    pg_role "$s"; pg_role "${s}_owner"
    pg_database "$s" "${s}_owner"
    if [ "$(psql_admin -tAc "select pg_get_userbyid(datdba) from pg_database where datname='$s'")" != "${s}_owner" ]
    then
      psql_on "$s" -qc "REASSIGN OWNED BY $s TO ${s}_owner" >/dev/null
      log "database $s and its tables now owned by ${s}_owner; $s keeps only grants"
    fi
  done
  pg_role omsorg_test
  pg_database omsorg_test omsorg_test
}

pg_role() {
  psql_admin -tAc "select 1 from pg_roles where rolname='$1'" | grep -q 1 && return 0
  psql_admin -qc "create role $1 login" >/dev/null
}

pg_database() {
  local name=$1 owner=$2
  psql_admin -tAc "select 1 from pg_database where datname='$name'" | grep -q 1 && return 0
  psql_admin -qc "create database $name owner $owner" >/dev/null
  # Only the owner creates objects (PostgreSQL 15's default, said explicitly).
  psql_on "$name" -qc "revoke create on schema public from public" >/dev/null
  log "created database $name"
}

psql_on() { local db=$1; shift; psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$db" -v ON_ERROR_STOP=1 "$@"; }
psql_admin() { psql_on postgres "$@"; }

pg_down() {
  local PGDIR; PGDIR=$(pg_dir)
  [ -d "$PGDIR/data" ] || return 0
  if pg_running; then
    pg_run "$(pg_bindir)/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null && log "stopped PostgreSQL"
  fi
}

# ---------------------------------------------------------------- kafka ---

# Small heap: a local broker for a handful of topics.
KAFKA_JAVA=(java -Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20
  -Dlog4j2.configurationFile="$ROOT/deploy/kafka/log4j2.properties" -Dkafka.logs.dir="$RUN/kafka/logs"
  -cp "$KAFKA_LIBS/*")
kafka_java() { "${KAFKA_JAVA[@]}" "$@"; }

# OMSORG_KAFKA_SECURITY=sasl starts the local broker with SCRAM-SHA-512
# authentication and ACLs instead (docs/kafka-security.md): its own storage and
# passwords in .run/kafka-sasl/, one principal per service, each allowed only
# its own topics. The default stays plaintext, which `make test` needs.
KAFKA_SECURITY=${OMSORG_KAFKA_SECURITY:-plaintext}
KAFKA_SASL_DIR="$RUN/kafka-sasl"
KAFKA_MODE_FILE="$RUN/kafka/mode"

# OMSORG_KAFKA_BROKERS=3: a local three-node KRaft cluster from the same jars
# instead of the one broker (docs/drills.md). Each node is broker and
# controller (a quorum of three), with its own ports and storage in
# .run/kafka-cluster/node-N, from deploy/kafka/cluster.properties.in; topics get
# replication factor 3 and min.insync.replicas=2. Its ports are its own, so
# the one broker may run beside it: the test suite's root conftest probes
# 59092 and, finding it closed, starts the local stack itself and stops all
# of it afterwards. While the cluster runs, services-up points the services
# at the cluster.
CLUSTER_NODES=(1 2 3)
declare -A CLUSTER_PORT=([1]=59192 [2]=59193 [3]=59194)
declare -A CLUSTER_CONTROLLER_PORT=([1]=59195 [2]=59196 [3]=59197)
CLUSTER_DIR="$RUN/kafka-cluster"

cluster_bootstrap() {
  local n out=()
  for n in "${CLUSTER_NODES[@]}"; do out+=("127.0.0.1:${CLUSTER_PORT[$n]}"); done
  local IFS=,; echo "${out[*]}"
}
cluster_voters() {
  local n out=()
  for n in "${CLUSTER_NODES[@]}"; do out+=("$n@127.0.0.1:${CLUSTER_CONTROLLER_PORT[$n]}"); done
  local IFS=,; echo "${out[*]}"
}
cluster_running() {
  local n
  for n in "${CLUSTER_NODES[@]}"; do pid_alive "kafka-$n" && return 0; done
  return 1
}
# 1 or 3: what OMSORG_KAFKA_BROKERS asks for, else what runs (so services-up and
# test started beside a running cluster point at the cluster), else 1.
kafka_brokers() {
  if [ -n "${OMSORG_KAFKA_BROKERS:-}" ]; then echo "$OMSORG_KAFKA_BROKERS"
  elif cluster_running; then echo 3
  else echo 1; fi
}
kafka_bootstrap() {
  if [ -n "$KAFKA_BOOTSTRAP_GIVEN" ]; then echo "$KAFKA_BOOTSTRAP_GIVEN"
  elif [ "$(kafka_brokers)" = 3 ]; then cluster_bootstrap
  else echo "127.0.0.1:$KAFKA_PORT"; fi
}
kafka_running() { pid_alive kafka || cluster_running; }

# deploy/kafka_admin.py, as the super user `admin` when SASL is on.
kafka_admin() {
  if [ "$KAFKA_SECURITY" = sasl ]; then
    env KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT KAFKA_SASL_USERNAME=admin \
      KAFKA_SASL_PASSWORD_FILE="$KAFKA_SASL_DIR/secrets/admin.password" \
      "$VENV/bin/python" "$ROOT/deploy/kafka_admin.py" "$@"
  else
    "$VENV/bin/python" "$ROOT/deploy/kafka_admin.py" "$@"
  fi
}

# A service's Kafka credentials, as <SERVICE>_KAFKA_* assignments one a line; none without SASL.
kafka_client_env() {
  [ "$KAFKA_SECURITY" = sasl ] || return 0
  local prefix; prefix=$(upper "$1")
  printf '%s\n' "${prefix}_KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT" "${prefix}_KAFKA_SASL_USERNAME=$1" \
    "${prefix}_KAFKA_SASL_PASSWORD_FILE=$KAFKA_SASL_DIR/secrets/$1.password"
}

kafka_up() {
  case "$(kafka_brokers)" in
    1) kafka_single_up ;;
    3) kafka_cluster_up ;;
    *) die "OMSORG_KAFKA_BROKERS must be 1 or 3" ;;
  esac
}

kafka_single_up() {
  case "$KAFKA_SECURITY" in plaintext | sasl) ;; *) die "OMSORG_KAFKA_SECURITY must be plaintext or sasl" ;; esac
  mkdir -p "$RUN/kafka/logs"
  local running_mode; running_mode=$(cat "$KAFKA_MODE_FILE" 2>/dev/null || echo plaintext)
  if pid_alive kafka && [ "$running_mode" != "$KAFKA_SECURITY" ]; then
    die "Kafka runs $running_mode; stop it (deploy/omsorg.sh down) before starting it $KAFKA_SECURITY"
  fi
  local properties="$RUN/kafka/server.properties"
  if [ "$KAFKA_SECURITY" = sasl ]; then
    # Passwords, server.properties (owner-only) and storage formatted with the SCRAM users.
    properties=$("$VENV/bin/python" "$ROOT/deploy/kafka_admin.py" sasl-init "$KAFKA_SASL_DIR" \
      --topics "$ROOT/deploy/topics.txt" --port "$KAFKA_PORT" --controller-port $((KAFKA_PORT + 1))) \
      || die "preparing the SASL broker failed"
  else
    sed "s|@RUN@|$RUN|g" "$ROOT/deploy/kafka/server.properties.in" >"$properties"
    if [ ! -f "$RUN/kafka/data/meta.properties" ]; then
      local cluster_id; cluster_id=$(kafka_java kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
      log "formatting Kafka storage (cluster $cluster_id)"
      kafka_java kafka.tools.StorageTool format --standalone -t "$cluster_id" \
        -c "$properties" >"$RUN/kafka/format.log" 2>&1 \
        || { cat "$RUN/kafka/format.log" >&2; die "Kafka storage format failed"; }
    fi
  fi
  if ! pid_alive kafka; then
    log "starting Kafka ($KAFKA_SECURITY) on 127.0.0.1:$KAFKA_PORT"
    echo "$KAFKA_SECURITY" >"$KAFKA_MODE_FILE"
    spawn kafka "${KAFKA_JAVA[@]}" kafka.Kafka "$properties"
  fi
  kafka_admin ready --timeout 90 \
    || { tail -n 30 "$LOGS/kafka.log" "$RUN/kafka/logs/server.log" >&2 || true; die "Kafka did not become ready"; }
  # Creates missing topics and sets the listed configs (the dead letters' retention) on existing ones.
  kafka_admin create-topics "$ROOT/deploy/topics.txt"
  if [ "$KAFKA_SECURITY" = sasl ]; then kafka_admin apply-acls "$ROOT/deploy/topics.txt"; fi
}

kafka_cluster_up() {
  [ "$KAFKA_SECURITY" = plaintext ] || die "the three-node cluster runs plaintext only; OMSORG_KAFKA_SECURITY=sasl is one broker"
  mkdir -p "$CLUSTER_DIR" "$RUN/kafka/logs"
  if [ ! -s "$CLUSTER_DIR/cluster.id" ]; then
    kafka_java kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1 >"$CLUSTER_DIR/cluster.id"
  fi
  local cluster_id; cluster_id=$(cat "$CLUSTER_DIR/cluster.id")
  local n dir voters; voters=$(cluster_voters)
  for n in "${CLUSTER_NODES[@]}"; do
    dir="$CLUSTER_DIR/node-$n"
    mkdir -p "$dir/logs"
    sed -e "s|@RUN@|$RUN|g" -e "s|@NODE@|$n|g" -e "s|@PORT@|${CLUSTER_PORT[$n]}|g" \
      -e "s|@CONTROLLER_PORT@|${CLUSTER_CONTROLLER_PORT[$n]}|g" -e "s|@VOTERS@|$voters|g" \
      "$ROOT/deploy/kafka/cluster.properties.in" >"$dir/server.properties"
    if [ ! -f "$dir/data/meta.properties" ]; then
      log "formatting Kafka node $n (cluster $cluster_id)"
      kafka_java kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" \
        >"$dir/format.log" 2>&1 || { cat "$dir/format.log" >&2; die "Kafka storage format of node $n failed"; }
    fi
  done
  for n in "${CLUSTER_NODES[@]}"; do
    pid_alive "kafka-$n" && continue
    dir="$CLUSTER_DIR/node-$n"
    log "starting Kafka node $n on 127.0.0.1:${CLUSTER_PORT[$n]} (controller ${CLUSTER_CONTROLLER_PORT[$n]})"
    spawn "kafka-$n" java -Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
      -Dlog4j2.configurationFile="$ROOT/deploy/kafka/log4j2.properties" -Dkafka.logs.dir="$dir/logs" \
      -cp "$KAFKA_LIBS/*" kafka.Kafka "$dir/server.properties"
  done
  KAFKA_BOOTSTRAP_SERVERS=$(kafka_bootstrap)
  kafka_admin ready --timeout 120 --brokers "${#CLUSTER_NODES[@]}" \
    || { tail -n 30 "$CLUSTER_DIR"/node-*/logs/server.log >&2 || true; die "the Kafka cluster did not become ready"; }
  kafka_admin create-topics "$ROOT/deploy/topics.txt" --replication 3 --min-insync-replicas 2
}

cluster_down() {
  local n
  for n in "${CLUSTER_NODES[@]}"; do stop_pid "kafka-$n"; done
}

kafka_down() { stop_pid kafka; rm -f "$KAFKA_MODE_FILE"; cluster_down; }

# ------------------------------------------------------------- services ---

# Migrations run as the owner role; afterwards the runtime role is granted
# what it needs on every table (OMSORG_RUNTIME_DB_ROLE, shared.alembic_env).
cmd_migrate() {
  # The local cluster, also one from before the owner/runtime split.
  if [ -z "${OMSORG_DATABASE_URL_PATTERN:-}" ] && pg_running 2>/dev/null; then pg_databases; fi
  local s
  for s in "${SERVICES[@]}"; do
    (cd "$ROOT/services/$s" && env "$(upper "$s")_DATABASE_URL=$(migration_url "$s")" \
      "OMSORG_RUNTIME_DB_ROLE=$(url_user "$(database_url "$s")")" \
      "$VENV/bin/alembic" -c alembic.ini upgrade head >>"$LOGS/migrate.log" 2>&1) \
      || { tail -n 30 "$LOGS/migrate.log" >&2; die "migrations of $s failed"; }
  done
  log "migrations at head"
}

upper() { echo "$1" | tr '[:lower:]' '[:upper:]'; }

# Notify's channels, pointed at devmail (STARTTLS with its own CA, and a login,
# as a municipality's relay would want) and devsms; the delivery-report URL
# carries the callback credentials as userinfo, as 46elks documents.
notify_channel_env() {
  printf '%s\n' "NOTIFY_SMTP_HOST=127.0.0.1" "NOTIFY_SMTP_PORT=$DEVMAIL_SMTP_PORT" "NOTIFY_SMTP_STARTTLS=true" \
    "NOTIFY_SMTP_CA_FILE=$RUN/devmail/ca.pem" "NOTIFY_SMTP_USERNAME=$DEV_SMTP_USER" \
    "NOTIFY_SMTP_PASSWORD=$DEV_SMTP_PASSWORD" "NOTIFY_SMS_API_URL=http://127.0.0.1:$DEVSMS_PORT/a1/sms" \
    "NOTIFY_SMS_USERNAME=$DEV_SMS_USER" "NOTIFY_SMS_PASSWORD=$DEV_SMS_PASSWORD" \
    "NOTIFY_SMS_CALLBACK_URL=http://$DEV_CALLBACK_USER:$DEV_CALLBACK_PASSWORD@127.0.0.1:${SERVICE_PORT[notify]}/sms/delivery-reports" \
    "NOTIFY_COALESCE_WINDOW_SECONDS=$NOTIFY_COALESCE_WINDOW_SECONDS" \
    "NOTIFY_QUIET_HOURS_START=$NOTIFY_QUIET_HOURS_START" "NOTIFY_QUIET_HOURS_END=$NOTIFY_QUIET_HOURS_END" \
    "NOTIFY_RETRY_BASE_SECONDS=$NOTIFY_RETRY_BASE_SECONDS" "NOTIFY_RETRY_MAX_SECONDS=$NOTIFY_RETRY_MAX_SECONDS"
}

# Before the services: notify sends to them as soon as it runs.
counterparts_up() {
  if ! pid_alive devmail; then
    spawn devmail env DEVMAIL_SMTP_PORT=$DEVMAIL_SMTP_PORT DEVMAIL_HTTP_PORT=$DEVMAIL_HTTP_PORT \
      DEVMAIL_USERNAME=$DEV_SMTP_USER DEVMAIL_PASSWORD=$DEV_SMTP_PASSWORD DEVMAIL_TLS_DIR="$RUN/devmail" \
      "$VENV/bin/python" -m notify.local.mail_server
  fi
  if ! pid_alive devsms; then
    spawn devsms env DEVSMS_PORT=$DEVSMS_PORT DEVSMS_USERNAME=$DEV_SMS_USER DEVSMS_PASSWORD=$DEV_SMS_PASSWORD \
      "$VENV/bin/python" -m notify.local.sms_gateway
  fi
  local c
  for c in "${COUNTERPARTS[@]}"; do wait_http "${COUNTERPART_HEALTH[$c]}" "$c"; done
}

# OMSORG_WORKERS_<SERVICE>, else OMSORG_WORKERS, else what the running
# services were started with (WORKERS_FILE, so a service restarted on its own
# by `services-up` keeps the shape; services-down forgets it), else 1.
WORKERS_FILE="$RUN/workers"
service_workers() {
  local var; var="OMSORG_WORKERS_$(upper "$1")"
  local n=${!var:-${OMSORG_WORKERS:-$(cat "$WORKERS_FILE" 2>/dev/null || echo 1)}}
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "$var / OMSORG_WORKERS must be a positive number, not '$n'"
  echo "$n"
}

services_up() {
  mkdir -p "$RUN/dev-issuer"
  if [ -n "${OMSORG_WORKERS:-}" ]; then echo "$OMSORG_WORKERS" >"$WORKERS_FILE"; fi
  counterparts_up
  if ! pid_alive issuer; then
    # Loopback only, whatever OMSORG_BIND_HOST says: it signs any token it is asked for.
    spawn issuer env DEV_ISSUER_KEY_FILE="$RUN/dev-issuer/key.pem" DEV_ISSUER_URL="$OMSORG_ISSUER_URL" \
      "$VENV/bin/python" -m uvicorn shared.dev_issuer.app:app --host 127.0.0.1 --port $ISSUER_PORT --no-access-log
  fi
  local s
  for s in "${SERVICES[@]}"; do
    pid_alive "$s" && continue
    local prefix; prefix=$(upper "$s")
    local own=()
    # Intake's citizen-login signing key stays in the run folder across restarts.
    if [ "$s" = intake ]; then own=("INTAKE_LOGIN_KEY_FILE=$RUN/intake/login-key.pem"); fi
    if [ "$s" = notify ]; then mapfile -t own < <(notify_channel_env); fi
    # Its own Kafka principal when OMSORG_KAFKA_SECURITY=sasl (see kafka_up).
    mapfile -t -O "${#own[@]}" own < <(kafka_client_env "$s")
    # Several workers: uvicorn's supervisor (the pid in .run/pids) restarts a
    # worker that dies and, on SIGHUP (deploy/omsorg.sh reload), replaces them
    # one by one, each new one ready before the old one stops. Each worker runs
    # the lifespan: its own consumers in the service's group and a relay, of
    # which only the holder of the advisory lock publishes. 120 s to start: a
    # new worker is ready only when its lifespan is done (Kafka connected, its
    # consumers in the group), and on SIGHUP uvicorn keeps the old worker and
    # abandons the rolling restart if the new one is not ready in time; 5 s, its
    # default, and 30 s were both too short on a busy 2-core machine (docs/drills.md).
    local workers; workers=$(service_workers "$s")
    local several=()
    if [ "$workers" -gt 1 ]; then several=(--workers "$workers" --timeout-worker-healthcheck 120); fi
    # Every node of a cluster is a bootstrap server, so a service starts while one is down.
    # On SIGTERM uvicorn drains requests in flight (at most 10 s), then the
    # lifespan stops consumers after their batch and lets the relay finish.
    spawn "$s" env "${prefix}_DATABASE_URL=$(database_url "$s")" \
      "${prefix}_KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP_SERVERS" "${prefix}_ISSUER_URL=$OMSORG_ISSUER_URL" \
      "${prefix}_CITIZEN_ISSUER_URL=$OMSORG_CITIZEN_ISSUER_URL" "${own[@]}" \
      "$VENV/bin/python" -m uvicorn "$s.app:app" --host "$BIND_HOST" --port "${SERVICE_PORT[$s]}" --no-access-log \
      --timeout-graceful-shutdown 10 "${several[@]}"
  done
  wait_http "http://127.0.0.1:$ISSUER_PORT/.well-known/openid-configuration" issuer
  for s in "${SERVICES[@]}"; do wait_http "http://127.0.0.1:${SERVICE_PORT[$s]}/health/ready" "$s"; done
}

services_down() {
  local s
  for s in "${SERVICES[@]}"; do stop_pid "$s"; done
  stop_pid issuer
  for s in "${COUNTERPARTS[@]}"; do stop_pid "$s"; done
  rm -f "$WORKERS_FILE"
}

# Rolling restart of the named services (all by default): SIGHUP to each
# supervisor, one service after the other, each done when every worker is new.
cmd_reload() {
  local s pid before after
  local names=("$@"); [ ${#names[@]} -gt 0 ] || names=("${SERVICES[@]}")
  for s in "${names[@]}"; do
    pid_alive "$s" || die "$s does not run"
    pid=$(cat "$PIDS/$s.pid")
    before=$(worker_pids "$pid")
    [ -n "$before" ] || die "$s runs one process, not a supervisor: start it with OMSORG_WORKERS=2 (or more)"
    log "rolling restart of $s (workers $(echo $before))"
    kill -HUP "$pid"
    for _ in $(seq 1 1500); do
      after=$(worker_pids "$pid")
      if [ -z "$(comm -12 <(echo "$before" | sort) <(echo "$after" | sort))" ] \
        && [ "$(echo "$after" | wc -w)" -eq "$(echo "$before" | wc -w)" ]; then break; fi
      sleep 0.2
    done
    if [ -n "$(comm -12 <(echo "$before" | sort) <(echo "$after" | sort))" ]; then
      die "rolling restart of $s incomplete: workers now $(echo $after) (a new worker not ready in time? see $LOGS/$s.log)"
    fi
    wait_http "http://127.0.0.1:${SERVICE_PORT[$s]}/health/ready" "$s"
    log "$s: workers now $(echo $after)"
  done
}

# The worker processes of a uvicorn supervisor (multiprocessing's spawned children).
worker_pids() {
  local child
  for child in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
    grep -qa "multiprocessing.spawn" "/proc/$child/cmdline" 2>/dev/null \
      && ! grep -qa "resource_tracker" "/proc/$child/cmdline" 2>/dev/null && echo "$child"
  done
  return 0
}

# PostgreSQL restarted under load (the drill's fault), as pg_up/pg_down run it.
cmd_pg_restart() {
  pg_running || die "PostgreSQL does not run"
  local PGDIR; PGDIR=$(pg_dir)
  pg_run "$(pg_bindir)/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/postgres.log" -m fast -w -t 60 restart >/dev/null
  log "restarted PostgreSQL"
}

services_running() {
  local s
  for s in issuer "${COUNTERPARTS[@]}" "${SERVICES[@]}"; do pid_alive "$s" || return 1; done
}

cmd_up() {
  cmd_install
  mkdir -p "$LOGS" "$PIDS"
  pg_up
  kafka_up
  cmd_migrate
  services_up
  cat <<EOF
Omsorg is up (logs in .run/logs/).
  token issuer  http://127.0.0.1:$ISSUER_PORT   (development only)
  intake        http://127.0.0.1:8101/docs
  casework      http://127.0.0.1:8102/docs
  messaging     http://127.0.0.1:8103/docs
  provider      http://127.0.0.1:8104/docs
  notify        http://127.0.0.1:8105/docs
  dev mail      smtp://127.0.0.1:$DEVMAIL_SMTP_PORT  received: http://127.0.0.1:$DEVMAIL_HTTP_PORT/messages   (development only)
  dev SMS       http://127.0.0.1:$DEVSMS_PORT/a1/sms  received: http://127.0.0.1:$DEVSMS_PORT/messages   (development only)
  AsyncAPI      http://127.0.0.1:810N/asyncapi on each service
  PostgreSQL    127.0.0.1:$PG_PORT   Kafka $KAFKA_BOOTSTRAP_SERVERS
A token:  make token ROLE=citizen   (or: curl -s -XPOST localhost:$ISSUER_PORT/token -H 'content-type: application/json' \\
            -d '{"role":"citizen","sub":"c1","name":"Tolvan Tolvansson","pnr":"191212121212"}')
EOF
}

cmd_down() { services_down; kafka_down; pg_down; }

cmd_status() {
  local s state
  if pg_running 2>/dev/null; then echo "postgres   running  127.0.0.1:$PG_PORT"; else echo "postgres   stopped"; fi
  local kafkas=(kafka)
  if cluster_running || [ "$(kafka_brokers)" = 3 ]; then for s in "${CLUSTER_NODES[@]}"; do kafkas+=("kafka-$s"); done; fi
  for s in "${kafkas[@]}" issuer "${COUNTERPARTS[@]}" "${SERVICES[@]}"; do
    if pid_alive "$s"; then state="running  pid $(cat "$PIDS/$s.pid")"; else state=stopped; fi
    local workers; workers=$(pid_alive "$s" && worker_pids "$(cat "$PIDS/$s.pid")" | wc -l || echo 0)
    [ "$workers" -gt 0 ] && state="$state ($workers workers)"
    printf '%-10s %s\n' "$s" "$state"
  done
}

# make test: start what is missing, run the suite, stop only what it started.
HAD_PG=0 HAD_KAFKA=0 HAD_SERVICES=0
stop_what_test_started() {
  [ $HAD_SERVICES -eq 1 ] || services_down
  [ $HAD_KAFKA -eq 1 ] || kafka_down
  [ $HAD_PG -eq 1 ] || pg_down
}

cmd_test() {
  cmd_install
  mkdir -p "$LOGS" "$PIDS"
  pg_running 2>/dev/null && HAD_PG=1
  kafka_running && HAD_KAFKA=1
  services_running && HAD_SERVICES=1
  trap stop_what_test_started EXIT
  pg_up
  kafka_up
  cmd_migrate
  services_up
  local rc=0
  (cd "$ROOT" && "$VENV/bin/pytest" "$@") || rc=$?
  return $rc
}

export KAFKA_BOOTSTRAP_SERVERS
KAFKA_BOOTSTRAP_SERVERS=$(kafka_bootstrap)

case "${1:-}" in
  install) cmd_install ;;
  infra-up) cmd_install; mkdir -p "$LOGS" "$PIDS"; pg_up; kafka_up ;;
  migrate) mkdir -p "$LOGS"; cmd_migrate ;;
  services-up) mkdir -p "$LOGS" "$PIDS"; services_up ;;
  services-down) services_down ;;
  kafka-up) mkdir -p "$LOGS" "$PIDS"; kafka_up ;;
  kafka-down) kafka_down ;;
  pg-down) pg_down ;;
  cluster-down) cluster_down ;;
  kafka-controller) kafka_admin controller ;;
  reload) shift; cmd_reload "$@" ;;
  pg-restart) cmd_pg_restart ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  test) shift; cmd_test "$@" ;;
  *) echo "usage: $0 install|up|down|status|test|infra-up|migrate|services-up|services-down|kafka-up|kafka-down|pg-down|cluster-down|kafka-controller|reload|pg-restart" >&2
     exit 2 ;;
esac
