#!/bin/sh
# Runs the conformance suites: clerkauth side by side with Clerk's own code
# (@clerk/backend at the version pinned in clerk/package-lock.json).
# Installs node and npm with apt-get when they are missing (CI: a fresh
# Debian machine with only Go, run as root).
set -eu
cd "$(dirname "$0")"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	echo "conformance: installing node and npm (apt-get)"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi
echo "conformance: node $(node --version), npm $(npm --version)"
(cd clerk && npm ci --no-audit --no-fund --loglevel=error)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
go test -count=1 -v ./... >"$out" 2>&1 || status=$?
grep -E '^(--- FAIL|FAIL|ok|panic)' "$out" || true
if [ "$status" -ne 0 ]; then
	cat "$out"
fi
echo "conformance summary:"
grep -h 'CONFORMANCE:' "$out" | sed 's/^ *[a-z_]*\.go:[0-9]*: /  /' || echo "  (the Clerk suite did not report; see above)"
exit "$status"
