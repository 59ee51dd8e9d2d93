#!/usr/bin/env bash
# Loopback load test against examples/basic itself: it starts the example
# (with its embedded clerktest instance) on a free loopback port, takes the
# session token it prints, and compares /api/public with /api/protected
# (RequireAuth) using bench/load. It stops the example when done.
#
#   bash bench/load-basic.sh              # 3 s per route
#   DURATION=1s bash bench/load-basic.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-3s}

dir=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT

go build -o "$dir/basic" ./examples/basic
(cd bench && go build -o "$dir/load" ./load)
env -u CLERK_SECRET_KEY -u CLERK_JWT_KEY ADDR=127.0.0.1:0 "$dir/basic" >"$dir/out" 2>/dev/null &
pid=$!

# The example prints one curl command per route; take the signed-in one.
line=""
for _ in $(seq 100); do
  line=$(grep -A1 '^# /api/protected, as ' "$dir/out" | grep '^curl ' || true)
  [ -n "$line" ] && break
  sleep 0.1
done
[ -n "$line" ] || { echo "examples/basic printed no curl command:"; cat "$dir/out"; exit 1; }
token=$(sed -n "s/.*'Authorization: Bearer \([^']*\)'.*/\1/p" <<<"$line")
url=$(awk '{print $NF}' <<<"$line")
base=${url%/api/protected}

"$dir/load" -target "$base" -token "$token" -duration "$DURATION"
