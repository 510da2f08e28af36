#!/usr/bin/env bash
# Scoring host benchmark: the same scoring script served by `amlc serve
# --workers N` and by gunicorn (N sync workers) + Flask, measured in the same
# run with wrk, for (a) a trivial echo script and (b) the quickstart's
# scikit-learn iris model. Prints throughput, p50 and p99 of both and the
# ratios. Never fails on timing: exit 0 whatever the figures; 1 if a server
# does not come up; 2 if a tool is missing.
#
# Settings: AMLC=build/cli/amlc WORKERS=2 DURATION=10s THREADS=2 CONNECTIONS=16
#           WARMUP=2s PYTHON=/usr/bin/python3
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

AMLC=${AMLC:-build/cli/amlc}
WORKERS=${WORKERS:-2}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-16}
WARMUP=${WARMUP:-2s}
PYTHON=${PYTHON:-/usr/bin/python3}
OUT=$ROOT/bench/out/scoring

for tool in wrk gunicorn curl; do
  if ! command -v "$tool" >/dev/null; then
    echo "scoring_bench: $tool is missing; run scripts/install-deps.sh as root (packages wrk, gunicorn, python3-flask)" >&2
    exit 2
  fi
done
if ! "$PYTHON" -c 'import flask, sklearn' 2>/dev/null; then
  echo "scoring_bench: $PYTHON lacks flask or sklearn; run scripts/install-deps.sh as root" >&2
  exit 2
fi
if [ ! -x "$AMLC" ]; then
  echo "scoring_bench: no amlc binary at $AMLC (ninja -C build)" >&2
  exit 2
fi

rm -rf "$OUT"
mkdir -p "$OUT/model"
# A private copy of the binary, so a rebuild during the run cannot swap it.
cp "$AMLC" "$OUT/amlc.bench"
AMLC=$OUT/amlc.bench

"$PYTHON" examples/quickstart/src/train.py --data examples/quickstart/data/iris.csv \
  --model-dir "$OUT/model" >/dev/null
printf '{"data": [[1.0, 2.0, 3.0, 4.0]]}' >"$OUT/echo.json"
printf '{"data": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}' >"$OUT/iris.json"

SERVER_PID=
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=
}
trap stop_server EXIT

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_ready() {  # URL
  for _ in $(seq 300); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "$1" || true)" = 200 ]; then return 0; fi
    sleep 0.05
  done
  return 1
}

# "1.23ms" / "850.00us" / "1.02s" -> milliseconds
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
    else printf "%s", v }'
}

# Runs wrk against URL with BODY (more wrk options may follow); sets RPS, P50, P99, ERRORS.
measure() {  # URL BODY_FILE LABEL [WRK_OPTION...]
  local url=$1 body=$2 label=$3
  shift 3
  BODY_FILE=$body wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" -s bench/scoring/post.lua "$@" "$url" >/dev/null
  BODY_FILE=$body wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/scoring/post.lua "$@" "$url" \
    >"$OUT/$label.wrk"
  set -- "$label"
  RPS=$(awk '/^Requests\/sec:/ {print $2}' "$OUT/$1.wrk")
  P50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$OUT/$1.wrk")")
  P99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$OUT/$1.wrk")")
  ERRORS=$(awk '/Non-2xx or 3xx responses:/ {n += $NF} /Socket errors:/ {gsub(",", ""); n += $4 + $6 + $8 + $10} END {print n + 0}' "$OUT/$1.wrk")
}

run_amlc() {  # SCRIPT LABEL BODY
  local port_file=$OUT/$2.port
  "$AMLC" serve --entry-script "$1" --model-dir "$OUT/model" --workers "$WORKERS" --port-file "$port_file" \
    --log-file "$OUT/$2.log" --python "$PYTHON" >/dev/null &
  SERVER_PID=$!
  for _ in $(seq 200); do [ -s "$port_file" ] && break; sleep 0.05; done
  local port
  port=$(cat "$port_file" 2>/dev/null || true)
  if [ -z "$port" ] || ! wait_ready "http://127.0.0.1:$port/health/ready"; then
    echo "scoring_bench: amlc serve did not become ready; its log:" >&2
    cat "$OUT/$2.log" >&2
    exit 1
  fi
  measure "http://127.0.0.1:$port/score" "$3" "$2"
  A_RPS=$RPS A_P50=$P50 A_P99=$P99 A_ERRORS=$ERRORS
  # The same server with a new connection per request, as gunicorn's sync
  # workers do (they never keep a connection alive): the front's own cost.
  measure "http://127.0.0.1:$port/score" "$3" "$2-close" -H "Connection: close"
  stop_server
}

run_gunicorn() {  # SCRIPT LABEL BODY
  local port
  port=$(free_port)
  AMLC_SCORING_SCRIPT=$1 AZUREML_MODEL_DIR=$OUT/model PYTHONPATH=$ROOT/python:$ROOT/bench/scoring \
    "$PYTHON" /usr/bin/gunicorn -w "$WORKERS" -b "127.0.0.1:$port" --log-level warning \
    --chdir "$(dirname "$1")" flask_app:app >"$OUT/$2.log" 2>&1 &
  SERVER_PID=$!
  if ! wait_ready "http://127.0.0.1:$port/health/ready"; then
    echo "scoring_bench: gunicorn did not become ready; its log:" >&2
    cat "$OUT/$2.log" >&2
    exit 1
  fi
  measure "http://127.0.0.1:$port/score" "$3" "$2"
  stop_server
}

echo "# scoring bench: $WORKERS workers each side, wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency (after a $WARMUP warm-up)"
echo "# $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); wrk runs on the same machine"
printf '%-6s %-12s %10s %9s %9s %7s\n' case server req_per_s p50_ms p99_ms errors
for case in echo iris; do
  if [ "$case" = echo ]; then script=$ROOT/bench/scoring/echo_score.py; else script=$ROOT/examples/quickstart/score/score.py; fi
  body=$OUT/$case.json
  run_amlc "$script" "$case-amlc" "$body"
  printf '%-6s %-12s %10s %9s %9s %7s\n' "$case" amlc "$A_RPS" "$A_P50" "$A_P99" "$A_ERRORS"
  printf '%-6s %-12s %10s %9s %9s %7s\n' "$case" amlc-close "$RPS" "$P50" "$P99" "$ERRORS"
  C_RPS=$RPS
  run_gunicorn "$script" "$case-gunicorn" "$body"
  printf '%-6s %-12s %10s %9s %9s %7s\n' "$case" gunicorn "$RPS" "$P50" "$P99" "$ERRORS"
  awk -v a="$A_RPS" -v c="$C_RPS" -v g="$RPS" -v ap="$A_P99" -v gp="$P99" -v k="$case" 'BEGIN {
    ratio = g > 0 ? a / g : 0
    printf "%-6s amlc/gunicorn throughput %.2fx (target >= 1.5x: %s; with Connection: close %.2fx); p99 %.2f vs %.2f ms (target lower: %s)\n",
      k, ratio, (ratio >= 1.5 ? "met" : "NOT met"), (g > 0 ? c / g : 0), ap, gp, (ap < gp ? "met" : "NOT met") }'
done
echo "# raw wrk output: $OUT/*.wrk; server logs: $OUT/*.log"
