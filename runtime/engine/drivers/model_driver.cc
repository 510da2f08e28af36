// Models are planned like jobs. A model's key is its source: the run whose
// output it takes ("run:ID/OUTPUT") or the digest of local files
// ("files:DIGEST"); a version registered from that key makes it up to date,
// so re-applying never adds versions. Registry writes happen only at apply,
// after the plan's observation is made again: what ran in between may have
// changed it.
#include <nlohmann/json.hpp>

#include "compiler/support/metric_condition.h"
#include "runtime/artifacts/registry/model_registry.h"
#include "runtime/engine/drivers/drivers.h"

namespace amlc::runtime {

using compiler::ir::Resource;
using compiler::ir::Value;
using compiler::planner::Action;
using compiler::planner::ActionType;
using compiler::planner::Observation;

namespace {

struct ModelSource {
  std::string key;    // "run:ID/OUTPUT" or "files:DIGEST"
  std::string files;  // the file or folder registered
  std::optional<RunRecord> run;
};

class ModelDriver : public Driver {
 public:
  explicit ModelDriver(EngineContext& context) : context_(context) {}

  StatusOr<Observation> Observe(const Resource& model, const std::map<std::string, std::string>& upstream) override;
  StatusOr<std::string> Apply(const Action& action, const Resource& model, const Progress& progress) override;
  /// With purge: deletes the versions the removed resource registered.
  Status Delete(const Action& action, bool purge) override;
  std::string History(const std::string& resource_id) override;

 private:
  /// The versions the resource `resource_id` registered.
  StatusOr<std::vector<ModelVersionRecord>> VersionsOf(const std::string& resource_id);
  StatusOr<ModelSource> SourceOf(const Resource& model, const std::map<std::string, std::string>& upstream_runs);
  /// Why register_when holds the version back ("" when it does not).
  StatusOr<std::string> HeldBack(const Resource& model, const ModelSource& source);
  StatusOr<std::string> UpdateTags(const Action& action, const Resource& model, const Observation& seen);
  StatusOr<std::string> Register(const Resource& model, const ModelSource& source, const Observation& seen);

