#ifndef AMLC_RUNTIME_ENGINE_DRIVER_H_
#define AMLC_RUNTIME_ENGINE_DRIVER_H_

// The one interface between the engine (planner, executor) and the code that
// carries out each kind of resource. A driver observes what exists for a
// resource, applies an action to it, and deletes what a removed resource
// created. Drivers know the typed IR resource they are handed and the
// workspace, never the specs' files or formats.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/progress_sink.h"
#include "base/status.h"
#include "compiler/ir/graph.h"
#include "compiler/planner/planner.h"

namespace amlc::runtime {

class EngineContext;
/// An action's statuses and the bytes it moves (pushes, builds, snapshots).
using Progress = ProgressSink;

class Driver {
 public:
  virtual ~Driver() = default;

  /// Why this driver cannot carry out `resource` here (a type it has no
  /// target for); nullopt when it can.
  virtual std::optional<std::string> Unsupported(const compiler::ir::Resource& resource) { return std::nullopt; }

  /// What exists now for `resource` (see planner::Observation);
  /// `upstream_runs` maps each job it reads outputs from to the completed
  /// run whose outputs it would read. Fails when the key cannot be computed.
  virtual StatusOr<compiler::planner::Observation> Observe(
      const compiler::ir::Resource& resource, const std::map<std::string, std::string>& upstream_runs) = 0;

  /// Carries out a create, update, replace or run of `resource`; returns
  /// what happened ("run X Completed", "registered iris:3"). Fails with what
  /// went wrong; nothing is recorded as applied then.
  virtual StatusOr<std::string> Apply(const compiler::planner::Action& action,
                                      const compiler::ir::Resource& resource, const Progress& progress) = 0;

  /// Takes down what the resource `action.resource_id` (no longer in the
  /// specs, or destroyed) created; with purge, its history too. The state
  /// record itself is removed by the caller.
  virtual Status Delete(const compiler::planner::Action& action, bool purge) { return Status::Ok(); }

  /// What deleting `resource_id` without purge leaves in the workspace
  /// ("versions iris:1, iris:2"), which Delete with purge removes; "" when nothing.
  virtual std::string History(const std::string& resource_id) { return ""; }
};

/// The drivers of one plan and apply, keyed by kind ("model"), or by kind
/// and type ("job/sweep") where types are carried out differently.
class DriverRegistry {
 public:
  /// Routes each of `keys` ("kind" or "kind/type") to `driver`.
  void Register(std::unique_ptr<Driver> driver, const std::vector<std::string>& keys);
  /// The driver of `kind` and `type`: the type's own, else the kind's;
  /// nullptr when there is none.
  Driver* Find(const std::string& kind, const std::string& type) const;

 private:
  std::vector<std::unique_ptr<Driver>> drivers_;
  std::map<std::string, Driver*> by_key_;
};

/// Registers the drivers of every kind this build carries out, sharing `context`.
void RegisterBuiltinDrivers(DriverRegistry& registry, EngineContext& context);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_ENGINE_DRIVER_H_
