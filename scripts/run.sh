#!/usr/bin/env bash
# Runs ConnText on this machine: builds the server and starts it on http://127.0.0.1:5180 with
# SQLite in ./data (zero setup). Extra arguments go to the server (e.g. --ConnText:Name="Our chat").
# Stop it with Ctrl+C.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

url="http://127.0.0.1:5180"
out="$root/.artifacts/server"

command -v dotnet >/dev/null || { echo "The .NET 10 SDK is required: https://dot.net" >&2; exit 1; }
command -v curl >/dev/null || {
  echo "Installing curl (used to wait until the server is ready)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl
}

echo "Building ConnText (first run restores NuGet packages)..."
dotnet publish src/ConnText.Server -c Release -o "$out" -nologo -v quiet

# The server keeps running in the foreground's process group; Ctrl+C stops it gracefully.
dotnet "$out/ConnText.Server.dll" --Urls="$url" --ConnText:DataDirectory="$root/data" "$@" &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null' INT TERM

for _ in $(seq 1 120); do
  if curl -fsS "$url/health/ready" >/dev/null 2>&1; then
    cat <<MSG

  ConnText is running (SQLite database and files in $root/data).
    Server        $url
    API reference $url/docs
    Health        $url/health/ready
  Press Ctrl+C to stop.

MSG
    break
  fi
  kill -0 $server 2>/dev/null || { wait $server; exit $?; }
  sleep 0.5
done

wait $server
