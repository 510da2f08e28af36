#ifndef AMLC_TESTS_RUNTIME_FAKE_DRIVER_H_
#define AMLC_TESTS_RUNTIME_FAKE_DRIVER_H_

// A driver that carries out nothing but remembers what it was asked, for
// tests of the planner and executor (as ninja's test CommandRunner): every
// job runs, every artifact gets a version, actions take `millis` and fail
// when their resource is named in `fail`.

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "runtime/engine/applier.h"

namespace amlc::testing {

class FakeDriver : public runtime::Driver {
 public:
  std::set<std::string> fail;  // resource ids whose Apply fails
  int millis = 0;              // how long each Apply takes

  StatusOr<compiler::planner::Observation> Observe(const compiler::ir::Resource& r,
                                                   const std::map<std::string, std::string>&) override {
    compiler::planner::Observation seen;
    seen.key = "key-of-" + r.id();
    seen.reasons.push_back("the fake driver always makes a new one");
    return seen;
  }

  StatusOr<std::string> Apply(const compiler::planner::Action& action, const compiler::ir::Resource& r,
                              const runtime::Progress&) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      applied_.push_back(r.id());
      max_running_ = std::max(max_running_, ++running_);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(millis));
    std::lock_guard<std::mutex> lock(mutex_);
    --running_;
    if (fail.count(r.id())) return Status(StatusCode::kFailedPrecondition, r.id() + " failed on purpose");
    return "applied " + r.id();
  }

  Status Delete(const compiler::planner::Action& action, bool) override {
    std::lock_guard<std::mutex> lock(mutex_);
    deleted_.push_back(action.resource_id);
    return Status::Ok();
  }

  std::vector<std::string> applied() {
    std::lock_guard<std::mutex> lock(mutex_);
    return applied_;
  }
  int max_running() {
    std::lock_guard<std::mutex> lock(mutex_);
    return max_running_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> applied_;
  std::vector<std::string> deleted_;
  int running_ = 0;
  int max_running_ = 0;
};

/// Registers `driver` for every kind (it must outlive the applier).
inline runtime::Applier::DriverSetup AllKindsTo(FakeDriver& driver) {
  // The registry owns its drivers; this one is the test's, so it is wrapped.
  struct Borrowed : runtime::Driver {
    explicit Borrowed(FakeDriver& to) : to(to) {}
    StatusOr<compiler::planner::Observation> Observe(const compiler::ir::Resource& r,
                                                     const std::map<std::string, std::string>& up) override {
      return to.Observe(r, up);
    }
    StatusOr<std::string> Apply(const compiler::planner::Action& a, const compiler::ir::Resource& r,
                                const runtime::Progress& p) override {
      return to.Apply(a, r, p);
    }
    Status Delete(const compiler::planner::Action& a, bool purge) override { return to.Delete(a, purge); }
    FakeDriver& to;
  };
  return [&driver](runtime::DriverRegistry& registry, runtime::EngineContext&) {
    registry.Register(std::make_unique<Borrowed>(driver),
                      {"job", "model", "image", "endpoint", "deployment", "workspace", "datastore", "compute",
                       "environment", "experiment", "component", "data", "schedule", "reconciler"});
  };
}

}  // namespace amlc::testing

#endif  // AMLC_TESTS_RUNTIME_FAKE_DRIVER_H_
