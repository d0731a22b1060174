#!/usr/bin/env bash
# Runs ConnText on this machine: builds the server and the desktop app, starts the server on
# http://127.0.0.1:5180 with SQLite in ./data (zero setup), then the desktop app with its data in
# ./data/desktop, suggesting that server under "Add account". With a display, the desktop opens its
# window (Chromium in app mode, or the default browser); without one it runs --headless and prints
# its URL. Extra arguments go to the server (e.g. --ConnText:Name="Our chat"). Stop with Ctrl+C.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

url="http://127.0.0.1:5180"
out="$root/.artifacts/server"
desktop_out="$root/.artifacts/desktop"
desktop_log="$root/data/desktop.log"

command -v dotnet >/dev/null || { echo "The .NET 10 SDK is required: https://dot.net" >&2; exit 1; }
command -v curl >/dev/null || {
  echo "Installing curl (used to wait until the server is ready)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl
}

echo "Building ConnText (first run restores NuGet packages)..."
dotnet publish src/ConnText.Server -c Release -o "$out" -nologo -v quiet
dotnet publish src/ConnText.Desktop -c Release -o "$desktop_out" -nologo -v quiet

# The server keeps running in the foreground's process group; Ctrl+C stops it gracefully.
dotnet "$out/ConnText.Server.dll" --Urls="$url" --ConnText:DataDirectory="$root/data" "$@" &
server=$!
desktop=""
follow=""
stop() {
  [ -n "$follow" ] && kill "$follow" 2>/dev/null
  [ -n "$desktop" ] && kill -TERM "$desktop" 2>/dev/null && wait "$desktop" 2>/dev/null
  kill -TERM $server 2>/dev/null; wait $server 2>/dev/null
}
trap 'stop; exit 0' INT TERM

for _ in $(seq 1 120); do
  curl -fsS "$url/health/ready" >/dev/null 2>&1 && break
  kill -0 $server 2>/dev/null || { wait $server; exit $?; }
  sleep 0.5
done

mode=(--headless)
[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && mode=()
mkdir -p "$root/data"
: >"$desktop_log"
dotnet "$desktop_out/ConnText.Desktop.dll" "${mode[@]}" --data-dir="$root/data/desktop" \
  --ConnText:Desktop:DefaultServer="$url" >>"$desktop_log" 2>&1 &
desktop=$!
desktop_url=""
for _ in $(seq 1 120); do
  desktop_url=$(sed -n 's/^CONNTEXT_DESKTOP_URL //p' "$desktop_log" | head -n1)
  [ -n "$desktop_url" ] && break
  kill -0 "$desktop" 2>/dev/null || break
  sleep 0.25
done

cat <<MSG

  ConnText is running (SQLite database and files in $root/data).
    Server        $url
    API reference $url/docs
    Health        $url/health/ready
    Desktop app   ${desktop_url:-did not start, see $desktop_log}
                  ${mode[*]:+(headless: open the desktop URL above in a browser on this machine)}
  Sign-in links the desktop cannot open in a browser are printed below.
  Press Ctrl+C to stop.

MSG
# Without a system browser (a server, a container), "Add account" prints its sign-in link here.
tail --pid=$server -n +1 -f "$desktop_log" | grep --line-buffered '^CONNTEXT_SIGNIN_URL ' &
follow=$!

wait $server
