#!/usr/bin/env bash
# redis: the redisstore module's tests against a real redis-server.
# Installs redis-server (Debian package) when it is missing, starts one on
# a free loopback port without persistence (daemonized, pidfile and data
# in a temporary directory), exports REDIS_ADDR, runs the module's vet and
# tests (with CI=true: a missing redis-server fails, never skips), and
# stops the server however the script ends. By default the tests run
# twice: in full (the fleet tests' 1,000 keys x 20 requests x 8 replicas),
# and with -race -short (100 keys), which the race detector makes cheap
# enough.
#
# Usage: scripts/redis.sh [go test flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  echo "redis: installing redis-server (apt-get)"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null
fi
echo "redis: $(redis-server --version)"

tmp=$(mktemp -d)
stop() {
  local pid
  pid=$(cat "$tmp/redis.pid" 2>/dev/null || true)
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$tmp"
}
trap stop EXIT

started=""
for _ in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 40000))
  redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
    --daemonize yes --pidfile "$tmp/redis.pid" --dir "$tmp" --logfile "$tmp/redis.log" || continue
  for _ in $(seq 50); do
    if [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]; then started=1; break; fi
    sleep 0.1
  done
  [ -n "$started" ] && break
  echo "redis: no answer on port $port:"; cat "$tmp/redis.log" 2>/dev/null || true
  [ -s "$tmp/redis.pid" ] && kill "$(cat "$tmp/redis.pid")" 2>/dev/null || true
  rm -f "$tmp/redis.pid"
done
if [ -z "$started" ]; then echo "redis: could not start redis-server"; exit 1; fi
export REDIS_ADDR="127.0.0.1:$port"
echo "redis: redis-server on $REDIS_ADDR (pid $(cat "$tmp/redis.pid"))"

cd redisstore
go vet ./...
if [ $# -gt 0 ]; then
  CI=true go test "$@" ./...
else
  CI=true go test -count=1 -v -run 'TestFleet' ./... | grep -E '^(---|ok|FAIL|PASS)|_test\.go:'
  CI=true go test -count=1 -race -short ./...
fi
