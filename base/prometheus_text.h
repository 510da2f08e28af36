#ifndef AMLC_BASE_PROMETHEUS_TEXT_H_
#define AMLC_BASE_PROMETHEUS_TEXT_H_

// The Prometheus text exposition format (0.0.4), written one metric family
// at a time, and a thread-safe counter of HTTP requests by method, route
// template and status code for the API servers' /metrics.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace amlc {

using PrometheusLabels = std::vector<std::pair<std::string, std::string>>;

class PrometheusText {
 public:
  /// Starts a family: "# HELP name help" and "# TYPE name type" (counter, gauge, histogram).
  void Family(const std::string& name, const std::string& type, const std::string& help);
  /// One sample line; label values are escaped (\\, \", \n).
  void Sample(const std::string& name, const PrometheusLabels& labels, double value);
  /// A histogram family of `values` with the given upper bounds (+Inf implied).
  void Histogram(const std::string& name, const std::string& help, const std::vector<double>& bounds,
                 const std::vector<double>& values);
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

/// Counts answered HTTP requests; safe from any thread.
class HttpRequestCounter {
 public:
  void Add(const std::string& method, const std::string& route, int code);
  /// Adds the family amlc_http_requests_total{method, route, code}.
  void Render(PrometheusText& out) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> counts_;
};

}  // namespace amlc

#endif  // AMLC_BASE_PROMETHEUS_TEXT_H_
