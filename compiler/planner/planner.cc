// Implementation notes: the planner walks the graph in topological order, so
// when it reaches a job every job it reads from has been decided. A job whose
// upstream will run gets a run "known after apply": its key depends on
// outputs that do not exist yet, and the executor plans it again once they do.
#include "compiler/planner/planner.h"

#include "compiler/planner/external_refs.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace amlc::compiler::planner {

namespace {

using Json = nlohmann::json;

void Flatten(const Json& json, const std::string& prefix, std::map<std::string, std::string>& out) {
  if (json.is_object() && !json.empty() && !json.contains("$ref")) {
    for (auto it = json.begin(); it != json.end(); ++it) {
      Flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
    }
    return;
  }
  out[prefix] = json.dump();
}

std::string Plural(int n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

// Why a job must run, from the parts of its key that differ from its last run.
std::string InputChange(const Observation& seen, const std::string& name) {
  auto now = seen.inputs.find(name);
  auto before = seen.last_inputs.find(name);
  if (now == seen.inputs.end() || before == seen.last_inputs.end()) return "input '" + name + "' changed";
  if (now->second == before->second) return "input '" + name + "' changed: the contents of " + now->second;
  return "input '" + name + "' changed: " + before->second + " -> " + now->second;
}

std::vector<std::string> RunReasons(const Observation& seen) {
  if (seen.last_parts.empty()) {
    if (seen.last_run.empty()) return {"no run of this job yet"};
    return {"its last run, " + seen.last_run + ", " + seen.last_outcome};
  }
  std::vector<std::string> reasons;
  // A run that did not complete with this very key: that is the whole reason.
  bool failed_here = !seen.last_outcome.empty() && seen.last_outcome.rfind("Completed", 0) != 0;
  if (failed_here && seen.last_parts == seen.key_parts) {
    return {"its last run with this key, " + seen.last_run + ", " + seen.last_outcome};
  }
  for (const auto& [part, value] : seen.key_parts) {
    auto last = seen.last_parts.find(part);
    if (last != seen.last_parts.end() && last->second == value) continue;
    if (part == "code") {
      reasons.push_back(seen.changed_files >= 0
                            ? "code snapshot changed: " + Plural(seen.changed_files, "file")
                            : "code snapshot changed");
    } else if (part.rfind("input:", 0) == 0) {
      reasons.push_back(InputChange(seen, part.substr(6)));
    } else {
      reasons.push_back(part + " changed");
    }
  }
  for (const auto& [part, value] : seen.last_parts) {
    if (seen.key_parts.count(part)) continue;
    reasons.push_back(part.rfind("input:", 0) == 0 ? "input '" + part.substr(6) + "' removed" : part + " removed");
  }
  if (reasons.empty()) reasons.push_back("no completed run with this key");
  if (failed_here) reasons.push_back("its last run, " + seen.last_run + ", " + seen.last_outcome);
  return reasons;
}

// Why a changed field outside the run key leaves a finished run current.
std::string UnkeyedReason(const std::string& field) {
  if (field == "limits") {
    return "limits changed; a run that finished within its limits has the same result under others";
  }
  if (field == "compute") {
    return "compute changed to a target of the same kind; the run key holds the kind, not the machine";
  }
  return field + " changed; amlc's compute targets do not act on it yet, so it cannot change the result";
}

bool ForcesReplace(const std::string& kind, const FieldChange& change) {
  return change.field == "type" && (kind == "compute" || kind == "datastore");
}

}  // namespace

std::vector<FieldChange> DiffSpecs(const std::string& old_json, const std::string& new_json) {
  Json old_spec = Json::parse(old_json, nullptr, false);
  Json new_spec = Json::parse(new_json, nullptr, false);
  std::map<std::string, std::string> before, after;
  if (!old_spec.is_discarded()) Flatten(old_spec, "", before);
  if (!new_spec.is_discarded()) Flatten(new_spec, "", after);
  std::vector<FieldChange> changes;
  for (const auto& [field, value] : after) {
    auto it = before.find(field);
    if (it == before.end()) {
      changes.push_back({field, "", value});
    } else if (it->second != value) {
      changes.push_back({field, it->second, value});
    }
  }
  for (const auto& [field, value] : before) {
    if (!after.count(field)) changes.push_back({field, value, ""});
  }
  std::sort(changes.begin(), changes.end(),
            [](const FieldChange& a, const FieldChange& b) { return a.field < b.field; });
  return changes;
}

namespace {

// The compute target a job's runs take a slot of ("compute/local" when it names none).
std::string PoolOf(const ir::Resource& job) {
  if (job.type == "sweep" || job.type == "pipeline") return "";  // their trials and steps take the slots
  const ir::Value* compute = job.spec.Find("compute");
  return compute && compute->is_ref() ? compute->as_ref().target : "compute/local";
}

// MakePlan's state: one pass over the resources in topological order, so
// when a resource is reached everything it needs has been decided.
class Planner {
 public:
  Planner(const ir::Graph& graph, PlanEnvironment& environment, const PlanOptions& options,
          std::vector<std::string>& errors)
      : graph_(graph),
        environment_(environment),
        options_(options),
        errors_(errors),
        needs_(graph.size()),
        external_(graph, [&environment](const std::string& kind) { return environment.InWorkspace(kind); }) {
    for (RecordedResource& r : environment.Recorded()) recorded_.emplace(r.id, std::move(r));
    for (const ir::Dependency& d : graph.dependencies()) needs_[d.from].push_back(d.to);
  }

