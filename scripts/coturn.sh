#!/usr/bin/env bash
# Starts coturn for ConnText development and tests, with deploy/coturn/turnserver.conf (hardened) and,
# with --profile test, deploy/coturn/turnserver-test.conf (loopback peers allowed).
#
#   scripts/coturn.sh [--profile hardened|test] [--listen 127.0.0.1 [--listen ::1]] [--port 3478]
#                     [--relay-ports 49152-65535] [--dir DIR] [--secret-file FILE]
#
# The shared secret (the same as ConnText:Calls:TurnSecret) comes from --secret-file or the environment
# variable CONNTEXT_TURN_SECRET; it is written only into DIR/turnserver.conf (mode 600), never onto the
# command line where other users could read it. Runs in the foreground (exec), so the caller owns the
# process: stop it with its pid. Log: DIR/turnserver.log.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
profile=hardened listen=() port=3478 relay_ports=49152-65535 dir="" secret_file=""
while [ $# -gt 0 ]; do
  case $1 in
    --profile) profile=$2; shift 2 ;;
    --listen) listen+=("$2"); shift 2 ;;
    --port) port=$2; shift 2 ;;
    --relay-ports) relay_ports=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --secret-file) secret_file=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "coturn.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

case $profile in hardened|test) ;; *) echo "coturn.sh: --profile is hardened or test" >&2; exit 2 ;; esac
command -v turnserver >/dev/null || { echo "coturn.sh: turnserver not found (apt-get install coturn)" >&2; exit 1; }
if [ -n "$secret_file" ]; then secret=$(<"$secret_file"); else secret=${CONNTEXT_TURN_SECRET:-}; fi
[ ${#secret} -ge 16 ] || { echo "coturn.sh: a secret of at least 16 characters is required (--secret-file or CONNTEXT_TURN_SECRET)" >&2; exit 1; }
[ -n "$dir" ] || dir=$(mktemp -d "${TMPDIR:-/tmp}/conntext-coturn.XXXXXX")
mkdir -p "$dir"

conf="$dir/turnserver.conf"
umask 077
{
  cat "$root/deploy/coturn/turnserver.conf"
  [ "$profile" = test ] && cat "$root/deploy/coturn/turnserver-test.conf"
  echo "# --- added by scripts/coturn.sh"
  for ip in "${listen[@]:-127.0.0.1}"; do
    echo "listening-ip=$ip"
    echo "relay-ip=$ip"
  done
  echo "listening-port=$port"
  echo "min-port=${relay_ports%-*}"
  echo "max-port=${relay_ports#*-}"
  echo "realm=conntext"
  echo "static-auth-secret=$secret"
  echo "no-tls"
  echo "no-dtls"
  echo "log-file=$dir/turnserver.log"
  echo "simple-log"
  echo "pidfile=$dir/turnserver.pid"
  echo "userdb=$dir/turndb"
} >"$conf"

exec turnserver -c "$conf" --no-stdout-log
