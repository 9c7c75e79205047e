#!/usr/bin/env bash
# The whole platform on one machine, without Docker: Kafka, FerretDB and Keycloak (deploy/local/infra.sh), the four
# services as separate api and worker processes, the portal, and the nginx gateway.
#
#   deploy/local/platform.sh up|down|status
#
# Ports (overridable): gateway HOSO_GATEWAY_PORT=8080; apis INTAKE_HTTP_PORT=8001, REVIEW_HTTP_PORT=8002,
# NOTIFY_HTTP_PORT=8003, RECORDS_HTTP_PORT=8004; workers <SERVICE>_WORKER_HTTP_PORT=9001..9004; the portal
# PORTAL_HTTP_PORT=8005; Keycloak HOSO_KEYCLOAK_PORT=8180 (management 8181).
# Logs and pid files live under $HOSO_STATE (default <repo>/.local).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="${HOSO_STATE:-$ROOT/.local}"
PY="${HOSO_PYTHON:-$ROOT/.venv/bin/python}"
SERVICES=(intake review notify records)
ROLES=(api worker)

export HOSO_STATE_DIR="${HOSO_STATE_DIR:-$STATE}"
export HOSO_LOCAL_MODE="${HOSO_LOCAL_MODE:-1}"
GATEWAY_PORT="${HOSO_GATEWAY_PORT:-8080}"
PORTAL_PORT="${PORTAL_HTTP_PORT:-8005}"
KEYCLOAK_PORT="${HOSO_KEYCLOAK_PORT:-8180}"
# The identity provider: the local Keycloak unless HOSO_OIDC_ISSUER names another (the ministry's).
export HOSO_OIDC_ISSUER_URL="${HOSO_OIDC_ISSUER:-http://127.0.0.1:$KEYCLOAK_PORT/realms/hoso}"
export HOSO_JWT_ISSUER="${HOSO_JWT_ISSUER:-$HOSO_OIDC_ISSUER_URL}"
export HOSO_JWT_JWKS_URL="${HOSO_JWT_JWKS_URL:-$HOSO_OIDC_ISSUER_URL/protocol/openid-connect/certs}"

# shellcheck source=deploy/local/processes.sh
source "$ROOT/deploy/local/processes.sh"

log() { printf '\033[1m[platform]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[platform] %s\033[0m\n' "$*" >&2; exit 1; }

upper() { echo "$1" | tr '[:lower:]' '[:upper:]'; }

default_port() {
  local svc=$1 role=$2 base
  case $svc in intake) base=1 ;; review) base=2 ;; notify) base=3 ;; records) base=4 ;; esac
  if [ "$role" = api ]; then echo $((8000 + base)); else echo $((9000 + base)); fi
}

port_of() {
  local svc=$1 role=$2 var
  if [ "$role" = api ]; then var="$(upper "$svc")_HTTP_PORT"; else var="$(upper "$svc")_WORKER_HTTP_PORT"; fi
  echo "${!var:-$(default_port "$svc" "$role")}"
}



start_service() {
  local svc=$1 role=$2 port pidfile logfile
  port=$(port_of "$svc" "$role")
  pidfile="$STATE/run/$svc-$role.pid"
  logfile="$STATE/logs/$svc-$role.log"
  if pid_alive "$pidfile"; then log "$svc $role already running (pid $(cat "$pidfile"))"; return 0; fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then die "port $port ($svc $role) is taken by another process"; fi
  local var_api var_worker
  var_api="$(upper "$svc")_HTTP_PORT"
  var_worker="$(upper "$svc")_WORKER_HTTP_PORT"
  env "$var_api=$(port_of "$svc" api)" "$var_worker=$(port_of "$svc" worker)" \
    nohup "$PY" -m "$svc" "$role" >> "$logfile" 2>&1 < /dev/null &
  echo $! > "$pidfile"
}

wait_service() {
  local svc=$1 role=$2 port
  port=$(port_of "$svc" "$role")
  if ! "$PY" "$ROOT/deploy/local/probe.py" http "http://127.0.0.1:$port/health/ready" \
      --pidfile "$STATE/run/$svc-$role.pid" --timeout 90; then
    echo "----- last lines of $STATE/logs/$svc-$role.log -----" >&2
    tail -n 30 "$STATE/logs/$svc-$role.log" >&2 || true
    die "$svc $role did not become ready on port $port"
  fi
}

