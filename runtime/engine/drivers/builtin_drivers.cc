#include "runtime/engine/drivers/drivers.h"
#include "runtime/engine/drivers/job_driver.h"
#include "runtime/engine/drivers/pipeline_driver.h"
#include "runtime/engine/drivers/sweep_driver.h"

namespace amlc::runtime {

Driver* DriverRegistry::Find(const std::string& kind, const std::string& type) const {
  if (auto it = by_key_.find(kind + "/" + type); !type.empty() && it != by_key_.end()) return it->second;
  auto it = by_key_.find(kind);
  return it == by_key_.end() ? nullptr : it->second;
}

void DriverRegistry::Register(std::unique_ptr<Driver> driver, const std::vector<std::string>& keys) {
  for (const std::string& key : keys) by_key_[key] = driver.get();
  drivers_.push_back(std::move(driver));
}

void RegisterBuiltinDrivers(DriverRegistry& registry, EngineContext& context) {
  // Job types without their own driver reach the command driver, which says so.
  registry.Register(std::make_unique<CommandJobDriver>(context), {"job"});
  registry.Register(std::make_unique<SweepDriver>(context), {"job/sweep"});
  registry.Register(std::make_unique<PipelineDriver>(context), {"job/pipeline"});
  registry.Register(MakeModelDriver(context), {"model"});
  registry.Register(MakeImageDriver(context), {"image"});
  registry.Register(MakeEndpointDriver(context), {"endpoint"});
  registry.Register(MakeDeploymentDriver(context), {"deployment"});
  registry.Register(MakeRecordDriver(context), {"workspace", "datastore", "compute", "environment", "experiment",
                                                "component", "data", "schedule", "reconciler"});
}

}  // namespace amlc::runtime
