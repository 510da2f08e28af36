#ifndef AMLC_COMPILER_SUPPORT_METRIC_CONDITION_H_
#define AMLC_COMPILER_SUPPORT_METRIC_CONDITION_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace amlc {

/// One comparison of a run's latest metric with a number: "metrics.accuracy >= 0.9".
struct MetricComparison {
  std::string metric;
  std::string op;  // >, >=, <, <=, ==, !=
  double value = 0;
  bool Holds(double actual) const;
};

/// Comparisons joined by "and" (`runs list --where`, a model's register_when).
struct MetricCondition {
  std::vector<MetricComparison> all;
  std::string text;

  /// Whether every comparison holds; a metric the run never logged makes it
  /// false, and `why` says which comparison failed and with what value.
  bool Holds(const std::function<std::optional<double>(const std::string&)>& latest,
             std::string* why = nullptr) const;
};

/// kInvalidArgument, with an example, when `text` is not "metrics.NAME OP NUMBER [and ...]".
StatusOr<MetricCondition> ParseMetricCondition(const std::string& text);

}  // namespace amlc

#endif  // AMLC_COMPILER_SUPPORT_METRIC_CONDITION_H_
