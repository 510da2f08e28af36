#!/usr/bin/env python3
"""Cost of amlc's run.log (python/amlc) against the same loop without logging.

    /usr/bin/python3 bench/log_bench.py [--n 100000] [--repeat 7] [--check]

Sets AMLC_RUN_ID / AMLC_TRACKING_FILE (a temp file) as the runner does, gets
the context with Run.get_context() and times loops of N iterations:

  baseline   v = i * 0.001; noop("accuracy", v)       the loop without logging
  log        v = i * 0.001; run.log("accuracy", v)    auto step (the common call)
  log rand   for v in randoms: run.log("loss", v)     17-digit floats: repr costs more
  log+step   ... run.log("accuracy", v, step=i)
  log int    ... run.log("epoch", i)
  log str    run.log("phase", "train")
  log_row    ... run.log_row("roc", fpr=v, tpr=v, thr=v)   3 points per call

Each timed loop ends with run.flush(), so the batched writes to the file are
counted. Loops alternate and the best of --repeat runs is kept (a burst of
load elsewhere on the machine hits all alike); CPU time (process_time, which
includes the flusher thread) is printed next to wall time.

Then the same comparison with a loop body that does some work (a 200-weight
update in pure Python, like a tiny training step), to show the relative cost
in a loop that is not empty.

Prints µs per call, the overhead per call over the baseline, the overhead for
100,000 points and the ratio. Exit status 0 whatever the timings; with
--check, 1 if run.log costs 5 µs per call or more.
"""

import argparse
import os
import random
import sys
import tempfile
import time

TARGET_US = 5.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--n", type=int, default=100_000, help="iterations per loop")
    parser.add_argument("--repeat", type=int, default=7, help="runs per loop; the best is kept")
    parser.add_argument("--check", action="store_true", help="exit 1 if run.log >= 5 µs/call")
    args = parser.parse_args()

    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, "..", "python"))
    tmp = tempfile.TemporaryDirectory(prefix="amlc-log-bench-")
    tracking = os.path.join(tmp.name, "tracking.jsonl")
    os.environ.update(AMLC_RUN_ID="bench-run", AMLC_EXPERIMENT="bench",
                      AMLC_TRACKING_FILE=tracking, AMLC_OUTPUTS_DIR=os.path.join(tmp.name, "outputs"))
    from amlc import Run
    run = Run.get_context(allow_offline=False)
    n = args.n

    def noop(name, value, step=None):
        pass

    def baseline():
        f = noop
        for i in range(n):
            v = i * 0.001
            f("accuracy", v)

    def log():
        f = run.log
        for i in range(n):
            v = i * 0.001
            f("accuracy", v)
        run.flush()

    rng = random.Random(1)
    randoms = [rng.random() for _ in range(n)]

    def log_random():
        f = run.log
        for v in randoms:
            f("loss", v)
        run.flush()

    def log_step():
        f = run.log
        for i in range(n):
            v = i * 0.001
            f("accuracy-s", v, step=i)
        run.flush()

    def log_int():
        f = run.log
        for i in range(n):
            f("epoch", i)
        run.flush()

    def log_str():
        f = run.log
        for i in range(n):
            f("phase", "train")
        run.flush()

    def log_row():
        f = run.log_row
        for i in range(n):
            v = i * 0.001
            f("roc", fpr=v, tpr=v, thr=v)
        run.flush()

    weights = [0.5] * 200
    grads = [0.001] * 200

    def work_step(w, g):
        return [wi - 0.01 * gi for wi, gi in zip(w, g)]

    def work_baseline():
        f, w = noop, weights
        for i in range(n // 10):
            w = work_step(w, grads)
            f("loss", w[0])

    def work_log():
        f, w = run.log, weights
        for i in range(n // 10):
            w = work_step(w, grads)
            f("loss-w", w[0])
        run.flush()

    loops = [("baseline", baseline, n), ("log", log, n), ("log rand", log_random, n),
             ("log+step", log_step, n),
             ("log int", log_int, n), ("log str", log_str, n), ("log_row", log_row, n),
             ("work", work_baseline, n // 10), ("work+log", work_log, n // 10)]
    best = {name: (float("inf"), float("inf")) for name, _, _ in loops}
    written = {}  # loop -> (records, bytes) of one run
    for _ in range(args.repeat):
        for name, fn, _ in loops:
            w0, c0 = time.perf_counter(), time.process_time()
            fn()
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
            with open(tracking, "rb") as f:
                written[name] = (sum(1 for _ in f), f.tell())
            os.truncate(tracking, 0)  # the O_APPEND descriptor goes on at the new end

    def us(name, count):
        return best[name][0] / count * 1e6, best[name][1] / count * 1e6

    lines, size = written["log"]
    print("amlc run.log benchmark: N = %d, best of %d, Python %s, %d CPUs, load average %.2f" % (
        n, args.repeat, sys.version.split()[0], os.cpu_count(), os.getloadavg()[0]))
    print("one 'log' loop wrote %d records, %.1f MB (%.0f bytes/record)" % (
        lines, size / 1e6, size / max(lines, 1)))
    print()
    print("%-10s %12s %12s %14s %16s %8s" % ("loop", "us/call", "cpu us/call",
                                              "overhead us", "per 100k pts ms", "ratio"))
    base_wall, base_cpu = us("baseline", n)
    for name, _, count in loops[:-2]:
        wall, cpu = us(name, count)
        overhead = wall - base_wall
        print("%-10s %12.3f %12.3f %14s %16s %8s" % (
            name, wall, cpu,
            "-" if name == "baseline" else "%.3f" % overhead,
            "-" if name == "baseline" else "%.1f" % (overhead * 1e5 / 1e3),
            "-" if name == "baseline" else "%.1fx" % (wall / base_wall)))
    work_wall, work_cpu = us("work", n // 10)
    work_log_wall, work_log_cpu = us("work+log", n // 10)
    log_wall, _ = us("log", n)
    overhead = log_wall - base_wall
    print()
    print("loop with work (a 200-weight update per iteration, %d iterations):" % (n // 10))
    print("  without logging %.2f us/iter, with run.log %.2f us/iter: %+.1f%% (CPU time: %.2f, %.2f, %+.1f%%)"
          % (work_wall, work_log_wall, (work_log_wall / work_wall - 1) * 100,
             work_cpu, work_log_cpu, (work_log_cpu / work_cpu - 1) * 100))
    print()
    print("run.log: %.2f us/call (target < %.0f us): %s" % (
        log_wall, TARGET_US, "met" if log_wall < TARGET_US else "NOT met"))
    work_overhead = work_log_wall - work_wall
    work_overhead_cpu = work_log_cpu - work_cpu
    print("overhead %.2f us/point in the empty loop = %.0f ms per 100,000 points; in the loop with "
          "work %.2f us/point (CPU time: %.2f)" % (overhead, overhead * 100, work_overhead,
                                                   work_overhead_cpu))
    print("logging stays under 10%% of a loop whose body takes at least %.0f us per logged point "
          "(by CPU time: %.0f us; wall time is noisier on a busy machine)"
          % (max(overhead, work_overhead) * 10, max(us("log", n)[1] - base_cpu, work_overhead_cpu) * 10))
    tmp.cleanup()
    if args.check and log_wall >= TARGET_US:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
