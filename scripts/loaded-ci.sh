#!/usr/bin/env bash
# Runs `.ci/run` in N fresh clones of this checkout's HEAD at the same time (default 2), so each run is loaded by
# the others: how the README's "beside a second npm test" figures and the loaded runs of the suite were measured.
# Each run's log is /tmp/loaded-ci-<i>.log; the last lines printed are each run's `N passed, N failed` and exit code.
#
#   bash scripts/loaded-ci.sh [N]
set -uo pipefail
n=${1:-2}
root=$(cd "$(dirname "$0")/.." && pwd)
for i in $(seq "$n"); do
  rm -rf "/tmp/loaded-ci-$i"
  git clone -q "$root" "/tmp/loaded-ci-$i"
done
for i in $(seq "$n"); do
  (cd "/tmp/loaded-ci-$i" && bash .ci/run >"/tmp/loaded-ci-$i.log" 2>&1; echo "exit $?" >>"/tmp/loaded-ci-$i.log") &
done
wait
for i in $(seq "$n"); do
  echo "run $i: $(tail -2 "/tmp/loaded-ci-$i.log" | head -1), $(tail -1 "/tmp/loaded-ci-$i.log")"
done