  Plan Make() {
    for (size_t index : options_.destroy ? std::vector<size_t>{} : graph_.TopologicalOrder()) {
      const ir::Resource& r = graph_.resource(index);
      if (!ReferencesExist(r)) continue;
      if (Deferred(index)) continue;
      Action action;
      action.resource_id = r.id();
      action.kind = r.kind;
      action.digest = r.digest;
      if (r.kind == "job") {
        PlanJob(index, std::move(action));
      } else if (r.kind == "model" || r.kind == "image" || r.kind == "deployment") {
        PlanVersioned(index, std::move(action));
      } else {
        PlanRecord(index, std::move(action));
      }
    }
    PlanRemovals();
    for (const ir::Resource& r : graph_.resources()) {
      const ir::Value* max = r.kind == "compute" ? r.spec.Find("max_concurrent") : nullptr;
      if (max && max->type() == ir::Value::Type::kInt) plan_.pools[r.id()] = static_cast<int>(max->as_int());
    }
    plan_.completed_runs = run_of_;
    return std::move(plan_);
  }

 private:
  // Lists a resource amlc cannot carry out, or one that needs such a resource.
  bool Deferred(size_t index) {
    const ir::Resource& r = graph_.resource(index);
    if (std::optional<std::string> why = environment_.Unsupported(r)) {
      plan_.deferred.push_back({r.id(), *why});
      deferred_.insert(index);
      return true;
    }
    bool blocked = std::any_of(needs_[index].begin(), needs_[index].end(),
                               [&](size_t to) { return deferred_.count(to) > 0; });
    if (blocked) {
      plan_.deferred.push_back({r.id(), "it depends on a resource amlc cannot carry out yet"});
      deferred_.insert(index);
    }
    return blocked;
  }

  // An azureml: reference nothing satisfies is an error, and the resource gets no action.
  bool ReferencesExist(const ir::Resource& r) {
    std::vector<std::string> missing = external_.Missing(r);
    errors_.insert(errors_.end(), missing.begin(), missing.end());
    return missing.empty();
  }

  void Add(Action action, size_t resource) {
    for (size_t to : needs_[resource]) {
      if (auto it = action_of_.find(to); it != action_of_.end()) action.after.push_back(it->second);
    }
    action_of_[resource] = plan_.actions.size();
    plan_.actions.push_back(std::move(action));
  }

