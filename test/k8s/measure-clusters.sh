#!/usr/bin/env bash
# Starts N local clusters in a scratch directory, reports start-up time, memory
# (RSS, PSS, anonymous) per cluster and idle CPU, then stops them.
# Usage: bash test/k8s/measure-clusters.sh [N]   (from the repository root)
set -euo pipefail
count=${1:-2}
export SHOAL_CLUSTERS_DIR=${SHOAL_CLUSTERS_DIR:-/tmp/shoal-measure-clusters}
trap 'npm run --silent clusters -- down >/dev/null 2>&1 || true' EXIT

npm run --silent clusters -- build
start=$(date +%s%N)
npm run --silent clusters -- up --count "$count" 2>&1 | grep -E 'ready|already' || true
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
echo "up --count $count: $((elapsed_ms / 1000)).$((elapsed_ms % 1000 / 100)) s"
sleep 10 # let the controllers settle

kib() { awk -v k="$1" '$1 == k":" {print $2}' "$2"; }
total_rss=0 total_pss=0 total_anon=0
for dir in "$SHOAL_CLUSTERS_DIR"/*/; do
  rss=0 pss=0 anon=0
  for pidfile in "$dir"pids/*.pid; do
    pid=$(cat "$pidfile")
    rss=$((rss + $(kib VmRSS /proc/$pid/status)))
    anon=$((anon + $(kib RssAnon /proc/$pid/status)))
    pss=$((pss + $(kib Pss /proc/$pid/smaps_rollup)))
  done
  echo "$(basename "$dir"): RSS $((rss / 1024)) MiB, PSS $((pss / 1024)) MiB, anonymous $((anon / 1024)) MiB"
  total_rss=$((total_rss + rss)) total_pss=$((total_pss + pss)) total_anon=$((total_anon + anon))
done
echo "all: RSS $((total_rss / 1024)) MiB, PSS $((total_pss / 1024)) MiB, anonymous $((total_anon / 1024)) MiB"

ticks() {
  local sum=0
  for pidfile in "$SHOAL_CLUSTERS_DIR"/*/pids/*.pid; do
    sum=$((sum + $(awk '{print $14 + $15}' /proc/"$(cat "$pidfile")"/stat)))
  done
  echo "$sum"
}
t0=$(ticks); sleep 20; t1=$(ticks)
echo "idle CPU of all cluster processes: $(((t1 - t0) * 100 / (20 * $(getconf CLK_TCK))))% of one core"
