#!/usr/bin/env bash
# System packages for local mode: nginx (the gateway), kcat (a Kafka client that is not ours, for tests), and
# Debian's chromium with Noto fonts for the browser suite (Playwright cannot download its own browsers here).
# Java 17+, Maven and Go must be on the machine (Kafka and FerretDB are fetched and built with them).
set -euo pipefail
missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v kcat >/dev/null 2>&1 || missing+=(kcat)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
[ -d /usr/share/fonts/truetype/noto ] || missing+=(fonts-noto-core)
for tool in java mvn go; do
  command -v "$tool" >/dev/null 2>&1 || { echo "[deps] $tool is required but not installed" >&2; exit 1; }
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "[deps] please install: ${missing[*]}" >&2
  exit 1
fi
echo "[deps] installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts the packaged nginx on port 80; the platform runs its own instance.
if command -v service >/dev/null 2>&1; then service nginx stop >/dev/null 2>&1 || true; fi
pkill -f "nginx: master process /usr/sbin/nginx" 2>/dev/null || true