  // Observes `index`; a key that cannot be computed is an error and no action.
  std::optional<Observation> Observe(size_t index, const std::map<std::string, std::string>& upstream_runs) {
    StatusOr<Observation> seen = environment_.Observe(graph_, index, upstream_runs);
    if (seen.ok()) {
      for (const std::string& warning : seen->warnings) {
        bool said = std::any_of(plan_.warnings.begin(), plan_.warnings.end(),
                                [&](const auto& d) { return d.reason == warning; });
        if (!said) plan_.warnings.push_back({graph_.resource(index).id(), warning});
      }
      return std::move(seen.value());
    }
    errors_.push_back(graph_.resource(index).id() + ": " + seen.status().message());
    return std::nullopt;
  }

  // A job runs unless a completed run has its key; one reading the outputs
  // of a job that runs first is "known after apply".
  void PlanJob(size_t index, Action action) {
    const ir::Resource& r = graph_.resource(index);
    action.type = ActionType::kRun;
    action.pool = PoolOf(r);
    std::map<std::string, std::string> upstream_runs;
    for (size_t to : needs_[index]) {
      const ir::Resource& upstream = graph_.resource(to);
      if (upstream.kind != "job") continue;
      if (auto it = run_of_.find(upstream.id()); it != run_of_.end()) {
        upstream_runs[upstream.id()] = it->second;
      } else {
        action.reasons.push_back("reads outputs of " + upstream.id() + ", which runs first");
      }
    }
    if (!action.reasons.empty()) {
      changing_.insert(index);
      action.known_after_apply = true;
      Add(std::move(action), index);
      return;
    }
    std::optional<Observation> seen = Observe(index, upstream_runs);
    if (!seen) return;
    bool forced = options_.rerun.count(r.id()) > 0;
    if (!seen->current.empty() && !forced) {
      run_of_[r.id()] = seen->current;
      ++plan_.up_to_date;
      for (const std::string& field : seen->unkeyed_changes) plan_.unkeyed.push_back({r.id(), UnkeyedReason(field)});
      return;
    }
    action.run_key = seen->key;
    if (forced) {
      action.reasons.push_back("--rerun");
    } else if (!seen->in_progress.empty()) {
      action.reasons.push_back("run " + seen->in_progress + " with this key is in progress; apply waits for it");
    } else {
      action.reasons = RunReasons(*seen);
    }
    changing_.insert(index);
    Add(std::move(action), index);
  }

  // A model, image or deployment gets a new version when its inputs changed
  // (the producing run, the files, the packaged models and code; a
  // deployment's image); its metadata alone changes in place.
  void PlanVersioned(size_t index, Action action) {
    const ir::Resource& r = graph_.resource(index);
    auto found = recorded_.find(r.id());
    std::map<std::string, std::string> upstream_runs;
    for (size_t to : needs_[index]) {
      const ir::Resource& upstream = graph_.resource(to);
      if (changing_.count(to)) {
        action.reasons.push_back(upstream.kind == "job" ? "reads outputs of " + upstream.id() + ", which runs first"
                                 : (r.kind == "image" ? "packages " : "uses ") + upstream.id() +
                                       ", which gets a new version first");
      } else if (auto it = run_of_.find(upstream.id()); it != run_of_.end()) {
        upstream_runs[upstream.id()] = it->second;
      }
    }
    action.type = ActionType::kCreate;
    if (!action.reasons.empty()) {
      if (r.kind == "deployment" && found != recorded_.end()) action.type = ActionType::kUpdate;
      action.known_after_apply = true;
      changing_.insert(index);
      Add(std::move(action), index);
      return;
    }
    std::optional<Observation> seen = Observe(index, upstream_runs);
    if (!seen) return;
    if (!seen->held_back.empty()) {
      plan_.held_back.push_back({r.id(), seen->held_back});
      return;
    }
    if (seen->current.empty()) {
      action.type = seen->exists ? ActionType::kUpdate : ActionType::kCreate;
      action.reasons = seen->reasons;
      changing_.insert(index);
    } else if (found != recorded_.end() && found->second.digest == r.digest) {
      ++plan_.up_to_date;
      return;
    } else {
      action.type = ActionType::kUpdate;
      if (found != recorded_.end()) action.changes = DiffSpecs(found->second.spec_json, r.spec.ToJson());
      action.reasons.push_back("metadata changed; " + seen->current + " keeps its files");
    }
    Add(std::move(action), index);
  }

