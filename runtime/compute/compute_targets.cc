#include "runtime/compute/compute_target.h"
#include "runtime/compute/local_target.h"

namespace amlc::runtime {

ComputeTarget* ComputeTargets::For(const std::string& type) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto made = made_.find(type); made != made_.end()) return made->second.get();
  auto factory = factories_.find(type);
  if (factory == factories_.end()) return nullptr;
  return (made_[type] = factory->second(workspace_)).get();
}

void RegisterBuiltinComputeTargets(ComputeTargets& targets) {
  targets.Register("local", [](Workspace& workspace) { return std::make_unique<LocalTarget>(workspace); });
}

}  // namespace amlc::runtime
