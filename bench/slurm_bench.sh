#!/usr/bin/env bash
# Slurm compute target benchmark, both parts in one run on a two-node cluster of
# its own (tests/servers/slurm.sh):
#   1. submission overhead per run: a sweep of RUNS trials of `true`, one at a time
#      (max_concurrent_trials 1), through amlc's slurm target, against the same
#      number of bare `sbatch --wrap` jobs of the same command, each waited for the
#      way amlc waits (a file the job writes, looked at every 100 ms). Prints the
#      seconds per run of both and the ratio (target: under 1.5x).
#   2. TRIALS sweep trials of a 1-second script, CONCURRENT at a time, on the Slurm
#      target and on the local target (the same spec but its compute): wall time of
#      `amlc apply` for each and the ratio.
# Never fails on timing: exit 0 whatever the figures; 1 if a run fails; 2 if a tool
# is missing.
#
# Settings: AMLC=build/cli/amlc RUNS=20 TRIALS=200 CONCURRENT=4
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
AMLC=${AMLC:-build/cli/amlc}
RUNS=${RUNS:-20}
TRIALS=${TRIALS:-200}
CONCURRENT=${CONCURRENT:-4}
OUT=$ROOT/bench/out/slurm
CLUSTER=$OUT/cluster

[ -x "$AMLC" ] || { echo "slurm_bench: no amlc binary at $AMLC (ninja -C build)" >&2; exit 2; }
command -v sbatch >/dev/null || { echo "slurm_bench: Slurm is missing; run scripts/install-deps.sh as root" >&2; exit 2; }
AMLC=$(cd "$(dirname "$AMLC")" && pwd)/$(basename "$AMLC")

rm -rf "$OUT"
mkdir -p "$OUT"
trap 'tests/servers/slurm.sh stop "$CLUSTER" >/dev/null 2>&1 || true' EXIT
tests/servers/slurm.sh start "$CLUSTER"
[ ! -e "$CLUSTER/unavailable" ] || { cat "$CLUSTER/unavailable" >&2; exit 2; }
export SLURM_CONF=$CLUSTER/slurm.conf
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

now() { date +%s.%N; }
elapsed() { awk "BEGIN { print $2 - $1 }"; }
div() { awk "BEGIN { print $1 / $2 }"; }

# A spec folder: compute NAME of TYPE, a sweep of N trials of COMMAND, C at a time.
write_sweep() {
  local dir="$1" type="$2" trials="$3" concurrent="$4" command="$5"
  mkdir -p "$dir/src"
  echo "import time, sys; time.sleep(float(sys.argv[1]))" >"$dir/src/sleep.py"
  cat >"$dir/compute.yaml" <<YAML
\$schema: https://azuremlschemas.azureedge.net/latest/amlCompute.schema.json
name: target
type: $type
YAML
  local values
  values=$(seq -s, 1 "$trials")
  cat >"$dir/sweep.yaml" <<YAML
\$schema: https://azuremlschemas.azureedge.net/latest/sweepJob.schema.json
type: sweep
name: bench
experiment_name: bench
compute: azureml:target
trial:
  code: ./src
  command: $command \${{inputs.i}}
inputs:
  i: \${{search_space.i}}
search_space:
  i:
    type: choice
    values: [$values]
sampling_algorithm: grid
objective:
  goal: maximize
  primary_metric: none
limits:
  max_total_trials: $trials
  max_concurrent_trials: $concurrent
YAML
}

# Applies DIR; prints the wall seconds. Exits 1 when the apply fails.
timed_apply() {
  local dir="$1" start end
  start=$(now)
  if ! "$AMLC" apply --auto-approve "$dir" >"$dir.log" 2>&1; then
    tail -20 "$dir.log" >&2
    echo "slurm_bench: amlc apply $dir failed (log: $dir.log)" >&2
    exit 1
  fi
  end=$(now)
  elapsed "$start" "$end"
}

echo
echo "1. submission overhead per run ($RUNS runs of \`true\`, one at a time)"
write_sweep "$OUT/overhead" slurm "$RUNS" 1 "true"
amlc_s=$(timed_apply "$OUT/overhead")
mkdir -p "$OUT/bare"
start=$(now)
for i in $(seq "$RUNS"); do
  sbatch --parsable --no-requeue --chdir="$OUT/bare" -o /dev/null --wrap "true; echo 0 > $OUT/bare/done-$i" >/dev/null
  until [ -e "$OUT/bare/done-$i" ]; do sleep 0.1; done
done
bare_s=$(elapsed "$start" "$(now)")
printf '   amlc slurm target: %6.3f s per run (%s runs in %.1f s, a whole apply: compile, plan, snapshot included)\n' \
  "$(div "$amlc_s" "$RUNS")" "$RUNS" "$amlc_s"
printf '   bare sbatch --wrap: %6.3f s per run\n' "$(div "$bare_s" "$RUNS")"
printf '   ratio amlc/bare:    %6.2fx (target < 1.5x)\n' "$(div "$amlc_s" "$bare_s")"

echo
echo "2. $TRIALS sweep trials of a 1-second script, $CONCURRENT at a time"
write_sweep "$OUT/sweep-slurm" slurm "$TRIALS" "$CONCURRENT" "python sleep.py 1"
write_sweep "$OUT/sweep-local" local "$TRIALS" "$CONCURRENT" "python sleep.py 1"
slurm_s=$(timed_apply "$OUT/sweep-slurm")
local_s=$(timed_apply "$OUT/sweep-local")
ideal=$(div "$TRIALS" "$CONCURRENT")
printf '   slurm: %7.1f s   local: %7.1f s   ratio slurm/local: %.2fx   (floor: %.0f s of sleeping)\n' \
  "$slurm_s" "$local_s" "$(div "$slurm_s" "$local_s")" "$ideal"
exit 0
