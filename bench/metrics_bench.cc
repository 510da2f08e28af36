// Metric ingestion into the SQLite state store: points per second when a run's
// points arrive in batches (one AppendMetrics call per batch), against the
// baseline of one AppendMetrics call, so one transaction, per point, measured
// in the same run on the same disk. See bench/metrics_bench.md.
//
//   metrics_bench [--points N] [--batch B] [--baseline-points N] [--repeat R] [--dir DIR]
//
// Exit status: 0 whatever the timings (the target is reported, not enforced);
// 1 if the store fails or reads back other points than were written; 2 on a
// usage error.

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "runtime/state/state_store.h"

namespace {

namespace fs = std::filesystem;
using amlc::Status;
using amlc::runtime::MetricPoint;
using amlc::runtime::StateStore;

constexpr double kTargetPointsPerSecond = 1e6;

struct Options {
  int64_t points = 1'000'000;
  int64_t batch = 10'000;
  int64_t baseline_points = 20'000;
  int repeat = 3;
  std::string dir;  // "" = a fresh folder under the system temp folder
};

// Names a training loop typically logs every step, interleaved as it logs them.
const char* const kNames[] = {"loss", "accuracy", "learning_rate", "grad_norm"};
constexpr int64_t kNameCount = 4;

// `count` points of `run_id`, split into calls of `batch` points, made before
// the clock starts: filling the vectors is the caller's work, not the store's.
std::vector<std::vector<MetricPoint>> MakeBatches(const std::string& run_id, int64_t count,
                                                  int64_t batch) {
  std::vector<std::vector<MetricPoint>> batches;
  for (int64_t i = 0; i < count; ++i) {
    if (i % batch == 0) {
      batches.emplace_back();
      batches.back().reserve(std::min(batch, count - i));
    }
    MetricPoint& point = batches.back().emplace_back();
    point.run_id = run_id;
    point.name = kNames[i % kNameCount];
    point.step = i / kNameCount;
    point.value = std::sin(static_cast<double>(i)) * 1e3;
    point.timestamp = 1'700'000'000'000 + i;
  }
  return batches;
}

bool Check(const Status& status, const char* what) {
  if (status.ok()) return true;
  std::fprintf(stderr, "metrics_bench: %s: %s\n", what, status.message().c_str());
  return false;
}

// A fresh store at `path` with one run, `run_id`, for the points to belong to.
std::unique_ptr<StateStore> FreshStore(const std::string& path, const std::string& run_id) {
  std::error_code ignored;
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path + suffix, ignored);
  auto store = amlc::runtime::OpenSqliteStore(path);
  if (!Check(store.status(), "opening the store")) return nullptr;
  amlc::runtime::RunRecord run;
  run.id = run_id;
  run.experiment = "bench";
  run.job_id = "job/bench";
  if (!Check((*store)->InsertRun(run), "recording the run")) return nullptr;
  return std::move(*store);
}

// Wall-clock and CPU seconds of one measurement. On a shared machine the CPU
// time says what the work costs, the wall time what a user waits (it also
// holds the fsyncs of WAL checkpoints).
struct Timing {
  double wall = -1;
  double cpu = -1;
};

