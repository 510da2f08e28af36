// Resources that are records in the state store. Applying one checks what
// its kind needs on this machine (an experiment exists, an environment's
// interpreter runs, a datastore's folder is there) and records it; its plan
// compares the recorded spec with the declared one.
#include <unistd.h>

#include <filesystem>

#include "runtime/engine/drivers/drivers.h"

namespace amlc::runtime {

namespace fs = std::filesystem;
using compiler::ir::Resource;
using compiler::planner::Action;
using compiler::planner::ActionType;
using compiler::planner::Observation;

namespace {

class RecordDriver : public Driver {
 public:
  explicit RecordDriver(EngineContext& context) : context_(context) {}

  std::optional<std::string> Unsupported(const Resource& r) override {
    if (r.kind == "compute" && r.type == "kubernetes") {
      return "amlc reaches no Kubernetes cluster; the jobs on it are rendered as batch/v1 Jobs by "
             "`amlc render DIR --target kubernetes -o OUT`, for kubectl apply -k OUT";
    }
    if (r.kind == "compute" && !context_.compute_targets().Has(r.type)) {
      return "no driver for " + r.type + " compute targets yet";
    }
    if (r.kind == "datastore" && r.spec.StringAt("type") != "local") {
      return "only local-folder datastores are reachable from this machine";
    }
    if (r.kind == "schedule") return "schedules start runs under `amlc reconcile`, not `amlc apply`";
    return std::nullopt;
  }

  StatusOr<Observation> Observe(const Resource&, const std::map<std::string, std::string>&) override {
    return Observation();  // a record has no state outside the state store
  }

  StatusOr<std::string> Apply(const Action& action, const Resource& r, const Progress& progress) override {
    if (Status s = Prepare(r); !s.ok()) return s;
    if (Status s = context_.RecordApplied(r, "{}"); !s.ok()) return s;
    return std::string(action.type == ActionType::kCreate ? "created" : "updated");
  }

 private:
  Status Prepare(const Resource& r) {
    if (r.kind == "experiment") return context_.state().EnsureExperiment(r.name);
    if (r.kind == "environment") {
      std::string python = r.spec.StringAt("python");
      if (!python.empty() && access(python.c_str(), X_OK) != 0) {
        return Status(StatusCode::kFailedPrecondition,
                      "interpreter '" + python + "' does not exist or is not executable");
      }
    }
    if (r.kind == "datastore") {
      std::string path = r.spec.StringAt("path");
      std::error_code error;
      if (!path.empty()) fs::create_directories(path[0] == '/' ? path : context_.workspace().home() + "/" + path, error);
      if (error) return Status(StatusCode::kFailedPrecondition, "cannot create the datastore folder: " + error.message());
    }
    return Status::Ok();
  }

  EngineContext& context_;
};

}  // namespace

std::unique_ptr<Driver> MakeRecordDriver(EngineContext& context) { return std::make_unique<RecordDriver>(context); }

}  // namespace amlc::runtime
