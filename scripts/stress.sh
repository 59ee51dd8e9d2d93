#!/usr/bin/env bash
# stress.sh runs the whole test suite ten times under the race detector
# while burner processes keep every core busy, to prove that no test
# depends on the machine being fast (issue 12). It runs the root module
# and the nested modules (otelclerk, examples/chi, gin, prometheus), kills the
# burners on exit whatever happens, and exits non-zero when any run fails.
#
#   scripts/stress.sh            # -count=10
#   COUNT=3 scripts/stress.sh    # shorter
#
# It takes a while (tens of minutes on 2 cores); it is not part of every CI
# run. The modules' dependencies must be in the module cache (or the module
# proxy reachable).
set -u
cd "$(dirname "$0")/.."

count=${COUNT:-10}
cores=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
burners=()

cleanup() {
	for pid in "${burners[@]}"; do
		kill "$pid" 2>/dev/null
	done
	wait "${burners[@]}" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for _ in $(seq "$cores"); do
	( while :; do :; done ) &
	burners+=("$!")
done
echo "stress: ${#burners[@]} burner(s) on $cores core(s); go test -race -count=$count"

status=0
run() {
	local dir=$1
	echo "stress: $dir: go test -race -count=$count ./..."
	local start=$SECONDS
	if (cd "$dir" && go test -race -count="$count" ./...); then
		echo "stress: $dir: PASS in $((SECONDS - start))s"
	else
		echo "stress: $dir: FAIL in $((SECONDS - start))s"
		status=1
	fi
}

run .
for dir in otelclerk examples/chi examples/gin examples/prometheus migration redisstore browsertest; do
	if [ -f "$dir/go.mod" ]; then
		run "$dir"
	fi
done

if [ "$status" -eq 0 ]; then
	echo "stress: PASS"
else
	echo "stress: FAIL"
fi
exit "$status"
