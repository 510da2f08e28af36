#include "runtime/serving/scoring/serving_metrics.h"

#include <cstdio>

namespace amlc::runtime::serving {

namespace {

std::string Number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", value);
  return text;
}

}  // namespace

void ServingMetrics::RequestFinished(int status, double seconds) {
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  if (status >= 100 && status < static_cast<int>(by_status_.size())) {
    by_status_[static_cast<size_t>(status)].fetch_add(1, std::memory_order_relaxed);
  }
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      buckets_[i].fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
  sum_ns_.fetch_add(static_cast<uint64_t>(seconds * 1e9), std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::string ServingMetrics::Render(uint64_t worker_restarts, int workers_ready, int workers) const {
  std::string out;
  out += "# HELP amlc_requests_total Scoring requests (POST /score) answered, by HTTP status.\n";
  out += "# TYPE amlc_requests_total counter\n";
  for (size_t status = 100; status < by_status_.size(); ++status) {
    uint64_t count = by_status_[status].load(std::memory_order_relaxed);
    if (count > 0) {
      out += "amlc_requests_total{status=\"" + std::to_string(status) + "\"} " +
             std::to_string(count) + "\n";
    }
  }
  out +=
      "# HELP amlc_request_duration_seconds Time from reading a scoring request to answering it.\n";
  out += "# TYPE amlc_request_duration_seconds histogram\n";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    out += "amlc_request_duration_seconds_bucket{le=\"" + Number(kBuckets[i]) + "\"} " +
           std::to_string(cumulative) + "\n";
  }
  uint64_t count = count_.load(std::memory_order_relaxed);
  out += "amlc_request_duration_seconds_bucket{le=\"+Inf\"} " + std::to_string(count) + "\n";
  out += "amlc_request_duration_seconds_sum " +
         Number(sum_ns_.load(std::memory_order_relaxed) / 1e9) + "\n";
  out += "amlc_request_duration_seconds_count " + std::to_string(count) + "\n";
  out += "# HELP amlc_requests_in_flight Scoring requests being handled now.\n";
  out += "# TYPE amlc_requests_in_flight gauge\n";
  out += "amlc_requests_in_flight " + std::to_string(in_flight_.load(std::memory_order_relaxed)) +
         "\n";
  out += "# HELP amlc_worker_restarts_total Workers started again after a crash or a timeout.\n";
  out += "# TYPE amlc_worker_restarts_total counter\n";
  out += "amlc_worker_restarts_total " + std::to_string(worker_restarts) + "\n";
  out += "# HELP amlc_workers_ready Workers whose init() succeeded and that are running.\n";
  out += "# TYPE amlc_workers_ready gauge\n";
  out += "amlc_workers_ready " + std::to_string(workers_ready) + "\n";
  out += "# HELP amlc_workers Workers configured (--workers).\n";
  out += "# TYPE amlc_workers gauge\n";
  out += "amlc_workers " + std::to_string(workers) + "\n";
  return out;
}

}  // namespace amlc::runtime::serving
