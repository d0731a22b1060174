#!/usr/bin/env bash
# Regenerates the measured sections of docs/performance.md, one benchmark after the other (never two at once: they
# share the machine's cores with each other and with the system under test). Each section records its command, its
# start time and the load average beside its figures.
#
#   bash bench/run-all.sh                  # REST scenarios, login storm, history (10 M messages), files (2 GiB), calls
#   bash bench/run-all.sh --with-hub       # also the long hub runs (fan-out on SQLite, PostgreSQL and Node.js; idle)
#   bash bench/run-all.sh --only rest,storm,history,files,calls   # any subset, in this order
#
# Extra variables are passed on: e.g. MESSAGES=1000000 RATE="100 1000" for the history run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
only="rest,storm,history,files,calls"
while [ $# -gt 0 ]; do
  case $1 in
    --with-hub) only="hub,$only"; shift ;;
    --only) only=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
has() { [[ ",$only," == *",$1,"* ]]; }

echo "run-all: $(date -u +%Y-%m-%dT%H:%M:%SZ), load average $(cut -d' ' -f1-3 /proc/loadavg), sections: $only"
if has hub; then
  bash bench/run-hub.sh --scenario all --postgres --update-docs
fi
has rest && bash bench/run-hub.sh --scenario rest --postgres --update-docs
has storm && bash bench/run-hub.sh --scenario storm --postgres --hub-client raw --update-docs
has history && UPDATE_DOCS=1 bash bench/history/run.sh
has files && UPDATE_DOCS=1 bash bench/files/run.sh
has calls && UPDATE_DOCS=1 bash bench/calls/run.sh
echo "run-all: done $(date -u +%Y-%m-%dT%H:%M:%SZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
