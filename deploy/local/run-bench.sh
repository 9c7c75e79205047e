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
trap '"$ROOT/deploy/local/infra.sh" down >/dev/null 2>&1 || true' EXIT INT TERM
rm -rf "$HOSO_STATE"
"$ROOT/deploy/local/infra.sh" up
export KAFKA_BOOTSTRAP_SERVERS="${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:$HOSO_KAFKA_PORT}"
export MONGODB_URL="${MONGODB_URL:-mongodb://127.0.0.1:$HOSO_FERRETDB_PORT/}"
PYTHONPATH="$ROOT" "$UV" run --frozen python bench/pipeline.py "$@"
