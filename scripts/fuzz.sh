#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang, ASan and UBSan into
# build-fuzz/, runs each for SECONDS (default 180) and reports executions,
# exec/s, coverage and crashes.
#
#   bash scripts/fuzz.sh [SECONDS] [dsl] [yaml]     (default: both targets)
#
# Environment:
#   FUZZ_PARALLEL=1   run the targets at once (one core each) instead of in turn
#   FUZZ_RSS_LIMIT_MB=512  libFuzzer's -rss_limit_mb (an input whose process grows past it is a finding)
#   FUZZ_ARGS="..."   extra libFuzzer flags, e.g. FUZZ_ARGS="-fork=2 -ignore_crashes=1"
#
# Each target first replays its corpus (so a run takes longer than SECONDS
# once the corpus has grown), then fuzzes with -max_len=4096 -timeout=10 (an
# input taking longer than 10 s is a hang) and -rss_limit_mb=512, the seeds of
# tests/fuzz/corpus/<target> and the dictionary tests/fuzz/<target>.dict. New inputs go to build-fuzz/corpus/
# (not into the repository); crashes, hangs and sanitizer reports are saved
# in build-fuzz/artifacts/<target>/. To keep one as a regression test:
#   build-fuzz/tests/fuzz/amlc_dsl_fuzzer -minimize_crash=1 -runs=10000 ARTIFACT
#   cp <minimized> tests/fuzz/regressions/dsl-<short-name>.aml
# Exit status: 0 when no target found anything, 1 otherwise, 2 on usage errors.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

seconds=180
targets=()
for arg in "$@"; do
  case "$arg" in
    dsl|yaml) targets+=("$arg") ;;
    ''|*[!0-9]*) echo "usage: $0 [SECONDS] [dsl] [yaml]" >&2; exit 2 ;;
    *) seconds=$arg ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(dsl yaml)

build=$root/build-fuzz
if [ ! -f "$build/build.ninja" ]; then
  extra=()
  # Until the root CMakeLists.txt adds tests/fuzz under AMLC_FUZZ, inject it.
  if ! grep -q 'add_subdirectory(tests/fuzz)' CMakeLists.txt; then
    extra+=("-DCMAKE_PROJECT_amlc_INCLUDE=$root/tests/fuzz/inject.cmake")
  fi
  CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DAMLC_FUZZ=ON "${extra[@]}"
fi
binaries=()
for t in "${targets[@]}"; do binaries+=("amlc_${t}_fuzzer"); done
ninja -C "$build" "${binaries[@]}"

# ASan keeps freed memory in its size-class free lists and a 256 MiB
# quarantine, so a process that once ran a large input (a YAML file whose
# aliases expand to the 16 MiB limit peaks near 150 MiB under ASan) keeps that
# memory for good, and the RSS of a long run is the sum of those peaks, not a
# leak: measured on the YAML corpus, 564 MiB after 4,096 inputs with ASan's
# defaults, 239 MiB with these two settings. They let -rss_limit_mb (512 by
# default, as the hardening issue asks) catch what one input does.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_stack_use_after_return=1:quarantine_size_mb=64:allocator_release_to_os_interval_ms=500}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

run_one() {
  local target=$1
  local corpus=$build/corpus/$target artifacts=$build/artifacts/$target/
  mkdir -p "$corpus" "$artifacts"
  # shellcheck disable=SC2086  # FUZZ_ARGS is a list of flags
  "$build/tests/fuzz/amlc_${target}_fuzzer" \
    -max_len=4096 -timeout=10 -rss_limit_mb="${FUZZ_RSS_LIMIT_MB:-512}" -max_total_time="$seconds" -print_final_stats=1 \
    -dict="$root/tests/fuzz/$target.dict" -artifact_prefix="$artifacts" ${FUZZ_ARGS:-} \
    "$corpus" "$root/tests/fuzz/corpus/$target" > "$build/fuzz-$target.log" 2>&1 || true
}

start=$(date +%s)
if [ "${FUZZ_PARALLEL:-0}" = 1 ]; then
  for t in "${targets[@]}"; do run_one "$t" & done
  wait
else
  for t in "${targets[@]}"; do
    echo "fuzzing $t for ${seconds}s (log: build-fuzz/fuzz-$t.log)"
    run_one "$t"
  done
fi

failed=0
printf '\n%-6s %12s %8s %6s %8s %7s  %s\n' target executions exec/s cov corpus rss_mb findings
for t in "${targets[@]}"; do
  log=$build/fuzz-$t.log
  statval() { sed -n "s/^stat::$1: *//p" "$log" | tail -n 1; }
  execs=$(statval number_of_executed_units)
  rate=$(statval average_exec_per_sec)
  rss=$(statval peak_rss_mb)
  # The last status line: "#N ... cov: C ft: F corp: U/S ..."
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
  corp=$(grep -oE 'corp: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
  # Artifacts written during this run (libFuzzer prints their paths).
  mapfile -t found < <(sed -n 's/.*Test unit written to //p' "$log")
  findings=${#found[@]}
  printf '%-6s %12s %8s %6s %8s %7s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" \
    "${corp:-?}" "${rss:-?}" "$findings"
  if [ "$findings" -gt 0 ] || grep -qE '^==[0-9]+==ERROR|runtime error:|ERROR: libFuzzer' "$log"; then
    failed=1
    grep -m1 -E 'ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error:' "$log" | sed 's/^/       /'
    for f in "${found[@]}"; do echo "       reproducer: $f"; done
    echo "       replay:     build-fuzz/tests/fuzz/amlc_${t}_fuzzer <reproducer>"
  fi
done
echo "fuzzed ${seconds}s per target in $(( $(date +%s) - start ))s wall"
exit $failed
