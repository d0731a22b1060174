#!/usr/bin/env bash
# Files benchmark: upload (tus, one streaming PATCH) and download of a SIZE_MIB file (default 2048) against a
# published server on loopback with SQLite in a temp directory, next to the raw disk speed measured with dd in
# the same run, and the server's RSS before and at its peak during each transfer (it must stay flat).
#   bash bench/files/run.sh            # 2 GiB
#   SIZE_MIB=256 bash bench/files/run.sh
#   SERVER_ARGS='--Logging:LogLevel:Default=Information' bash bench/files/run.sh   # extra server settings (A/B)
#   UPDATE_DOCS=1 bash bench/files/run.sh   # also rewrites docs/performance.md between the files-results markers
#
# Measured 2026-11-26 (2 shared cores, load average ~35 from parallel builds, 2 GiB, one PATCH, loopback):
#   dd write (fdatasync) 108 MB/s, dd read (O_DIRECT) 766 MB/s
#   upload 142 MB/s (sha256 matches), server RSS 187.1 -> peak 197.8 MiB (+10.6 MiB)
#   download 282 MB/s (sha256 matches), server RSS peak 210.6 MiB (+23.5 MiB)
# Measured 2026-11-27 16:50 UTC (quiet machine, after ADR 0023), three runs: dd write 363-397 MB/s (fdatasync),
#   1.2-2.5 GB/s (O_DIRECT); upload 521-654 MB/s (141-165 % / 21-47 %), RSS +2 to +4 MiB; download 294-401 MB/s
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZE_MIB="${SIZE_MIB:-2048}"
UPDATE_DOCS="${UPDATE_DOCS:-0}"
started_at="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
load_at_start="$(cut -d' ' -f1-3 /proc/loadavg)"
work="$(mktemp -d /tmp/conntext-files-bench.XXXXXX)"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

echo "== publishing the server and the client (Release)"
dotnet publish src/ConnText.Server -c Release -o "$work/server" --artifacts-path "$work/artifacts" -v q --nologo >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
dotnet build bench/ConnText.FilesBench -c Release -o "$work/client" --artifacts-path "$work/artifacts" -v q --nologo >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }

echo "== test file: $SIZE_MIB MiB of random bytes"
head -c "$((SIZE_MIB * 1024 * 1024))" /dev/urandom > "$work/source.bin"
# Written back now: otherwise the kernel writes these dirty pages out ~30 s later, in the middle of dd or the upload
# (dd then competed with that write-back, which flattered the upload's ratio to it).
sync

echo "== raw disk (dd, same file system as the server's data directory)"
# MB/s (10^6) of a dd run, from its last line ("N bytes (...) copied, S s, ...").
dd_speed() { "$@" 2>&1 | tail -1 | tee -a "$work/dd.log" | awk '{ printf "%.0f", $1 / $(NF-3) / 1e6 }'; }
dd_write="$(dd_speed dd if=/dev/zero of="$work/dd.bin" bs=1M count="$SIZE_MIB" conv=fdatasync)"
rm -f "$work/dd.bin"
# The same through O_DIRECT: the disk without the page cache's copy (the server writes large uploads that way).
dd_direct="$(dd_speed dd if=/dev/zero of="$work/dd.bin" bs=1M count="$SIZE_MIB" oflag=direct conv=fdatasync)"
dd_read="$(dd_speed dd if="$work/dd.bin" of=/dev/null bs=1M iflag=direct)"
rm -f "$work/dd.bin"
{
    echo "dd write (fdatasync):          $dd_write MB/s"
    echo "dd write (O_DIRECT, fdatasync): $dd_direct MB/s"
    echo "dd read (O_DIRECT):            $dd_read MB/s"
} | tee "$work/report.txt"

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$work/server/ConnText.Server" \
    --Urls="http://127.0.0.1:$port" \
    --ConnText:DataDirectory="$work/data" \
    --ConnText:Files:MaxFileBytes=$((8 * 1024 * 1024 * 1024)) \
    --ConnText:Files:MinFreeDiskBytes=0 \
    --ConnText:Auth:AccessTokenLifetimeMinutes=60 \
    --Logging:LogLevel:Default=Warning ${SERVER_ARGS:-} > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break
    sleep 0.2
done

echo "== ConnText (server pid $server_pid, http://127.0.0.1:$port)"
"$work/client/ConnText.FilesBench" "http://127.0.0.1:$port" "$server_pid" "$work/source.bin" | tee "$work/client.log"
upload="$(awk '/^upload:/ { print $2 }' "$work/client.log")"
awk -v u="$upload" -v w="$dd_write" -v d="$dd_direct" \
    'BEGIN { printf "upload / dd write: %.0f %% (fdatasync), %.0f %% (O_DIRECT)\n", 100 * u / w, 100 * u / d }' | tee -a "$work/client.log"
cat "$work/client.log" >>"$work/report.txt"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$work/report.txt"

if [ "$UPDATE_DOCS" = 1 ]; then
    {
        sed '/<!-- files-results:start -->/q' docs/performance.md
        echo
        echo "Run of $started_at (load average at start $load_at_start), \`$([ "$SIZE_MIB" != 2048 ] && echo "SIZE_MIB=$SIZE_MIB ")bash bench/files/run.sh\`:"
        echo
        echo '```text'
        cat "$work/report.txt"
        echo '```'
        echo
        sed -n '/<!-- files-results:end -->/,$p' docs/performance.md
    } >"$work/performance.md"
    cp "$work/performance.md" docs/performance.md
    echo "docs/performance.md updated (files-results)"
fi
