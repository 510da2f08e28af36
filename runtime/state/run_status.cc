#include "runtime/state/state_store.h"

#include <algorithm>
#include <cctype>

namespace amlc::runtime {

const char* RunStatusName(RunStatus status) {
  switch (status) {
    case RunStatus::kQueued: return "Queued";
    case RunStatus::kRunning: return "Running";
    case RunStatus::kCompleted: return "Completed";
    case RunStatus::kFailed: return "Failed";
    case RunStatus::kCanceled: return "Canceled";
  }
  return "Queued";
}

std::optional<RunStatus> ParseRunStatus(std::string_view name) {
  for (RunStatus status : {RunStatus::kQueued, RunStatus::kRunning, RunStatus::kCompleted,
                           RunStatus::kFailed, RunStatus::kCanceled}) {
    std::string_view candidate = RunStatusName(status);
    if (candidate.size() == name.size() &&
        std::equal(candidate.begin(), candidate.end(), name.begin(),
                   [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      return status;
    }
  }
  return std::nullopt;
}

}  // namespace amlc::runtime
