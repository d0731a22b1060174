#!/usr/bin/env bash
# Measures the desktop host's cold start and memory: launch (headless, fresh data directory) until the
# URL line is printed, until the UI's first page is served (after the secret-for-cookie exchange), and
# its resident memory after that and after 20 more page loads. Uses the Release build
# (dotnet build ConnText.slnx -c Release). Usage: bench/desktop-startup.sh [runs]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dll=src/ConnText.Desktop/bin/Release/net10.0/ConnText.Desktop.dll
[ -f "$dll" ] || { echo "Build first: dotnet build ConnText.slnx -c Release" >&2; exit 1; }
runs=${1:-5}
ms() { date +%s%3N; }
for run in $(seq 1 "$runs"); do
  data=$(mktemp -d)
  out="$data/out.txt"
  start=$(ms)
  dotnet "$dll" --headless --data-dir="$data/d" >"$out" 2>&1 &
  pid=$!
  until grep -q '^CONNTEXT_DESKTOP_URL ' "$out"; do sleep 0.01; done
  url_ms=$(( $(ms) - start ))
  url=$(sed -n 's/^CONNTEXT_DESKTOP_URL //p' "$out")
  curl -s -c "$data/jar" -b "$data/jar" -L -o /dev/null "$url"
  page_ms=$(( $(ms) - start ))
  rss1=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
  base=${url%%/auth*}
  for _ in $(seq 1 20); do curl -s -b "$data/jar" -o /dev/null "$base/"; done
  rss2=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
  echo "run $run: url ${url_ms} ms, first page ${page_ms} ms, RSS $((rss1 / 1024)) MiB, after 20 pages $((rss2 / 1024)) MiB"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$data"
done
