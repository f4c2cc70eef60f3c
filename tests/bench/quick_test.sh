#!/bin/sh
# deepnet_bench --quick runs every workload of scripts/bench through the public
# API and prints one JSON object per measurement: each workload must be there,
# with a finite time and value (a broken bench program is otherwise only seen
# in a full scripts/bench run). Usage: quick_test.sh PATH/TO/deepnet_bench
set -eu
bench="$1"
out=$("$bench" --quick --threads 1 --seeds 1)
status=0
for workload in planar-shallow deep-fullbatch fmnist-mlp wide-mlp inference; do
  if ! printf '%s\n' "$out" | grep -q "\"workload\":\"$workload\""; then
    echo "quick_test: no result for $workload" >&2
    status=1
  fi
done
if printf '%s\n' "$out" | grep -E -q '"(seconds|value)":(nan|-nan|inf|null)'; then
  echo "quick_test: a non-finite time or value:" >&2
  printf '%s\n' "$out" >&2
  status=1
fi
exit $status