  // Any other resource is created, updated in place or replaced when its
  // spec changed, and updated when what was applied drifted.
  void PlanRecord(size_t index, Action action) {
    const ir::Resource& r = graph_.resource(index);
    auto found = recorded_.find(r.id());
    if (found == recorded_.end()) {
      action.type = ActionType::kCreate;
      action.reasons.push_back("not created yet");
    } else if (found->second.digest != r.digest) {
      action.changes = DiffSpecs(found->second.spec_json, r.spec.ToJson());
      bool replace = std::any_of(action.changes.begin(), action.changes.end(),
                                 [&](const FieldChange& c) { return ForcesReplace(r.kind, c); });
      action.type = replace ? ActionType::kReplace : ActionType::kUpdate;
      action.reasons.push_back(replace ? "its type changed, which cannot be changed in place"
                                       : "spec changed: " + Plural(static_cast<int>(action.changes.size()), "field"));
    } else {
      std::optional<Observation> seen = Observe(index, {});
      if (!seen) return;
      if (seen->drift.empty()) {
        ++plan_.up_to_date;
        return;
      }
      action.type = ActionType::kUpdate;
      action.reasons.push_back("drift: " + seen->drift);
    }
    Add(std::move(action), index);
  }

  // What the state records but the specs no longer declare (or everything,
  // to destroy), dependants first: the reverse of the creation order.
  void PlanRemovals() {
    std::vector<std::string> removed;
    for (const auto& [id, record] : recorded_) {
      if (options_.destroy || !graph_.Find(id)) removed.push_back(id);
    }
    std::map<std::string, int> rank;
    int next = 0;
    for (size_t index : graph_.TopologicalOrder()) rank[graph_.resource(index).id()] = next++;
    auto rank_of = [&](const std::string& id) {
      auto it = rank.find(id);
      return it == rank.end() ? -1 : it->second;
    };
    std::stable_sort(removed.begin(), removed.end(),
                     [&](const std::string& a, const std::string& b) { return rank_of(a) > rank_of(b); });
    for (const std::string& id : removed) {
      Action action;
      action.type = ActionType::kDelete;
      action.resource_id = id;
      action.kind = recorded_[id].kind;
      action.reasons.push_back(options_.destroy ? "destroy" : "removed from the specs");
      if (!plan_.actions.empty() && plan_.actions.back().type == ActionType::kDelete) {
        action.after.push_back(plan_.actions.size() - 1);
      }
      plan_.actions.push_back(std::move(action));
    }
  }

  const ir::Graph& graph_;
  PlanEnvironment& environment_;
  const PlanOptions& options_;
  std::vector<std::string>& errors_;
  std::vector<std::vector<size_t>> needs_;      // resource index -> what it needs
  std::map<std::string, RecordedResource> recorded_;
  Plan plan_;
  std::map<size_t, size_t> action_of_;          // resource index -> action index
  std::map<std::string, std::string> run_of_;   // job id -> completed run it is up to date with
  std::set<size_t> deferred_;
  std::set<size_t> changing_;  // jobs that run and models/images that get a new version
  ExternalReferences external_;
};

}  // namespace

Plan MakePlan(const ir::Graph& graph, PlanEnvironment& environment, const PlanOptions& options,
              std::vector<std::string>& errors) {
  return Planner(graph, environment, options, errors).Make();
}

}  // namespace amlc::compiler::planner
