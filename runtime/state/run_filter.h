#ifndef AMLC_RUNTIME_STATE_RUN_FILTER_H_
#define AMLC_RUNTIME_STATE_RUN_FILTER_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace amlc::runtime {

/// What a run condition or ordering looks at: `metrics.x` (the latest value),
/// `params.x`, `tags.x`, or `attributes.x` (a column of the run).
enum class RunField { kMetric, kParam, kTag, kAttribute };

/// One comparison, in MLflow's search syntax: `metrics.rmse < 50`,
/// `params.alpha = '0.5'`, `tags.dataset = diabetes`, `attributes.status = 'FINISHED'`.
struct RunCondition {
  RunField field = RunField::kMetric;
  std::string key;   // metric/param/tag name, or attribute column (see RunAttributeColumn)
  std::string op;    // =, !=, >, >=, <, <=, LIKE, ILIKE
  std::string text;  // the value as written (unquoted)
  std::optional<double> number;  // the value, when it reads as a number
};

struct RunOrder {
  RunField field = RunField::kMetric;
  std::string key;
  bool descending = false;
};

/// Conditions joined by `and` (any case). Values are numbers, 'quoted' or
/// "quoted" strings, or bare words. kInvalidArgument, with what was expected
/// and an example, on anything else.
StatusOr<std::vector<RunCondition>> ParseRunFilter(std::string_view text);

/// "metrics.accuracy desc", "params.alpha", "attributes.start_time DESC".
StatusOr<RunOrder> ParseRunOrder(std::string_view text);

/// The runs-table column of an attribute name (MLflow's and amlc's names:
/// status, run_id/id, run_name, experiment/experiment_id, job, start_time,
/// end_time, created); "" for an unknown one.
std::string RunAttributeColumn(std::string_view attribute);

/// amlc's status for one of MLflow's run statuses (FINISHED -> Completed,
/// RUNNING, SCHEDULED -> Queued, FAILED, KILLED -> Canceled); amlc's own
/// names pass through.
std::string AmlcStatusName(std::string_view status);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_STATE_RUN_FILTER_H_
