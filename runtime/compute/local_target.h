#ifndef AMLC_RUNTIME_COMPUTE_LOCAL_TARGET_H_
#define AMLC_RUNTIME_COMPUTE_LOCAL_TARGET_H_

#include "runtime/compute/compute_target.h"
#include "runtime/compute/local_runner.h"

namespace amlc::runtime {

/// Compute type `local`: runs as processes on this machine (LocalRunner).
class LocalTarget : public ComputeTarget {
 public:
  explicit LocalTarget(Workspace& workspace) : workspace_(workspace), runner_(workspace) {}

  void Run(RunRecord& run, const RunRequest& request, const RunProgress& progress) override;
  void Adopt(RunRecord& run, const RunRequest& request, const RunProgress& progress) override;
  /// Alive while the run's process is; Finished once its exit code is written.
  RunLiveness Observe(const RunRecord& run) override;
  Status Cancel(const std::string& run_id, const std::string& reason) override;
  std::string LogPath(const std::string& run_id) const override { return runner_.log_path(run_id); }

 private:
  Workspace& workspace_;
  LocalRunner runner_;
};

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_COMPUTE_LOCAL_TARGET_H_
