#!/usr/bin/env bash
set -u
for side in new old; do
  dir=/work/main; [ $side = old ] && dir=/tmp/wt-old
  (cd $dir && bash bench/run-hub.sh --scenario rest --rest-rates 100 --login-rates 2 --out /tmp/prof/rest-$side > /tmp/prof/rest-$side.log 2>&1)
  echo "== $side"; grep -E "^ConnText|^\| 100 |^\| 2 " /tmp/prof/rest-$side/summary.md
done
echo done
