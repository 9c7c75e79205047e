#!/usr/bin/env bash
# `make bench`: the benchmarks against a real Kafka and FerretDB started for the run (or the configured ones).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
UV="$(command -v uv 2>/dev/null || echo "$HOME/.local/bin/uv")"
export HOSO_STATE="$ROOT/.local/bench"
export HOSO_KAFKA_PORT="${HOSO_BENCH_KAFKA_PORT:-29092}"
export HOSO_KAFKA_CONTROLLER_PORT="${HOSO_BENCH_KAFKA_CONTROLLER_PORT:-29093}"
export HOSO_FERRETDB_PORT="${HOSO_BENCH_FERRETDB_PORT:-27019}"
# FerretDB's own counters (ferretdb_client_requests_total): the benchmark reads the database commands from them.
export HOSO_FERRETDB_DEBUG_ADDR="${HOSO_BENCH_FERRETDB_DEBUG_ADDR:-127.0.0.1:27099}"
export HOSO_KEYCLOAK_PORT="${HOSO_BENCH_KEYCLOAK_PORT:-28180}"
export HOSO_KEYCLOAK_MANAGEMENT_PORT="${HOSO_BENCH_KEYCLOAK_MANAGEMENT_PORT:-28181}"
export HOSO_PORTAL_URL="http://127.0.0.1:28080"  # the benchmark platform's gateway (bench/through_gateway.py)
trap '"$ROOT/deploy/local/infra.sh" down >/dev/null 2>&1 || true' EXIT INT TERM
rm -rf "$HOSO_STATE"
"$ROOT/deploy/local/infra.sh" up
export KAFKA_BOOTSTRAP_SERVERS="${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:$HOSO_KAFKA_PORT}"
export MONGODB_URL="${MONGODB_URL:-mongodb://127.0.0.1:$HOSO_FERRETDB_PORT/}"
export HOSO_OIDC_ISSUER="${HOSO_OIDC_ISSUER:-http://127.0.0.1:$HOSO_KEYCLOAK_PORT/realms/hoso}"
export PORTAL_OIDC_CLIENT_SECRET_FILE="${PORTAL_OIDC_CLIENT_SECRET_FILE:-$HOSO_STATE/keycloak/portal-client-secret}"
PYTHONPATH="$ROOT" "$UV" run --frozen python bench/pipeline.py "$@"
PYTHONPATH="$ROOT" "$UV" run --frozen python bench/portal.py
