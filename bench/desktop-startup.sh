#!/usr/bin/env bash
# Measures the desktop host's cold start and memory: launch (headless, fresh data directory) until the
# URL line is printed, until the UI's first page is served (after the secret-for-cookie exchange), and
# its resident memory after that and after 20 more page loads. Uses the Release build
# (dotnet build ConnText.slnx -c Release). Usage: bench/desktop-startup.sh [runs]
#
# Then, with Xvfb and Chromium installed, the same cold start with the real window: the desktop started
# without --headless on a private X display opens Chromium as an --app window; measured until that
# window's UI is interactive (Blazor's marker, read over the DevTools protocol by desktop-window-ready.mjs),
# with the host's resident memory and the browser's proportional memory (PSS over all its processes) then.
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

if ! command -v Xvfb >/dev/null || ! command -v chromium >/dev/null; then
  echo "window: skipped (needs Xvfb and chromium: apt-get install -y xvfb chromium)"
  exit 0
fi
display=":$((200 + RANDOM % 300))"
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null || true' EXIT
sleep 1
for run in $(seq 1 "$runs"); do
  data=$(mktemp -d)
  start=$(ms)
  DISPLAY=$display dotnet "$dll" --data-dir="$data/d" --ConnText:Desktop:Browser="$(command -v chromium)" \
    "--ConnText:Desktop:BrowserArguments=--remote-debugging-port=0 --window-size=1280,800 --disable-gpu --test-type" \
    >"$data/out.txt" 2>&1 &
  pid=$!
  if node --experimental-websocket --no-warnings bench/desktop-window-ready.mjs "$data/d/browser-profile" 60000; then
    ready_ms=$(( $(ms) - start ))
    host=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
    browser=0
    for p in $(pgrep -f -- "--user-data-dir=$data/d/browser-profile"); do
      browser=$(( browser + $(awk '/^Pss:/ {print $2}' /proc/"$p"/smaps_rollup 2>/dev/null || echo 0) ))
    done
    echo "window run $run: launch to interactive window ${ready_ms} ms, host RSS $((host / 1024)) MiB, browser PSS (all its processes, shared pages split) $((browser / 1024)) MiB"
  else
    echo "window run $run: no interactive window within 60 s"; cat "$data/out.txt"
  fi
  pkill -f -- "--user-data-dir=$data/d/browser-profile" 2>/dev/null || true
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$data"
done
