#!/usr/bin/env bash
# The test command: lint and type checks, then unit, integration and e2e tests against a real Kafka broker and a
# real FerretDB started for this run (own ports and state, so a running platform is left alone), stopped on every
# exit path. KAFKA_BOOTSTRAP_SERVERS / MONGODB_URL point the tests at other servers instead.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
UV="$(command -v uv 2>/dev/null || echo "$HOME/.local/bin/uv")"

echo "== lint: ruff check, ruff format --check, mypy --strict"
"$UV" run --frozen ruff check .
"$UV" run --frozen ruff format --check .
"$UV" run --frozen mypy -p hoso -p hoso_forms -p hoso_dev -p intake -p review -p notify -p records -p portal
"$UV" run --frozen hoso schemas check
echo "== docs: docs/asyncapi.json and docs/openapi/*.json are what the code generates"
"$UV" run --frozen hoso docs check
echo "== kustomize (built from the Go module proxy) for the Kubernetes overlays"
"$ROOT/deploy/k8s/kustomize.sh" install > /dev/null

export HOSO_STATE="$ROOT/.local/test"
export HOSO_KAFKA_PORT="${HOSO_TEST_KAFKA_PORT:-19092}"
export HOSO_KAFKA_CONTROLLER_PORT="${HOSO_TEST_KAFKA_CONTROLLER_PORT:-19093}"
export HOSO_FERRETDB_PORT="${HOSO_TEST_FERRETDB_PORT:-27018}"
export HOSO_KAFKA_PARTITIONS=3
export HOSO_KEYCLOAK_PORT="${HOSO_TEST_KEYCLOAK_PORT:-18180}"
export HOSO_KEYCLOAK_MANAGEMENT_PORT="${HOSO_TEST_KEYCLOAK_MANAGEMENT_PORT:-18181}"
# The test platform's gateway (tests/platform.py): the realm lets the portal there sign people in.
export HOSO_PORTAL_URL="http://127.0.0.1:18080"

cleanup() {
  local code=$?
  "$ROOT/deploy/local/infra.sh" down || true
  exit $code
}
trap cleanup EXIT INT TERM

"$ROOT/deploy/local/infra.sh" down >/dev/null 2>&1 || true
rm -rf "$HOSO_STATE"
"$ROOT/deploy/local/infra.sh" up
export KAFKA_BOOTSTRAP_SERVERS="${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:$HOSO_KAFKA_PORT}"
export MONGODB_URL="${MONGODB_URL:-mongodb://127.0.0.1:$HOSO_FERRETDB_PORT/}"
export HOSO_OIDC_ISSUER="${HOSO_OIDC_ISSUER:-http://127.0.0.1:$HOSO_KEYCLOAK_PORT/realms/hoso}"
export PORTAL_OIDC_CLIENT_SECRET_FILE="${PORTAL_OIDC_CLIENT_SECRET_FILE:-$HOSO_STATE/keycloak/portal-client-secret}"
# The suites create their applicants through Keycloak's admin API (the master realm's bootstrap admin).
export HOSO_KEYCLOAK_ADMIN_PASSWORD_FILE="${HOSO_KEYCLOAK_ADMIN_PASSWORD_FILE:-$HOSO_STATE/keycloak/admin-password}"

echo "== tests (Kafka $KAFKA_BOOTSTRAP_SERVERS, MongoDB $MONGODB_URL, Keycloak $HOSO_OIDC_ISSUER)"
"$UV" run --frozen pytest -ra --durations=25 "$@"
