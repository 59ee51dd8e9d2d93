#!/usr/bin/env bash
# Runs the conformance suites: clerkauth side by side with Clerk's own code,
# pinned by package-lock.json files:
#   clerk/  @clerk/backend's authenticateRequest on the same requests
#           (clerk_test.go, gen_*_test.go, mockapi_test.go): session tokens,
#           machine tokens and page-load flows, one CONFORMANCE line each
#           (docs/conformance.md);
#   svix/   @clerk/backend's verifyWebhook (standardwebhooks) on the same
#           deliveries, each side verifying the other's signatures
#           (webhook_test.go).
# Installs node and npm with apt-get when they are missing (CI: a fresh
# Debian machine with Go, run as root). Fails when a suite was skipped.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "conformance: installing node and npm (apt-get)"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
echo "conformance: node $(node --version), npm $(npm --version)"
for d in clerk svix; do
  (cd "$d" && npm ci --no-audit --no-fund --loglevel=error)
done
go vet ./...
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
go test -count=1 -v ./... >"$out" 2>&1 || status=$?
grep -E '^(--- FAIL|--- SKIP|FAIL|ok|panic)' "$out" || true
if [ "$status" -ne 0 ]; then
  cat "$out"
elif grep -q -- '--- SKIP' "$out"; then
  cat "$out"; echo "conformance: a suite was skipped"; status=1
fi
echo "conformance summary:"
grep -h 'CONFORMANCE:' "$out" | sed 's/^ *[a-z_]*\.go:[0-9]*: /  /' || echo "  (the Clerk suite did not report; see above)"
exit "$status"
