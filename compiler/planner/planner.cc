// Implementation notes: the planner walks the graph in topological order, so
// when it reaches a job every job it reads from has been decided. A job whose
// upstream will run gets a run "known after apply": its key depends on
// outputs that do not exist yet, and the executor plans it again once they do.
#include "compiler/planner/planner.h"

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
std::vector<std::string> RunReasons(const JobObservation& seen) {
  if (seen.last_parts.empty()) return {"no run of this job yet"};
  std::vector<std::string> reasons;
  for (const auto& [part, value] : seen.key_parts) {
    auto last = seen.last_parts.find(part);
    if (last != seen.last_parts.end() && last->second == value) continue;
    if (part == "code") {
      reasons.push_back(seen.changed_files >= 0
                            ? "code snapshot changed: " + Plural(seen.changed_files, "file")
                            : "code snapshot changed");
    } else if (part.rfind("input:", 0) == 0) {
      reasons.push_back("input '" + part.substr(6) + "' changed");
    } else {
      reasons.push_back(part + " changed");
    }
  }
  for (const auto& [part, value] : seen.last_parts) {
    if (!seen.key_parts.count(part) && part.rfind("input:", 0) == 0) {
      reasons.push_back("input '" + part.substr(6) + "' removed");
    }
  }
  if (reasons.empty()) reasons.push_back("no completed run with this key");
  return reasons;
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

Plan MakePlan(const ir::Graph& graph, PlanEnvironment& environment, const PlanOptions& options,
              std::vector<std::string>& errors) {
  Plan plan;
  std::map<std::string, RecordedResource> recorded;
  for (RecordedResource& r : environment.Recorded()) recorded.emplace(r.id, std::move(r));

  std::vector<std::vector<size_t>> needs(graph.size());
  for (const ir::Dependency& d : graph.dependencies()) needs[d.from].push_back(d.to);
  std::map<size_t, size_t> action_of;           // resource index -> action index
  std::map<std::string, std::string> run_of;    // job id -> completed run it is up to date with
  std::set<size_t> deferred;
  std::set<size_t> changing;  // jobs that run and models/images that get a new version

  auto add = [&](Action action, size_t resource) {
    for (size_t to : needs[resource]) {
      if (auto it = action_of.find(to); it != action_of.end()) action.after.push_back(it->second);
    }
    action_of[resource] = plan.actions.size();
    plan.actions.push_back(std::move(action));
  };

  for (size_t index : options.destroy ? std::vector<size_t>{} : graph.TopologicalOrder()) {
    const ir::Resource& r = graph.resource(index);
    bool blocked = std::any_of(needs[index].begin(), needs[index].end(),
                               [&](size_t to) { return deferred.count(to) > 0; });
    if (std::optional<std::string> why = environment.Unsupported(r)) {
      plan.deferred.push_back({r.id(), *why});
      deferred.insert(index);
      continue;
    }
    if (blocked) {
      plan.deferred.push_back({r.id(), "it depends on a resource amlc cannot carry out yet"});
      deferred.insert(index);
      continue;
    }
    Action action;
    action.resource_id = r.id();
    action.kind = r.kind;
    action.digest = r.digest;
    if (r.kind == "job") {
      std::map<std::string, std::string> upstream_runs;
      std::vector<std::string> pending;
      for (size_t to : needs[index]) {
        const ir::Resource& upstream = graph.resource(to);
        if (upstream.kind != "job") continue;
        if (auto it = run_of.find(upstream.id()); it != run_of.end()) {
          upstream_runs[upstream.id()] = it->second;
        } else {
          pending.push_back(upstream.id());
        }
      }
      action.type = ActionType::kRun;
      if (!pending.empty()) {
        changing.insert(index);
        action.known_after_apply = true;
        for (const std::string& id : pending) action.reasons.push_back("reads outputs of " + id + ", which runs first");
        add(std::move(action), index);
        continue;
      }
      JobObservation seen = environment.ObserveJob(graph, index, upstream_runs);
      if (!seen.status.ok()) {
        errors.push_back(r.id() + ": " + seen.status.message());
        continue;
      }
      bool forced = options.rerun.count(r.id()) > 0;
      if (!seen.completed_run.empty() && !forced) {
        run_of[r.id()] = seen.completed_run;
        ++plan.up_to_date;
        continue;
      }
      action.run_key = seen.run_key;
      if (forced) {
        action.reasons.push_back("--rerun");
      } else if (!seen.active_run.empty()) {
        action.reasons.push_back("run " + seen.active_run + " with this key is in progress; apply waits for it");
      } else {
        action.reasons = RunReasons(seen);
      }
      changing.insert(index);
      add(std::move(action), index);
      continue;
    }
    auto found = recorded.find(r.id());
    if (r.kind == "model" || r.kind == "image" || r.kind == "deployment") {
      // A new version when its inputs changed (the producing run, the files,
      // the packaged models and code; a deployment's image); its metadata
      // alone changes in place.
      std::map<std::string, std::string> upstream_runs;
      for (size_t to : needs[index]) {
        const ir::Resource& upstream = graph.resource(to);
        if (changing.count(to)) {
          action.reasons.push_back(upstream.kind == "job" ? "reads outputs of " + upstream.id() + ", which runs first"
                                   : (r.kind == "image" ? "packages " : "uses ") + upstream.id() +
                                         ", which gets a new version first");
        } else if (auto it = run_of.find(upstream.id()); it != run_of.end()) {
          upstream_runs[upstream.id()] = it->second;
        }
      }
      action.type = ActionType::kCreate;
      if (!action.reasons.empty()) {
        if (r.kind == "deployment" && found != recorded.end()) action.type = ActionType::kUpdate;
        action.known_after_apply = true;
        changing.insert(index);
        add(std::move(action), index);
        continue;
      }
      ArtifactObservation seen = environment.ObserveArtifact(graph, index, upstream_runs);
      if (!seen.status.ok()) {
        errors.push_back(r.id() + ": " + seen.status.message());
        continue;
      }
      if (!seen.held_back.empty()) {
        plan.held_back.push_back({r.id(), seen.held_back});
        continue;
      }
      if (seen.current.empty()) {
        action.type = seen.exists ? ActionType::kUpdate : ActionType::kCreate;
        action.reasons = seen.reasons;
        changing.insert(index);
      } else if (found != recorded.end() && found->second.digest == r.digest) {
        ++plan.up_to_date;
        continue;
      } else {
        action.type = ActionType::kUpdate;
        if (found != recorded.end()) action.changes = DiffSpecs(found->second.spec_json, r.spec.ToJson());
        action.reasons.push_back("metadata changed; " + seen.current + " keeps its files");
      }
      add(std::move(action), index);
      continue;
    }
    std::string spec_json = r.spec.ToJson();
    if (found == recorded.end()) {
      action.type = ActionType::kCreate;
      action.reasons.push_back("not created yet");
    } else if (found->second.digest != r.digest) {
      action.changes = DiffSpecs(found->second.spec_json, spec_json);
      bool replace = std::any_of(action.changes.begin(), action.changes.end(),
                                 [&](const FieldChange& c) { return ForcesReplace(r.kind, c); });
      action.type = replace ? ActionType::kReplace : ActionType::kUpdate;
      action.reasons.push_back(replace ? "its type changed, which cannot be changed in place"
                                       : "spec changed: " + Plural(static_cast<int>(action.changes.size()), "field"));
    } else if (std::string drift = environment.Drift(r); !drift.empty()) {
      action.type = ActionType::kUpdate;
      action.reasons.push_back("drift: " + drift);
    } else {
      ++plan.up_to_date;
      continue;
    }
    add(std::move(action), index);
  }

  // What the state records but the specs no longer declare (or everything, to destroy).
  std::vector<std::string> removed;
  for (const auto& [id, record] : recorded) {
    if (options.destroy || !graph.Find(id)) removed.push_back(id);
  }
  // Dependants go first: reverse the order the resources were created in.
  std::vector<std::string> order;
  for (size_t index : graph.TopologicalOrder()) order.push_back(graph.resource(index).id());
  std::stable_sort(removed.begin(), removed.end(), [&](const std::string& a, const std::string& b) {
    auto rank = [&](const std::string& id) {
      auto it = std::find(order.begin(), order.end(), id);
      return it == order.end() ? -1 : static_cast<int>(it - order.begin());
    };
    return rank(a) > rank(b);
  });
  for (const std::string& id : removed) {
    Action action;
    action.type = ActionType::kDelete;
    action.resource_id = id;
    action.kind = recorded[id].kind;
    action.reasons.push_back(options.destroy ? "destroy" : "removed from the specs");
    if (!plan.actions.empty() && plan.actions.back().type == ActionType::kDelete) {
      action.after.push_back(plan.actions.size() - 1);
    }
    plan.actions.push_back(std::move(action));
  }
  return plan;
}

}  // namespace amlc::compiler::planner
