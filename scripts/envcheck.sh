#!/usr/bin/env bash
# envcheck: the test suite must pass for a developer who has exported their
# own Clerk instance's variables. Exports every CLERK_* variable with valid
# values of another instance (a real RSA-2048 PEM public key, pk_test/sk_test
# keys, an https API URL that cannot resolve) and runs the tests of the
# library and of the nested example modules. Tests that use the environment
# on purpose set it themselves with t.Setenv; clerktest reads none of it.
#
# Usage: scripts/envcheck.sh [go test flags...]   (default: -race -count=1)
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/key.pem" 2>/dev/null
openssl pkey -in "$tmp/key.pem" -pubout -out "$tmp/pub.pem"

export CLERK_JWT_KEY="$(cat "$tmp/pub.pem")"
export CLERK_SECRET_KEY="sk_test_envcheckOtherInstance0123456789abcdef"
# pk_test_ + base64("clerk.envcheck.invalid$"), as Clerk builds them.
export CLERK_PUBLISHABLE_KEY="pk_test_$(printf 'clerk.envcheck.invalid$' | base64 | tr -d '\n')"
export CLERK_API_URL="https://api.envcheck.invalid"
export CLERK_API_VERSION="2021-02-05"
export CLERK_AUTHORIZED_PARTIES="https://app.envcheck.invalid"
export CLERK_MACHINE_SECRET_KEY="ak_envcheckOtherInstance0123456789"
export CLERK_WEBHOOK_SIGNING_SECRET="whsec_$(printf 'envcheck-other-instance-secret' | base64 | tr -d '\n')"

flags=("$@")
[ ${#flags[@]} -eq 0 ] && flags=(-race -count=1)

echo "== envcheck: go test ${flags[*]} ./... with every CLERK_* variable set to another instance"
failed=0
go test "${flags[@]}" ./... || failed=1
for mod in otelclerk examples/chi examples/gin examples/prometheus migration; do
  echo "-- $mod"
  (cd "$mod" && go test "${flags[@]}" ./...) || failed=1
done
if [ "$failed" -ne 0 ]; then
  echo "envcheck: FAILED"; exit 1
fi
echo "envcheck: ok"
