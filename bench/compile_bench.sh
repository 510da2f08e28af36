#!/usr/bin/env bash
# Benchmark of `amlc validate` and `amlc graph` on generated spec folders.
#
#   bash bench/compile_bench.sh            # N = 1000 10000 50000
#   SIZES="1000 10000" RUNS=5 AMLC=/path/to/amlc bash bench/compile_bench.sh
#
# For each N it writes bench/out/nN with bench/gen_specs.py, checks that it
# validates cleanly, then keeps the best wall-clock (and least CPU) time of
# RUNS alternating runs of
#   amlc validate DIR
#   amlc graph DIR --format json > /dev/null
# and of at least 10 runs of
#   baseline: python3 reading the same spec files and splitting them into
#             lines and whitespace-separated words (no parsing)
#   cat of the same spec files > /dev/null (the raw I/O floor, for reference)
# and prints a table with ratios to the baseline and the growth exponent
# log(t2/t1) / log(N2/N1) between successive N. See bench/README.md.
#
# A benchmark, not a test: the targets (N = 10,000 under 1 s; time growing no
# faster than N log N) are reported, never enforced. The exit status is 0
# whatever the timings; it is 1 only if a generated folder does not validate
# cleanly (a generator or compiler bug, printed in full) and 2 on usage errors.
set -u -o pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH_DIR")"
OUT="$BENCH_DIR/out"
AMLC_SRC="${AMLC:-$ROOT/build/cli/amlc}"
SIZES="${SIZES:-1000 10000 50000}"
RUNS="${RUNS:-3}"
BASE_RUNS=$((RUNS > 10 ? RUNS : 10))
PYTHON="${PYTHON:-python3}"
TARGET_N=10000
TARGET_S=1

if [[ ! -x "$AMLC_SRC" ]]; then
  echo "compile_bench: no amlc at $AMLC_SRC; build it with: ninja -C $ROOT/build" >&2
  exit 2
fi
mkdir -p "$OUT"
# Time a private copy: a rebuild of build/ during the run must not swap the
# binary between measurements.
AMLC="$OUT/amlc.bench"
cp "$AMLC_SRC" "$AMLC"
# The interpreter itself, not a wrapper such as a pyenv shim, whose own
# start-up would be timed as part of the baseline.
PY_EXE="$("$PYTHON" -c 'import sys; print(sys.executable)')" || PY_EXE="$PYTHON"

# One run of "$@" (stdout and stderr discarded): prints "WALL CPU", the
# wall-clock and user+system CPU seconds (bash's `time`); returns its status.
measure() {
  local TIMEFORMAT='%3R %3U %3S' times status
  times=$( { time "$@" >/dev/null 2>&1; } 2>&1 )
  status=$(( $? ))
  awk -v t="$times" 'BEGIN { split(t, a, " "); printf "%.3f %.3f", a[1], a[2] + a[3] }'
  return $status
}

# Keeps the minimum of each column of "WALL CPU" lines on stdin.
minimum() {
  awk 'NR == 1 || $1 < w { w = $1 } NR == 1 || $2 < c { c = $2 } END { printf "%.3f %.3f", w, c }'
}

# The baseline: read every spec file and split it into lines and words.
# shellcheck disable=SC2317  # (called through measure)
baseline_pass() {
  "$PY_EXE" -S -c '
import sys
lines = words = 0
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        text = f.read()
    lines += text.count(b"\n")
    words += len(text.split())
print(lines, words)
' "$@"
}

# shellcheck disable=SC2317  # (called through measure)
cat_pass() { cat "$@"; }

spec_files() {  # the spec files of folder $1, as amlc lists them (top level here)
  find "$1" -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.aml' \) -not -path '*/.*' | sort
}

echo "amlc compile benchmark: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores, load average$(cut -d' ' -f1-3 /proc/loadavg | sed 's/^/ /')"
echo "binary: $AMLC_SRC ($(sha256sum "$AMLC" | cut -c1-12), built $(date -u -r "$AMLC_SRC" +%Y-%m-%dT%H:%M:%SZ)); git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$( [[ -n "$(git -C "$ROOT" --no-optional-locks status --porcelain --untracked-files=no -- compiler cli specs grammar 2>/dev/null)" ]] && echo ' + uncommitted changes in compiler/cli/specs/grammar')"
echo "best of $RUNS runs each, alternating (baselines: best of $BASE_RUNS); baseline = python3 reading the same spec files and splitting them into lines and words"
echo

