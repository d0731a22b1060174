#!/usr/bin/env bash
# A/B: new (working tree /work/main) vs old (8aeebc6, /tmp/wt-old), fan-out on SQLite
set -u
stamp=$1; shift
for round in 1 2; do
  for side in new old; do
    dir=/work/main; [ $side = old ] && dir=/tmp/wt-old
    (cd $dir && bash bench/run-hub.sh --scenario fanout --hub-client raw --baselines none \
        --rates 200,300,400 --gc-metrics --out /tmp/prof/ab-$stamp-$side-$round "$@" > /tmp/prof/ab-$stamp-$side-$round.log 2>&1)
    grep -E "^\| (200|300|400) " /tmp/prof/ab-$stamp-$side-$round/summary.md | sed "s/^/$side $round /"
  done
done
echo done
