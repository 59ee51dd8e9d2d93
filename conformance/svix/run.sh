#!/usr/bin/env bash
# Cross-checks clerkauth.VerifyWebhook with Clerk's own verifyWebhook
# (@clerk/backend 3.25.0 on standardwebhooks 1.1.1, pinned by
# package-lock.json) run by node: conformance/webhook_test.go. Installs
# node and npm with apt-get when missing (CI: a fresh Debian machine with
# only Go), then npm ci and the test. A few seconds once installed.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "node/npm missing: installing with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
echo "node $(node --version), npm $(npm --version)"
npm ci --no-audit --no-fund --loglevel=error
cd ..
out=$(go test -count=1 -run '^TestWebhookConformance$' -v . 2>&1) || { echo "$out"; exit 1; }
if grep -q -- '--- SKIP' <<<"$out"; then echo "$out"; echo "the cross-check was skipped"; exit 1; fi
grep -E '^(--- PASS|ok)' <<<"$out"