render_gateway() {
  local dir="$STATE/gateway" user_line=""
  mkdir -p "$dir/tmp"
  sed -e "s#\${HOSO_GATEWAY_PORT}#127.0.0.1:$GATEWAY_PORT#g" \
      -e "s#\${INTAKE_UPSTREAM}#127.0.0.1:$(port_of intake api)#g" \
      -e "s#\${REVIEW_UPSTREAM}#127.0.0.1:$(port_of review api)#g" \
      -e "s#\${NOTIFY_UPSTREAM}#127.0.0.1:$(port_of notify api)#g" \
      -e "s#\${RECORDS_UPSTREAM}#127.0.0.1:$(port_of records api)#g" \
      -e "s#\${PORTAL_UPSTREAM}#127.0.0.1:$PORTAL_PORT#g" \
      -e "s#\${PORTAL_ADDRESSES}#127.0.0.1#g" \
      -e "s#\${GATEWAY_MAX_BODY}#${GATEWAY_MAX_BODY:-110m}#g" \
      -e "s#\${GATEWAY_ACCESS_LOG}#$dir/access.log#g" \
      "$ROOT/deploy/gateway/hoso.conf.template" > "$dir/hoso.conf"
  [ "$(id -u)" = 0 ] && user_line="user root root;"
  cat > "$dir/nginx.conf" <<NGINX
$user_line
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    include $dir/hoso.conf;
}
NGINX
}

SMTP_PORT="${HOSO_SMTP_PORT:-1025}"

mailsink_up() {
  local pidfile="$STATE/run/mailsink.pid"
  if pid_alive "$pidfile"; then log "mail sink already running on :$SMTP_PORT"; return 0; fi
  port_busy "$SMTP_PORT" && die "port $SMTP_PORT (mail sink) is taken by another process"
  nohup "$PY" -m hoso_dev.mailsink --port "$SMTP_PORT" --dir "$STATE/mail" >> "$STATE/logs/mailsink.log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  "$PY" "$ROOT/deploy/local/probe.py" tcp "127.0.0.1:$SMTP_PORT" --pidfile "$pidfile" --timeout 20 \
    || die "the mail sink did not start (see $STATE/logs/mailsink.log)"
}

portal_up() {
  local pidfile="$STATE/run/portal-api.pid" logfile="$STATE/logs/portal-api.log"
  if pid_alive "$pidfile"; then log "portal already running (pid $(cat "$pidfile"))"; return 0; fi
  port_busy "$PORTAL_PORT" && die "port $PORTAL_PORT (portal) is taken by another process"
  PORTAL_HTTP_PORT="$PORTAL_PORT" PORTAL_API_URL="http://127.0.0.1:$GATEWAY_PORT" \
    PORTAL_OIDC_CLIENT_SECRET_FILE="${PORTAL_OIDC_CLIENT_SECRET_FILE:-$STATE/keycloak/portal-client-secret}" \
    PORTAL_PUBLIC_URL="${HOSO_PORTAL_URL:-http://127.0.0.1:$GATEWAY_PORT}" PORTAL_OIDC_ISSUER="$HOSO_OIDC_ISSUER_URL" \
    nohup "$PY" -m portal api >> "$logfile" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  if ! "$PY" "$ROOT/deploy/local/probe.py" http "http://127.0.0.1:$PORTAL_PORT/health/ready" --pidfile "$pidfile" \
      --timeout 60; then
    tail -n 30 "$logfile" >&2 || true
    die "the portal did not become ready on port $PORTAL_PORT"
  fi
}

gateway_up() {
  local dir="$STATE/gateway" nginx_bin
  nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
  [ -x "$nginx_bin" ] || die "nginx is not installed (make deps installs it: apt-get install nginx-light)"
  if pid_alive "$dir/nginx.pid"; then log "gateway already running on :$GATEWAY_PORT"; return 0; fi
  render_gateway
  "$nginx_bin" -t -q -c "$dir/nginx.conf" -p "$dir" || die "the gateway configuration is invalid"
  "$nginx_bin" -c "$dir/nginx.conf" -p "$dir"
  "$PY" "$ROOT/deploy/local/probe.py" http "http://127.0.0.1:$GATEWAY_PORT/gateway/health" --timeout 20 \
    || die "the gateway did not start (see $dir/error.log)"
}