  EngineContext& context_;
};

StatusOr<ModelSource> ModelDriver::SourceOf(const Resource& model,
                                            const std::map<std::string, std::string>& upstream_runs) {
  ModelSource source;
  const Value* path = model.spec.Find("path");
  if (path && path->is_ref() && !path->as_ref().external) {
    const compiler::ir::Ref& ref = path->as_ref();
    auto upstream = upstream_runs.find(ref.target);
    if (upstream == upstream_runs.end()) {
      return Status(StatusCode::kFailedPrecondition, ref.target + " has no completed run to take the model from");
    }
    auto run = context_.state().GetRun(upstream->second);
    if (!run.ok()) return run.status();
    if (!run.value()) return Status(StatusCode::kNotFound, "run " + upstream->second + " is not recorded");
    source.run = *run.value();
    std::string output = ref.member.substr(ref.member.find('.') + 1);
    source.files = context_.OutputPath(*source.run, output);
    source.key = "run:" + source.run->id + "/" + output;
    return source;
  }
  if (path && path->is_string()) {
    source.files = context_.LocalPath(path->as_string());
    std::string digest = context_.PathDigest(source.files);
    if (digest.empty()) return Status(StatusCode::kNotFound, "model path '" + source.files + "' cannot be read");
    source.key = "files:" + digest;
    return source;
  }
  return Status(StatusCode::kInvalidArgument, "a model whose path is " + (path ? path->ToJson() : "missing") +
                                                " cannot be registered from this workspace");
}

StatusOr<std::string> ModelDriver::HeldBack(const Resource& model, const ModelSource& source) {
  std::string when = model.spec.StringAt("register_when");
  if (when.empty()) return std::string();
  auto condition = ParseMetricCondition(when);
  if (!condition.ok()) return condition.status();
  if (!source.run) return std::string("register_when needs a model taken from a job's output");
  auto latest = context_.state().LatestMetrics(source.run->id);
  std::string why;
  bool holds = condition->Holds(
      [&](const std::string& metric) -> std::optional<double> {
        if (!latest.ok()) return std::nullopt;
        for (const MetricPoint& point : latest.value()) {
          if (point.name == metric && point.text.empty()) return point.value;
        }
        return std::nullopt;
      },
      &why);
  return holds ? std::string() : why + " (run " + source.run->id + ")";
}

StatusOr<Observation> ModelDriver::Observe(const Resource& model,
                                           const std::map<std::string, std::string>& upstream_runs) {
  Observation seen;
  auto source = SourceOf(model, upstream_runs);
  if (!source.ok()) return source.status();
  seen.key = source->key;
  auto found = context_.state().FindModelVersionBySource(model.name, seen.key);
  if (found.ok() && found.value()) {
    seen.current = model.name + ":" + std::to_string(found.value()->version);
    return seen;
  }
  auto held_back = HeldBack(model, source.value());
  if (!held_back.ok()) return held_back.status();
  if (!held_back->empty()) {
    seen.held_back = held_back.value();
    return seen;
  }
  auto previous = context_.state().LatestModelVersion(model.name);
  std::string from = source->run ? "run " + source->run->id : "these files";
  if (previous.ok() && previous.value()) {
    const ModelVersionRecord& last = *previous.value();
    seen.reasons.push_back("new version from " + from + "; the latest, " + std::to_string(last.version) +
                           ", came from " + (last.run_id.empty() ? "other files" : "run " + last.run_id));
  } else {
    seen.reasons.push_back("first version, from " + from);
  }
  return seen;
}

StatusOr<std::string> ModelDriver::Apply(const Action& action, const Resource& model, const Progress& progress) {
  auto upstream = context_.UpstreamRuns(*context_.graph().Find(model.id()));
  auto source = SourceOf(model, upstream);
  if (!source.ok()) return source.status();
  auto seen = Observe(model, upstream);
  if (!seen.ok()) return seen.status();
  if (!seen->held_back.empty()) return "held back: " + seen->held_back;
  if (!seen->current.empty()) return UpdateTags(action, model, seen.value());
  return Register(model, source.value(), seen.value());
}

// The version with this key exists: only its tags follow the specs.
StatusOr<std::string> ModelDriver::UpdateTags(const Action& action, const Resource& model, const Observation& seen) {
  std::map<std::string, std::string> tags = StringMap(model.spec.Find("tags"));
  int64_t version = std::stoll(seen.current.substr(seen.current.rfind(':') + 1));
  std::vector<std::string> removed;  // tags the specs had before and dropped
  if (auto before = context_.state().GetResource(model.id()); before.ok() && before.value()) {
    nlohmann::json old_spec = nlohmann::json::parse(before.value()->spec_json, nullptr, false);
    if (old_spec.is_object() && old_spec.contains("tags") && old_spec["tags"].is_object()) {
      for (auto& [key, value] : old_spec["tags"].items()) {
        if (!tags.count(key)) removed.push_back(key);
      }
    }
  }
  if (Status s = context_.state().UpdateModelTags(model.name, version, tags, removed); !s.ok()) return s;
  if (Status s = context_.RecordApplied(model, nlohmann::json{{"version", version}}.dump()); !s.ok()) return s;
  return action.type == ActionType::kUpdate ? "updated " + seen.current : "up to date after all: " + seen.current;
}

StatusOr<std::string> ModelDriver::Register(const Resource& model, const ModelSource& source,
                                            const Observation& seen) {
  ModelVersionRecord meta;
  meta.name = model.name;
  if (std::string type = model.type; !type.empty()) meta.type = type;
  meta.framework = model.spec.StringAt("framework");
  meta.description = model.spec.StringAt("description");
  meta.stage = model.spec.StringAt("stage");
  meta.tags = StringMap(model.spec.Find("tags"));
  meta.properties = StringMap(model.spec.Find("properties"));
  meta.source_key = seen.key;
  meta.resource_id = model.id();
  meta.spec_commit = context_.spec_commit();
  if (source.run) {
    meta.run_id = source.run->id;
    meta.job_id = source.run->job_id;
    meta.experiment = source.run->experiment;
    if (!source.run->spec_commit.empty()) meta.spec_commit = source.run->spec_commit;
  }
  auto registered = RegisterModel(context_.workspace(), meta, source.files);
  if (!registered.ok()) return registered.status();
  nlohmann::json outputs{{"version", registered->version}, {"content_digest", registered->content_digest}};
  if (Status s = context_.RecordApplied(model, outputs.dump()); !s.ok()) return s;
  return "registered " + model.name + ":" + std::to_string(registered->version);
}

StatusOr<std::vector<ModelVersionRecord>> ModelDriver::VersionsOf(const std::string& resource_id) {
  ModelQuery query;
  query.name = NameOf(resource_id);
  auto versions = context_.state().ListModelVersions(query);
  if (!versions.ok()) return versions.status();
  std::vector<ModelVersionRecord> mine;
  for (const ModelVersionRecord& version : versions.value()) {
    if (version.resource_id == resource_id) mine.push_back(version);
  }
  return mine;
}

Status ModelDriver::Delete(const Action& action, bool purge) {
  if (!purge) return Status::Ok();
  auto versions = VersionsOf(action.resource_id);
  if (!versions.ok()) return versions.status();
  for (const ModelVersionRecord& version : versions.value()) {
    if (Status s = context_.state().DeleteModelVersion(version.name, version.version); !s.ok()) return s;
  }
  return Status::Ok();
}

std::string ModelDriver::History(const std::string& resource_id) {
  auto versions = VersionsOf(resource_id);
  if (!versions.ok() || versions->empty()) return "";
  std::string listed;
  for (const ModelVersionRecord& version : versions.value()) {
    listed += (listed.empty() ? "" : ", ") + version.name + ":" + std::to_string(version.version);
  }
  return (versions->size() == 1 ? "model version " : "model versions ") + listed;
}

}  // namespace

std::unique_ptr<Driver> MakeModelDriver(EngineContext& context) { return std::make_unique<ModelDriver>(context); }

std::string NameOf(const std::string& resource_id) { return resource_id.substr(resource_id.find('/') + 1); }

std::map<std::string, std::string> StringMap(const Value* value) {
  std::map<std::string, std::string> out;
  if (!value || !value->is_map()) return out;
  for (const auto& [key, item] : value->entries()) out[key] = item.is_string() ? item.as_string() : item.ToJson();
  return out;
}

}  // namespace amlc::runtime
