#!/usr/bin/env bash
# bench/all.sh — every performance target's benchmark, one after the other,
# each printing its figures next to the baseline it measured in the same run
# (README "Performance"). Takes 10–15 minutes on a quiet 2-core machine.
#
#   bench/all.sh            all of them
#   bench/all.sh state p2p  only the named groups: blob wasm state execute jobs p2p
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(blob wasm state execute jobs p2p)
bench() { go test -run '^$' -bench "$1" -benchtime "$2" "$3" 2>&1 | grep -v '^\(goos\|goarch\|pkg\|cpu\|PASS\|ok\)'; }

echo "# $(date -u +%FT%TZ) $(nproc) cores, load:$(cut -d' ' -f1-3 /proc/loadavg)"
for g in "${groups[@]}"; do
  echo; echo "## $g"
  case "$g" in
    blob)    go run ./bench/blobbench ;;
    wasm)    bench 'WarmCall|HostCall|MeteringOverhead|CheckpointOverhead' 1s ./internal/wasm/
             bench '^BenchmarkCheckpoint$/gc' 1x ./internal/wasm/ ;;
    state)   bench 'State' 0.5s ./internal/state/ ;;   # builds a 1M-key fixture in $TMPDIR once
    execute) bench 'Execute' 2s ./internal/api/ ;;
    jobs)    bench 'Jobs' 2s ./internal/api/ ;;
    p2p)     bench 'Propagation|BlobFetch|FreshSync|Idle' 1x ./internal/p2p/ ;;
    *)       echo "unknown group $g (blob wasm state execute jobs p2p)" >&2; exit 2 ;;
  esac
done
