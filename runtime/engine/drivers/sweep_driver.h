#ifndef AMLC_RUNTIME_ENGINE_DRIVERS_SWEEP_DRIVER_H_
#define AMLC_RUNTIME_ENGINE_DRIVERS_SWEEP_DRIVER_H_

#include "runtime/engine/drivers/job_driver.h"

namespace amlc::runtime {

/// Sweep jobs: the sweep's run is the parent of one child run per trial.
class SweepDriver : public JobDriver {
 public:
  using JobDriver::JobDriver;
  std::optional<std::string> Unsupported(const compiler::ir::Resource& job) override;

 protected:
  void Carry(RunRecord& parent, const compiler::ir::Resource& job, const compiler::planner::Observation& seen,
             const RunRequest& request, const Progress& progress) override;

 private:
  struct Sweep;
  void RunTrial(Sweep& sweep, size_t index);
  /// The early-termination policy's verdict on trial `index` now ("" = go on).
  std::string PolicyVerdict(Sweep& sweep, size_t index);
  void FinishParent(Sweep& sweep);
};

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_ENGINE_DRIVERS_SWEEP_DRIVER_H_
