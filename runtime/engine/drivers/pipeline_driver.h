#ifndef AMLC_RUNTIME_ENGINE_DRIVERS_PIPELINE_DRIVER_H_
#define AMLC_RUNTIME_ENGINE_DRIVERS_PIPELINE_DRIVER_H_

#include "runtime/engine/drivers/job_driver.h"

namespace amlc::runtime {

/// Pipeline jobs: the pipeline's own run is the parent of its steps' runs.
class PipelineDriver : public JobDriver {
 public:
  using JobDriver::JobDriver;

 protected:
  /// Completes once the steps have (they are actions the pipeline's run waits
  /// for), recording which step runs made it.
  void Carry(RunRecord& run, const compiler::ir::Resource& job, const compiler::planner::Observation& seen,
             const RunRequest& request, const Progress& progress) override;
};

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_ENGINE_DRIVERS_PIPELINE_DRIVER_H_
