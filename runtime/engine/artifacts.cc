// Implementation notes: models and images are planned like jobs. A model's
// key is its source: the run whose output it takes ("run:ID/OUTPUT") or the
// digest of local files ("files:DIGEST"); a version registered from that key
// makes it up to date, so re-applying never adds versions. An image's key is
// the digest of everything it packages (ImageKeyParts). Registry writes
// happen only here, at apply, after the same observation the plan made is
// made again: what ran in between may have changed it.
#include <nlohmann/json.hpp>

#include "base/digest.h"
#include "runtime/engine/applier.h"
#include "runtime/artifacts/oci/registry_client.h"
#include "compiler/support/metric_condition.h"
#include "runtime/artifacts/registry/model_registry.h"

namespace amlc::runtime {

using compiler::ir::Resource;
using compiler::ir::Value;
using compiler::planner::Action;
using compiler::planner::ActionType;
using compiler::planner::ArtifactObservation;

struct Applier::ModelSource {
  std::string key;    // "run:ID/OUTPUT" or "files:DIGEST"
  std::string files;  // the file or folder registered
  std::optional<RunRecord> run;
};

namespace {

std::map<std::string, std::string> StringMap(const Value* value) {
  std::map<std::string, std::string> out;
  if (!value || !value->is_map()) return out;
  for (const auto& [key, item] : value->entries()) out[key] = item.is_string() ? item.as_string() : item.ToJson();
  return out;
}

std::string NameOf(const std::string& resource_id) { return resource_id.substr(resource_id.find('/') + 1); }

}  // namespace

StatusOr<Applier::ModelSource> Applier::ModelSourceOf(const Resource& model,
                                                      const std::map<std::string, std::string>& upstream_runs) {
  ModelSource source;
  const Value* path = model.spec.Find("path");
  if (path && path->is_ref() && !path->as_ref().external) {
    const compiler::ir::Ref& ref = path->as_ref();
    auto upstream = upstream_runs.find(ref.target);
    if (upstream == upstream_runs.end()) {
      return Status(StatusCode::kFailedPrecondition, ref.target + " has no completed run to take the model from");
    }
    auto run = workspace_.state().GetRun(upstream->second);
    if (!run.ok()) return run.status();
    if (!run.value()) return Status(StatusCode::kNotFound, "run " + upstream->second + " is not recorded");
    source.run = *run.value();
    std::string output = ref.member.substr(ref.member.find('.') + 1);
    source.files = workspace_.run_outputs(source.run->id) + "/" + output;
    source.key = "run:" + source.run->id + "/" + output;
    return source;
  }
  if (path && path->is_string()) {
    source.files = LocalPath(path->as_string());
    std::string digest = PathDigest(source.files);
    if (digest.empty()) return Status(StatusCode::kNotFound, "model path '" + source.files + "' cannot be read");
    source.key = "files:" + digest;
    return source;
  }
  return Status(StatusCode::kInvalidArgument, "a model whose path is " + (path ? path->ToJson() : "missing") +
                                                " cannot be registered from this workspace");
}

ArtifactObservation Applier::ObserveArtifact(const compiler::ir::Graph& graph, size_t index,
                                             const std::map<std::string, std::string>& upstream_runs) {
  const Resource& r = graph.resource(index);
  if (r.kind == "deployment") return ObserveDeployment(r);
  return r.kind == "model" ? ObserveModel(r, upstream_runs) : ObserveImage(r);
}

ArtifactObservation Applier::ObserveModel(const Resource& model,
                                          const std::map<std::string, std::string>& upstream_runs) {
  ArtifactObservation seen;
  auto source = ModelSourceOf(model, upstream_runs);
  if (!source.ok()) {
    seen.status = source.status();
    return seen;
  }
  seen.key = source->key;
  auto found = workspace_.state().FindModelVersionBySource(model.name, seen.key);
  if (found.ok() && found.value()) {
    seen.current = model.name + ":" + std::to_string(found.value()->version);
    return seen;
  }
  if (std::string when = model.spec.StringAt("register_when"); !when.empty()) {
    auto condition = ParseMetricCondition(when);
    if (!condition.ok()) {
      seen.status = condition.status();
      return seen;
    }
    if (!source->run) {
      seen.held_back = "register_when needs a model taken from a job's output";
      return seen;
    }
    auto latest = workspace_.state().LatestMetrics(source->run->id);
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
    if (!holds) {
      seen.held_back = why + " (run " + source->run->id + ")";
      return seen;
    }
  }
  auto previous = workspace_.state().LatestModelVersion(model.name);
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

StatusOr<ImageInputs> Applier::ImageInputsOf(const Resource& image) {
  ImageInputs inputs;
  inputs.name = image.name;
  inputs.resource_id = image.id();
  if (std::string kind = image.spec.StringAt("kind"); !kind.empty()) inputs.kind = kind;
  if (const Value* models = image.spec.Find("models"); models && models->is_list()) {
    for (const Value& item : models->items()) {
      std::string target = item.is_ref() ? NameOf(item.as_ref().target) : item.is_string() ? item.as_string() : "";
      auto ref = ParseVersionRef(target, "model reference");
      if (!ref.ok()) return ref.status();
      auto model = ResolveModel(workspace_.state(), ref.value());
      if (!model.ok() && item.is_ref() && !item.as_ref().external && model.status().code() == StatusCode::kNotFound) {
        return Status(StatusCode::kFailedPrecondition, "model " + ref->name + " has no registered version yet");
      }
      if (!model.ok()) return model.status();
      inputs.models.push_back(model.value());
    }
  }
  const Value* code = image.spec.Find("code_configuration");
  inputs.code_dir = LocalPath(code ? code->StringAt("code") : ".");
  inputs.scoring_script = code ? code->StringAt("scoring_script") : "";
  if (const Value* env = image.spec.Find("environment"); env && env->is_ref()) {
    inputs.environment_id = env->as_ref().target;
    if (auto target = graph_.Find(inputs.environment_id)) {
      const Value& spec = graph_.resource(*target).spec;
      inputs.environment_json = spec.ToJson();
      for (const char* field : {"conda_file", "pip_requirements"}) {
        if (const Value* file = spec.Find(field); file && file->is_string()) {
          inputs.environment_files.push_back(LocalPath(file->as_string()));
        }
      }
    }
  } else if (env) {
    inputs.environment_json = env->ToJson();
  }
  inputs.base_image = image.spec.StringAt("base_image");
  if (inputs.base_image.rfind("oci:", 0) == 0 && inputs.base_image.size() > 4 && inputs.base_image[4] != '/') {
    inputs.base_image = "oci:" + LocalPath(inputs.base_image.substr(4));
  }
  inputs.tags = StringMap(image.spec.Find("tags"));
  return inputs;
}

ArtifactObservation Applier::ObserveImage(const Resource& image) {
  ArtifactObservation seen;
  auto inputs = ImageInputsOf(image);
  if (!inputs.ok()) {
    if (inputs.status().code() == StatusCode::kFailedPrecondition) {
      seen.held_back = inputs.status().message();
    } else {
      seen.status = inputs.status();
    }
    return seen;
  }
  auto parts = ImageKeyParts(workspace_, inputs.value());
  if (!parts.ok()) {
    seen.status = parts.status();
    return seen;
  }
  seen.key = ImageBuildKey(parts.value());
  auto found = workspace_.state().FindImageByBuildKey(image.name, seen.key);
  if (found.ok() && found.value()) {
    seen.current = image.name + ":" + std::to_string(found.value()->version);
    return seen;
  }
  std::string models;
  for (const ModelVersionRecord& m : inputs->models) {
    models += (models.empty() ? "" : ", ") + m.name + ":" + std::to_string(m.version);
  }
  seen.reasons.push_back("no image of these inputs yet (models " + models + ", code tree " +
                         parts->at("code").substr(0, 12) + ")");
  return seen;
}

Status Applier::RecordApplied(const Resource& r, const std::string& outputs_json) {
  ResourceRecord record;
  record.id = r.id();
  record.kind = r.kind;
  record.name = r.name;
  record.version = r.version;
  record.digest = r.digest;
  record.spec_json = r.spec.ToJson();
  record.outputs_json = outputs_json;
  record.updated_at = NowMillis();
  return workspace_.state().PutResource(record);
}

ActionResult Applier::ApplyModel(const Action& action, const Resource& model) {
  auto source = ModelSourceOf(model, UpstreamRuns(*graph_.Find(model.id())));
  if (!source.ok()) return {Outcome::kFailed, source.status().message()};
  ArtifactObservation seen = ObserveModel(model, UpstreamRuns(*graph_.Find(model.id())));
  if (!seen.status.ok()) return {Outcome::kFailed, seen.status.message()};
  if (!seen.held_back.empty()) return {Outcome::kSucceeded, "held back: " + seen.held_back};
  std::map<std::string, std::string> tags = StringMap(model.spec.Find("tags"));
  if (!seen.current.empty()) {
    int64_t version = std::stoll(seen.current.substr(seen.current.rfind(':') + 1));
    std::vector<std::string> removed;  // tags the specs had before and dropped
    if (auto before = workspace_.state().GetResource(model.id()); before.ok() && before.value()) {
      nlohmann::json old_spec = nlohmann::json::parse(before.value()->spec_json, nullptr, false);
      if (old_spec.is_object() && old_spec.contains("tags") && old_spec["tags"].is_object()) {
        for (auto& [key, value] : old_spec["tags"].items()) {
          if (!tags.count(key)) removed.push_back(key);
        }
      }
    }
    if (Status s = workspace_.state().UpdateModelTags(model.name, version, tags, removed); !s.ok()) {
      return {Outcome::kFailed, s.message()};
    }
    if (Status s = RecordApplied(model, nlohmann::json{{"version", version}}.dump()); !s.ok()) {
      return {Outcome::kFailed, s.message()};
    }
    return {Outcome::kSucceeded, action.type == ActionType::kUpdate ? "updated " + seen.current
                                                                    : "up to date after all: " + seen.current};
  }
  ModelVersionRecord meta;
  meta.name = model.name;
  if (std::string type = model.type; !type.empty()) meta.type = type;
  meta.framework = model.spec.StringAt("framework");
  meta.description = model.spec.StringAt("description");
  meta.stage = model.spec.StringAt("stage");
  meta.tags = tags;
  meta.properties = StringMap(model.spec.Find("properties"));
  meta.source_key = seen.key;
  meta.resource_id = model.id();
  meta.spec_commit = spec_commit_;
  if (source->run) {
    meta.run_id = source->run->id;
    meta.job_id = source->run->job_id;
    meta.experiment = source->run->experiment;
    if (!source->run->spec_commit.empty()) meta.spec_commit = source->run->spec_commit;
  }
  auto registered = RegisterModel(workspace_, meta, source->files);
  if (!registered.ok()) return {Outcome::kFailed, registered.status().message()};
  nlohmann::json outputs{{"version", registered->version}, {"content_digest", registered->content_digest}};
  if (Status s = RecordApplied(model, outputs.dump()); !s.ok()) return {Outcome::kFailed, s.message()};
  return {Outcome::kSucceeded, "registered " + model.name + ":" + std::to_string(registered->version)};
}

ActionResult Applier::ApplyImage(const Action& action, const Resource& image,
                                 const std::function<void(const std::string&)>& progress) {
  ArtifactObservation seen = ObserveImage(image);
  if (!seen.status.ok()) return {Outcome::kFailed, seen.status.message()};
  if (!seen.held_back.empty()) return {Outcome::kSucceeded, "held back: " + seen.held_back};
  auto inputs = ImageInputsOf(image);
  if (!inputs.ok()) return {Outcome::kFailed, inputs.status().message()};
  ImageRecord built;
  std::string message;
  if (!seen.current.empty()) {
    int64_t version = std::stoll(seen.current.substr(seen.current.rfind(':') + 1));
    auto existing = workspace_.state().GetImage(image.name, version);
    if (!existing.ok() || !existing.value()) return {Outcome::kFailed, "cannot read image " + seen.current};
    built = *existing.value();
    if (Status s = workspace_.state().UpdateImageTags(image.name, version, inputs->tags, {}); !s.ok()) {
      return {Outcome::kFailed, s.message()};
    }
    message = action.type == ActionType::kUpdate ? "updated " + seen.current : "up to date after all: " + seen.current;
  } else {
    progress("building " + image.name);
    auto recorded = BuildAndRecordImage(workspace_, inputs.value(), progress);
    if (!recorded.ok()) return {Outcome::kFailed, recorded.status().message()};
    built = recorded.value();
    message = "built " + image.name + ":" + std::to_string(built.version) + " " + built.digest.substr(0, 19);
  }
  nlohmann::json outputs{{"version", built.version}, {"digest", built.digest}};
  if (Status s = RecordApplied(image, outputs.dump()); !s.ok()) return {Outcome::kFailed, s.message()};
  if (Status s = PushIfWanted(image, built, progress); !s.ok()) {
    return {Outcome::kFailed, message + "; push failed: " + s.message()};
  }
  return {Outcome::kSucceeded, message};
}

// Pushes an image where its spec (push_to) or the workspace (image_registry)
// says, unless it is there already.
Status Applier::PushIfWanted(const Resource& image, const ImageRecord& built,
                             const std::function<void(const std::string&)>& progress) {
  std::string to = image.spec.StringAt("push_to");
  if (to.empty()) {
    for (size_t i = 0; i < graph_.size(); ++i) {
      const Resource& r = graph_.resource(i);
      if (r.kind == "workspace" && !r.spec.StringAt("image_registry").empty()) {
        to = r.spec.StringAt("image_registry") + "/" + image.name + ":" + std::to_string(built.version);
      }
    }
  }
  if (to.empty()) return Status::Ok();
  nlohmann::json pushed = nlohmann::json::parse(built.pushed_json, nullptr, false);
  if (pushed.is_array()) {
    for (const auto& entry : pushed) {
      if (entry.value("to", "") == to && entry.value("digest", "") == built.digest) return Status::Ok();
    }
  }
  auto reference = image::ParseRegistryReference(to);
  if (!reference.ok()) return reference.status();
  progress("pushing to " + to);
  auto result = image::PushImage(built.layout.empty() ? ImageLayoutDir(workspace_) : built.layout, built.digest,
                                 reference.value(), RegistryOptionsFromEnvironment(), progress);
  if (!result.ok()) return result.status();
  return workspace_.state().RecordImagePush(built.name, built.version, to, built.digest);
}

Status Applier::PurgeArtifacts(const std::string& resource_id, const std::string& kind) {
  std::string name = NameOf(resource_id);
  if (kind == "image") {
    auto images = workspace_.state().ListImages(name, {});
    if (!images.ok()) return images.status();
    for (const ImageRecord& image : images.value()) {
      if (image.resource_id != resource_id) continue;
      if (Status s = DeleteImageVersion(workspace_, image); !s.ok()) return s;
    }
    return Status::Ok();
  }
  ModelQuery query;
  query.name = name;
  auto versions = workspace_.state().ListModelVersions(query);
  if (!versions.ok()) return versions.status();
  for (const ModelVersionRecord& version : versions.value()) {
    if (version.resource_id != resource_id) continue;
    if (Status s = workspace_.state().DeleteModelVersion(name, version.version); !s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace amlc::runtime
