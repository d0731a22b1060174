#!/usr/bin/env bash
# Calls benchmark: click-to-first-remote-frame, median of N calls (default 10), direct and relay-only, between two
# desktop executables with Chromium's fake camera, the server and coturn, all inside a network namespace the
# benchmark creates (tests/ConnText.Desktop.Tests/Calls/CallBenchmark.cs, CallLab.cs). Runs through scripts/test.sh
# (which installs Chromium and coturn), writes bench/results/calls-<UTC time>/summary.md and prints it.
#
#   bash bench/calls/run.sh [N]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out="$PWD/bench/results/calls-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
{
  echo "date: $(date -u +%FT%TZ)"
  echo "cpu: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo unknown)"
} >"$out/machine.txt"
CONNTEXT_BENCH_CALLS="$out" CONNTEXT_BENCH_CALLS_COUNT="${1:-10}" \
  bash scripts/test.sh --filter "FullyQualifiedName~ConnText.Desktop.Tests.Calls.CallBenchmark" >"$out/test.log" 2>&1 || true
tail -n 1 "$out/test.log"
grep -A 12 "Error Message" "$out/test.log" || true
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/machine.txt"
cat "$out/machine.txt"
cat "$out/summary.md" 2>/dev/null || echo "no summary (see $out/test.log)"
cat "$out"/failures-*.txt 2>/dev/null || true
