#!/usr/bin/env bash
# Planner scale benchmark: generated desired states of 1,000 / 3,000 / 10,000 models on a pool
# of 100 nodes; prints wall time of `validate` (load + checks) and `plan` (load + scan + plan)
# with the release binary. Timings only; nothing here passes or fails.
set -euo pipefail
out=${1:-/tmp/reconcile-bench}
bin=$(swift build -c release --show-bin-path)/reconcile
mkdir -p "$out"

seconds() {  # best of 3 runs of "$@", in seconds
  local best=""
  for _ in 1 2 3; do
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null
    end=$(date +%s.%N)
    best=$(python3 -c "b='$best'; t=$end-$start; print(t if not b else min(float(b), t))")
  done
  printf '%.3f' "$best"
}

printf '%-8s %-7s %-10s %-12s %-10s\n' models nodes yaml_MB validate_s plan_s
for models in 1000 3000 10000; do
  dir="$out/desired-$models"
  python3 "$(dirname "$0")/generate-desired.py" "$dir" --models "$models" --nodes 100 --replicas 3
  size=$(du -sm "$dir" | cut -f1)
  v=$(seconds "$bin" validate "$dir")
  p=$(seconds "$bin" plan --desired "$dir" --root "$out/root" --node node-042)
  printf '%-8s %-7s %-10s %-12s %-10s\n' "$models" 100 "$size" "$v" "$p"
done
