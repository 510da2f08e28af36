#include "runtime/compute/local_target.h"

#include <filesystem>

#include "runtime/compute/run_folder.h"

namespace amlc::runtime {

void LocalTarget::Run(RunRecord& run, const RunRequest& request, const RunProgress& progress) {
  runner_.Execute(run, request, progress);
}

void LocalTarget::Adopt(RunRecord& run, const RunRequest& request, const RunProgress& progress) {
  runner_.Attach(run, request, progress);
}

RunLiveness LocalTarget::Observe(const RunRecord& run) {
  if (run.pid > 0 && RunProcessAlive(workspace_, run)) return RunLiveness::kAlive;
  std::error_code error;
  if (std::filesystem::exists(ExitCodeFile(workspace_, run.id), error)) return RunLiveness::kFinished;
  return RunLiveness::kLost;
}

Status LocalTarget::Cancel(const std::string& run_id, const std::string& reason) {
  return CancelRun(workspace_, run_id, reason);
}

}  // namespace amlc::runtime
