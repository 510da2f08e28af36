#ifndef AMLC_RUNTIME_SERVING_SCORING_SERVING_METRICS_H_
#define AMLC_RUNTIME_SERVING_SCORING_SERVING_METRICS_H_

// Counters of the scoring host, rendered in the Prometheus text exposition
// format (version 0.0.4) on GET /metrics. Lock-free: every scoring request
// updates them, so they are plain atomics.

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace amlc::runtime::serving {

class ServingMetrics {
 public:
  /// Upper bounds (seconds) of the latency histogram's buckets, +Inf implied.
  static constexpr std::array<double, 14> kBuckets = {
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0};

  void RequestStarted() { in_flight_.fetch_add(1, std::memory_order_relaxed); }
  /// One answered POST /score: its HTTP status and its latency.
  void RequestFinished(int status, double seconds);

  /// The text of GET /metrics; worker figures come from the pool.
  std::string Render(uint64_t worker_restarts, int workers_ready, int workers) const;

 private:
  std::array<std::atomic<uint64_t>, 600> by_status_{};  // index = HTTP status
  std::array<std::atomic<uint64_t>, kBuckets.size()>
      buckets_{};  // not cumulative; summed on render
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_ns_{0};
  std::atomic<int64_t> in_flight_{0};
};

}  // namespace amlc::runtime::serving

#endif  // AMLC_RUNTIME_SERVING_SCORING_SERVING_METRICS_H_
