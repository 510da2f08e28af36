#ifndef AMLC_RUNTIME_ENGINE_APPLY_EVENTS_H_
#define AMLC_RUNTIME_ENGINE_APPLY_EVENTS_H_

// `amlc apply --json` and `destroy --json`: one JSON object per line as the
// apply goes (schema: cli/apply_events.schema.json, described in
// cli/README.md), as `terraform apply -json` does. The CLI writes the lines to
// stdout, the workspace server streams them to the client.
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "compiler/planner/plan.h"
#include "runtime/engine/executor.h"

namespace amlc::runtime {

inline constexpr const char* kApplyEventsSchema = "amlc-apply-events/1";

class ApplyEvents : public ProgressReporter {
 public:
  /// Receives each event as one line, newline included, one call at a time.
  using LineWriter = std::function<void(const std::string& line)>;
  explicit ApplyEvents(LineWriter write);

  /// {"type":"plan"}: every action to carry out and the plan's counts.
  void Planned(const compiler::planner::Plan& plan, const std::string& workspace);
  /// {"type":"error"}: the apply stopped before or instead of running actions.
  void Error(const std::string& message);
  /// {"type":"summary"}: the outcome and the counts, last.
  void Summary(const std::vector<ActionResult>& results, int exit_code);

  void Started(size_t index, const compiler::planner::Action& action) override;
  void Progress(size_t index, const std::string& status) override;
  /// {"type":"bytes"}: a transfer's bytes so far, its total when known.
  void Bytes(size_t index, const ByteProgress& progress) override;
  void Finished(size_t index, const compiler::planner::Action& action, const ActionResult& result,
                double seconds) override;

 private:
  void Emit(nlohmann::json event);  // adds type-independent fields, writes one line

  LineWriter write_;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point started_;
  std::map<size_t, std::string> run_ids_;  // action index -> the run it started
};

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_ENGINE_APPLY_EVENTS_H_
