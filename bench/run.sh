#!/usr/bin/env bash
# Runs the comparison benchmarks and prints benchstat's table, then the
# ratios the project's targets are stated in. Needs only Go: benchstat is
# fetched through the module proxy.
#
#   ./run.sh                          # -count 5 -benchtime 1s (a few minutes)
#   COUNT=1 BENCHTIME=100x ./run.sh   # quick: proves it builds and runs
set -euo pipefail
cd "$(dirname "$0")"

COUNT=${COUNT:-5}
BENCHTIME=${BENCHTIME:-1s}
CPUS=${CPUS:-1,2,8}
BENCHSTAT=golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da

raw=$(mktemp)
trap 'rm -f "$raw"' EXIT

echo "# $(go version); nproc $(nproc); $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //')" >&2
go test -run '^$' -bench '^Benchmark(FloorRSA|GolangJWT|ClerkauthCold|ColdVsFloor|ClerkauthWarm|ClerkSDK)$' \
	-benchmem -count "$COUNT" -benchtime "$BENCHTIME" . | tee -a "$raw" >&2
# The parallel warm path at several GOMAXPROCS: it should scale with the
# cores (on a 2-core machine, -cpu 2 and 8 take about half of -cpu 1).
go test -run '^$' -bench '^BenchmarkClerkauth(WarmParallel|HitParallel)$' -cpu "$CPUS" \
	-benchmem -count "$COUNT" -benchtime "$BENCHTIME" . | tee -a "$raw" >&2

# -confidence 0.9: benchstat needs 6 samples for an interval at 0.95.
go run "$BENCHSTAT" -confidence 0.9 "$raw"

# Ratios of mean ns/op, all from this one run.
awk '
/^Benchmark/ {
	name = $1; sub(/^Benchmark/, "", name)
	for (i = 2; i < NF; i++) if ($(i+1) == "ns/op") { sum[name] += $i; n[name]++ }
	for (i = 2; i < NF; i++) {
		if ($(i+1) == "cold/floor") { rsum += $i; rn++; rmin = (rn == 1 || $i < rmin) ? $i : rmin; rmax = ($i > rmax) ? $i : rmax }
		if ($(i+1) == "warm/floor") { wsum += $i; wn++; wmax = ($i > wmax) ? $i : wmax }
	}
}
function mean(k) { return n[k] ? sum[k] / n[k] : 0 }
END {
	p = "-" procs
	for (k in n) if (k ~ /^FloorRSA-/) { p = substr(k, length("FloorRSA") + 1) }
	floor = mean("FloorRSA" p); cold = mean("ClerkauthCold" p)
	warm = mean("ClerkauthWarm" p); sdk = mean("ClerkSDK" p); gjwt = mean("GolangJWT" p)
	printf "\ntargets (ColdVsFloor: RequireAuth, fresh v2 org token, cache on; medians, timed in one loop with the floor)\n"
	if (rn > 0) printf "  cold / RSA floor   %6.3fx  (min %.3f, max %.3f over %d runs; target <= 1.25x)\n", rsum / rn, rmin, rmax, rn
	if (wn > 0) printf "  warm / RSA floor   %6.4fx  (max %.4f; target <= 0.025x)\n", wsum / wn, wmax
	printf "\nother ratios (mean ns/op of separate benchmarks in this run)\n"
	if (floor > 0) printf "  clerkauth cold (cache off) / RSA floor  %6.2fx\n", cold / floor
	if (floor > 0) printf "  golang-jwt / RSA floor          %6.2fx\n", gjwt / floor
	if (warm > 0)  printf "  Clerk SDK / clerkauth warm      %6.0fx   (target >= 100x)\n", sdk / warm
	if (cold > 0)  printf "  Clerk SDK / clerkauth cold      %6.2fx\n", sdk / cold
	for (k in n) if (k ~ /Parallel/) printf "  %-26s %8.1f ns/op\n", k, mean(k)
}' "$raw"