up() {
  mkdir -p "$STATE/run" "$STATE/logs"
  "$ROOT/deploy/local/infra.sh" up
  export KAFKA_BOOTSTRAP_SERVERS="${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:${HOSO_KAFKA_PORT:-9092}}"
  export MONGODB_URL="${MONGODB_URL:-mongodb://127.0.0.1:${HOSO_FERRETDB_PORT:-27017}/}"
  local keys="$HOSO_STATE_DIR/keys"
  if [ ! -f "$keys/dev-signing-key.pem" ] || [ ! -f "$keys/jwks.json" ] || [ ! -f "$keys/pin-seal.key" ]; then
    "$ROOT/.venv/bin/hoso-dev" keys > /dev/null
  fi
  mailsink_up
  export NOTIFY_SMTP_HOST=127.0.0.1 NOTIFY_SMTP_PORT="$SMTP_PORT"
  for svc in "${SERVICES[@]}"; do for role in "${ROLES[@]}"; do start_service "$svc" "$role"; done; done
  for svc in "${SERVICES[@]}"; do for role in "${ROLES[@]}"; do wait_service "$svc" "$role"; done; done
  log "services ready (logs: $STATE/logs/)"
  gateway_up
  portal_up
  summary
}

down() {
  stop_pid "$STATE/gateway/nginx.pid"
  stop_pid "$STATE/run/portal-api.pid"
  for svc in "${SERVICES[@]}"; do for role in "${ROLES[@]}"; do stop_pid "$STATE/run/$svc-$role.pid"; done; done
  stop_pid "$STATE/run/mailsink.pid"
  log "services, mail sink and gateway stopped"
  if [ "${HOSO_KEEP_INFRA:-0}" != 1 ]; then "$ROOT/deploy/local/infra.sh" down; fi
}

status() {
  "$ROOT/deploy/local/infra.sh" status
  for svc in "${SERVICES[@]}"; do
    for role in "${ROLES[@]}"; do
      local pidfile="$STATE/run/$svc-$role.pid"
      if pid_alive "$pidfile"; then echo "$svc $role: running (pid $(cat "$pidfile"), port $(port_of "$svc" "$role"))";
      else echo "$svc $role: stopped"; fi
    done
  done
  if pid_alive "$STATE/run/mailsink.pid"; then echo "mail sink: running on :$SMTP_PORT ($STATE/mail)"; else echo "mail sink: stopped"; fi
  if pid_alive "$STATE/run/portal-api.pid"; then echo "portal: running on :$PORTAL_PORT"; else echo "portal: stopped"; fi
  if pid_alive "$STATE/gateway/nginx.pid"; then echo "gateway: running on :$GATEWAY_PORT"; else echo "gateway: stopped"; fi
}

summary() {
  cat <<TXT

  Hoso is running.
    portal      http://127.0.0.1:$GATEWAY_PORT/          (applicants, the public; sign in with an account below)
    gateway     http://127.0.0.1:$GATEWAY_PORT/api/v1/...
    keycloak    $HOSO_OIDC_ISSUER_URL   (admin console http://127.0.0.1:$KEYCLOAK_PORT/admin/, user admin,
                password in $STATE/keycloak/admin-password)
    intake      http://127.0.0.1:$(port_of intake api)   (worker :$(port_of intake worker))
    review      http://127.0.0.1:$(port_of review api)   (worker :$(port_of review worker))
    notify      http://127.0.0.1:$(port_of notify api)   (worker :$(port_of notify worker))
    records     http://127.0.0.1:$(port_of records api)   (worker :$(port_of records worker))
    kafka       $KAFKA_BOOTSTRAP_SERVERS
    mongodb     $MONGODB_URL
    mail        smtp://127.0.0.1:$SMTP_PORT, every message kept in $STATE/mail/
    logs        $STATE/logs/

  Demo accounts (password hoso-demo):
    applicants  congty.demo (a company, tax code 0101234567), canhan.demo (a citizen)
    BNNMT       tiepnhan.bnnmt (reception), chuyenvien.bnnmt (specialist), lanhdao.bnnmt (leader),
                quantri.bnnmt (admin), vanhanh.bnnmt (ops)
    UBND.HN     tiepnhan.hn, chuyenvien.hn, lanhdao.hn, quantri.hn, vanhanh.hn

  Tokens for scripts: .venv/bin/hoso-dev login tiepnhan.bnnmt   (Keycloak)
                      HOSO_LOCAL_MODE=1 .venv/bin/hoso-dev token --role applicant --sub citizen-1   (development key)

  Stop everything: make down      Status: make status
TXT
}

case "${1:-status}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) die "usage: $0 up|down|status" ;;
esac
