#!/usr/bin/env bash
# kustomize, built from the Go module proxy into the cache, and the build of an overlay.
#
#   deploy/k8s/kustomize.sh install          # prints the binary's path (builds it on first use)
#   deploy/k8s/kustomize.sh build dev|prod   # the overlay's manifests on stdout
#
# Overlays load the gateway template and the Grafana dashboard from deploy/ (one copy of each for every way of
# running Hoso), so builds use --load-restrictor LoadRestrictionsNone; `kubectl apply -k` needs the same flag:
#   deploy/k8s/kustomize.sh build prod | kubectl apply -f -
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${HOSO_CACHE:-$HOME/.cache/hoso}"
VERSION="${HOSO_KUSTOMIZE_VERSION:-v5.7.1}"
BIN="$CACHE/kustomize-$VERSION/kustomize"

install() {
  if [ -x "$BIN" ]; then echo "$BIN"; return 0; fi
  command -v go >/dev/null || { echo "go is not installed (kustomize is built from the Go module proxy)" >&2; exit 1; }
  local gopath="$CACHE/kustomize-$VERSION/gopath"
  mkdir -p "$(dirname "$BIN")"
  echo "building kustomize $VERSION from the Go module proxy (first run only)" >&2
  GOPATH="$gopath" GOBIN="$(dirname "$BIN")" GOFLAGS=-mod=mod CGO_ENABLED=0 \
    go install "sigs.k8s.io/kustomize/kustomize/v5@$VERSION" >&2
  chmod -R u+w "$gopath" 2>/dev/null || true
  rm -rf "$gopath"
  echo "$BIN"
}

case "${1:-}" in
  install) install ;;
  build)
    overlay="${2:?usage: $0 build dev|prod}"
    "$(install)" build --load-restrictor LoadRestrictionsNone "$ROOT/deploy/k8s/overlays/$overlay" ;;
  *) echo "usage: $0 install | build dev|prod" >&2; exit 2 ;;
esac
