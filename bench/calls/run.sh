#!/usr/bin/env bash
# Calls benchmark: click-to-first-remote-frame, median of N calls (default 10), direct and relay-only, between two
# desktop executables with Chromium's fake camera, the server and coturn, all inside a network namespace the
# benchmark creates (tests/ConnText.Desktop.Tests/Calls/CallBenchmark.cs, CallLab.cs). Runs through scripts/test.sh
# (which installs Chromium and coturn), writes bench/results/calls-<UTC time>/summary.md and prints it.
#
#   bash bench/calls/run.sh [N]
#   UPDATE_DOCS=1 bash bench/calls/run.sh   # also rewrites docs/performance.md between the calls-results markers
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
if [ "${UPDATE_DOCS:-0}" = 1 ] && [ -f "$out/summary.md" ]; then
  docs="$(mktemp)"
  {
    sed '/<!-- calls-results:start -->/q' docs/performance.md
    echo
    echo "Run of $(sed -n 's/^date: //p' "$out/machine.txt") ($(sed -n 's/^cpu: //p' "$out/machine.txt"); load average $(sed -n 's/^load before: //p' "$out/machine.txt") before, $(sed -n 's/^load after: //p' "$out/machine.txt") after), \`bash bench/calls/run.sh ${1:-10}\`, results in \`bench/results/$(basename "$out")/\`:"
    echo
    cat "$out/summary.md"
    echo
    sed -n '/<!-- calls-results:end -->/,$p' docs/performance.md
  } >"$docs"
  cp "$docs" docs/performance.md
  rm -f "$docs"
  echo "docs/performance.md updated (calls-results)"
fi
