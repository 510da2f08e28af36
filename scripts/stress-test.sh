#!/usr/bin/env bash
# Runs the whole test suite (scripts/test.sh) with `stress-ng --cpu N` beside it,
# so waits that only hold on an idle machine show up as failures.
#
#   bash scripts/stress-test.sh [N]      (default N=4: twice this machine's cores)
#
# Exit status: the test suite's. stress-ng is stopped by its PID whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
workers=${1:-4}
case "$workers" in ''|*[!0-9]*) echo "usage: $0 [CPU-WORKERS]" >&2; exit 2 ;; esac

bash scripts/install-deps.sh
stress-ng --cpu "$workers" --timeout 0 --quiet &
stress_pid=$!
trap 'kill "$stress_pid" 2>/dev/null || true; wait "$stress_pid" 2>/dev/null || true' EXIT
echo "stress-test: stress-ng --cpu $workers running (pid $stress_pid)"
start=$(date +%s)
status=0
bash scripts/test.sh || status=$?
echo "stress-test: suite exited $status after $(( $(date +%s) - start )) s under stress-ng --cpu $workers"
exit "$status"