declare -a NS FILES BYTES TV TG TB TC OK
invalid=0
for n in $SIZES; do
  dir="$OUT/n$n"
  if ! gen_out=$("$PYTHON" "$BENCH_DIR/gen_specs.py" "$n" "$dir" 2>&1); then
    echo "compile_bench: gen_specs.py $n failed: $gen_out" >&2
    invalid=1
    continue
  fi
  echo "generated $gen_out"
  # Correctness first: the folder must validate with no problems at all.
  check=$("$AMLC" validate "$dir" 2>&1)
  status=$?
  OK+=(1)
  if [[ $status -ne 0 || "$check" != *": $n resources in "*", no problems" ]]; then
    echo "compile_bench: N=$n: generated folder does not validate cleanly (exit $status):" >&2
    echo "$check" | head -n 60 >&2
    invalid=1
    OK[${#OK[@]} - 1]=0
  fi
  mapfile -t files < <(spec_files "$dir")
  NS+=("$n")
  FILES+=("${#files[@]}")
  BYTES+=("$(cat "${files[@]}" | wc -c)")
  # Runs alternate, so a burst of load elsewhere hits validate and graph alike.
  runs_v="" runs_g="" runs_b="" runs_c=""
  for ((r = 0; r < RUNS; r++)); do
    runs_v+="$(measure "$AMLC" validate "$dir")"$'\n'
    runs_g+="$(measure "$AMLC" graph "$dir" --format json)"$'\n'
  done
  # The baselines take milliseconds: more runs steady their minimum.
  for ((r = 0; r < BASE_RUNS; r++)); do
    runs_b+="$(measure baseline_pass "${files[@]}")"$'\n'
    runs_c+="$(measure cat_pass "${files[@]}")"$'\n'
  done
  TV+=("$(printf '%s' "$runs_v" | minimum)")
  TG+=("$(printf '%s' "$runs_g" | minimum)")
  TB+=("$(printf '%s' "$runs_b" | minimum)")
  TC+=("$(printf '%s' "$runs_c" | minimum)")
done
echo

if ((${#NS[@]} == 0)); then
  echo "compile_bench: nothing measured" >&2
  exit 1
fi

# The table and the verdicts, from the numbers gathered above. Each time is
# "WALL CPU"; the verdicts go by wall clock, with CPU time alongside (it is
# what a busy neighbour on the machine distorts least).
{
  for i in "${!NS[@]}"; do
    echo "${NS[$i]} ${FILES[$i]} ${BYTES[$i]} ${TV[$i]} ${TG[$i]} ${TB[$i]} ${TC[$i]} ${OK[$i]}"
  done
} | awk -v target_n="$TARGET_N" -v target_s="$TARGET_S" '
function growth(t1, t2, n1, n2) { return (t1 > 0 && t2 > 0) ? log(t2 / t1) / log(n2 / n1) : 0 }
function nlogn(n1, n2) { return log((n2 * log(n2)) / (n1 * log(n1))) / log(n2 / n1) }
function yes(b) { return b ? "yes" : "NO" }
{
  n[NR] = $1; files[NR] = $2; bytes[NR] = $3
  tv[NR] = $4; cv[NR] = $5; tg[NR] = $6; cg[NR] = $7; tb[NR] = $8; tc[NR] = $10; valid[NR] = $12
}
END {
  printf "%7s %6s %10s %10s %8s %7s %8s %8s %8s %8s %7s %7s\n", "N", "files", "bytes",
         "validate_s", "graph_s", "base_s", "val/base", "grf/base", "cat_s", "val_cpu", "exp_val", "exp_grf"
  for (i = 1; i <= NR; i++) {
    ev = i > 1 ? sprintf("%.2f", growth(tv[i-1], tv[i], n[i-1], n[i])) : "-"
    eg = i > 1 ? sprintf("%.2f", growth(tg[i-1], tg[i], n[i-1], n[i])) : "-"
    printf "%7d %6d %10d %10.3f %8.3f %7.3f %8.1f %8.1f %8.3f %8.3f %7s %7s%s\n", n[i], files[i], bytes[i],
           tv[i], tg[i], tb[i], (tb[i] > 0 ? tv[i] / tb[i] : 0), (tb[i] > 0 ? tg[i] / tb[i] : 0),
           tc[i], cv[i], ev, eg, (valid[i] ? "" : "  INVALID: did not validate, timings meaningless")
  }
  print ""
  print "times: best wall clock, s; val_cpu: least user+system CPU of validate, s; base: the baseline;"
  print "exp_*: log(t2/t1)/log(N2/N1) against the previous row, 1.00 being linear."
  found = 0
  for (i = 1; i <= NR; i++) {
    if (n[i] != target_n) continue
    found = 1
    printf "N=%d under %g s: wall clock %s (validate %.3f s, graph %.3f s), CPU time %s (%.3f s, %.3f s)\n",
           target_n, target_s, yes(tv[i] < target_s && tg[i] < target_s), tv[i], tg[i],
           yes(cv[i] < target_s && cg[i] < target_s), cv[i], cg[i]
  }
  if (!found) printf "N=%d under %g s: not measured (N=%d not in SIZES)\n", target_n, target_s, target_n
  if (NR < 2) { print "growth within N log N: not measured (needs two sizes)"; exit }
  ok = 1; cpu_ok = 1; detail = ""
  for (i = 2; i <= NR; i++) {
    bound = nlogn(n[i-1], n[i])
    ev = growth(tv[i-1], tv[i], n[i-1], n[i]); eg = growth(tg[i-1], tg[i], n[i-1], n[i])
    cev = growth(cv[i-1], cv[i], n[i-1], n[i]); ceg = growth(cg[i-1], cg[i], n[i-1], n[i])
    if (ev > bound || eg > bound) ok = 0
    if (cev > bound || ceg > bound) cpu_ok = 0
    detail = detail sprintf("%s%d->%d: validate %.2f, graph %.2f (CPU %.2f, %.2f), N log N allows %.2f",
                            (detail == "" ? "" : "; "), n[i-1], n[i], ev, eg, cev, ceg, bound)
  }
  printf "growth within N log N: wall clock %s, CPU time %s (%s)\n", yes(ok), yes(cpu_ok), detail
}'

echo "(timings are reported, never enforced: this script does not fail on them)"
if ((invalid)); then
  echo "compile_bench: some generated folders did not validate cleanly; see above" >&2
  exit 1
fi
exit 0