double CpuSeconds() {
  timespec now;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

// Appends every batch, one call each; wall of -1 on failure.
Timing TimeAppend(StateStore& store, const std::vector<std::vector<MetricPoint>>& batches) {
  auto wall_start = std::chrono::steady_clock::now();
  double cpu_start = CpuSeconds();
  for (const std::vector<MetricPoint>& batch : batches) {
    if (!Check(store.AppendMetrics(batch), "appending metrics")) return {};
  }
  return {std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count(),
          CpuSeconds() - cpu_start};
}

// Every point back, in order and exact.
bool ReadsBack(StateStore& store, const std::string& run_id,
               const std::vector<std::vector<MetricPoint>>& batches) {
  std::vector<MetricPoint> points;
  for (const std::vector<MetricPoint>& batch : batches) {
    points.insert(points.end(), batch.begin(), batch.end());
  }
  auto stored = store.Metrics(run_id, "");
  if (!Check(stored.status(), "reading metrics back")) return false;
  std::stable_sort(points.begin(), points.end(), [](const MetricPoint& a, const MetricPoint& b) {
    return std::tie(a.name, a.step, a.timestamp) < std::tie(b.name, b.step, b.timestamp);
  });
  bool same = stored->size() == points.size();
  for (size_t i = 0; same && i < points.size(); ++i) {
    const MetricPoint& a = (*stored)[i];
    const MetricPoint& b = points[i];
    same = a.run_id == b.run_id && a.name == b.name && a.step == b.step && a.value == b.value &&
           a.text == b.text && a.timestamp == b.timestamp;
  }
  if (!same) std::fprintf(stderr, "metrics_bench: the points read back differ\n");
  return same;
}

// Best of `repeat` runs (by wall time) of appending `count` points `batch` at
// a time into a fresh store; wall of -1 on failure.
Timing Measure(const Options& options, const std::string& path, int64_t count, int64_t batch) {
  const std::string run_id = "bench-run";
  std::vector<std::vector<MetricPoint>> batches = MakeBatches(run_id, count, batch);
  Timing best;
  for (int i = 0; i < options.repeat; ++i) {
    std::unique_ptr<StateStore> store = FreshStore(path, run_id);
    if (!store) return {};
    Timing timing = TimeAppend(*store, batches);
    if (timing.wall < 0) return {};
    if (i == 0 && !ReadsBack(*store, run_id, batches)) return {};
    if (best.wall < 0 || timing.wall < best.wall) best = timing;
  }
  return best;
}

void PrintRow(const char* label, int64_t points, int64_t per_call, const Timing& timing) {
  std::printf("  %-9s %9lld points, %6lld per call: %7.3f s  %10.0f points/s  (%10.0f per CPU s)\n",
              label, static_cast<long long>(points), static_cast<long long>(per_call), timing.wall,
              static_cast<double>(points) / timing.wall, static_cast<double>(points) / timing.cpu);
}

bool ParseOptions(int argc, char** argv, Options* options) {
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) return false;
    const char* value = argv[++i];
    if (flag == "--points") {
      options->points = std::atoll(value);
    } else if (flag == "--batch") {
      options->batch = std::atoll(value);
    } else if (flag == "--baseline-points") {
      options->baseline_points = std::atoll(value);
    } else if (flag == "--repeat") {
      options->repeat = std::atoi(value);
    } else if (flag == "--dir") {
      options->dir = value;
    } else {
      return false;
    }
  }
  return options->points > 0 && options->batch > 0 && options->baseline_points > 0 &&
         options->repeat > 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!ParseOptions(argc, argv, &options)) {
    std::fprintf(stderr,
                 "usage: metrics_bench [--points N] [--batch B] [--baseline-points N] "
                 "[--repeat R] [--dir DIR]\n");
    return 2;
  }
  bool own_dir = options.dir.empty();
  if (own_dir) {
    std::string pattern = (fs::temp_directory_path() / "amlc-metrics-bench-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      std::perror("metrics_bench: mkdtemp");
      return 1;
    }
    options.dir = pattern;
  }
  // A file of the bench's own, never a workspace's state.db, and one it did
  // not find there: it deletes the file between measurements.
  std::string path = (fs::path(options.dir) / "amlc-metrics-bench.db").string();
  if (!own_dir && fs::exists(path)) {
    std::fprintf(stderr, "metrics_bench: %s exists; remove it or choose another --dir\n",
                 path.c_str());
    return 2;
  }

  Timing batched = Measure(options, path, options.points, options.batch);
  Timing baseline =
      batched.wall < 0 ? Timing() : Measure(options, path, options.baseline_points, 1);
  std::error_code ignored;
  if (own_dir) {
    fs::remove_all(options.dir, ignored);
  } else {
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path + suffix, ignored);
  }
  if (batched.wall < 0 || baseline.wall < 0) return 1;

  double batched_rate = static_cast<double>(options.points) / batched.wall;
  double baseline_rate = static_cast<double>(options.baseline_points) / baseline.wall;
  double load[3] = {0, 0, 0};
  getloadavg(load, 3);
  std::printf("metric ingestion into the SQLite state store (%s), best of %d; load average %.2f\n",
              own_dir ? "temp folder" : options.dir.c_str(), options.repeat, load[0]);
  PrintRow("batched", options.points, options.batch, batched);
  PrintRow("baseline", options.baseline_points, 1, baseline);
  std::printf("  ratio batched/baseline: %.1fx\n", batched_rate / baseline_rate);
  std::printf("  target >= %.0f points/s batched: %s\n", kTargetPointsPerSecond,
              batched_rate >= kTargetPointsPerSecond ? "met" : "NOT met");
  return 0;
}
