#include "runtime/artifacts/registry/lineage.h"

#include <optional>

#include "runtime/artifacts/registry/model_registry.h"

namespace amlc::runtime {

using nlohmann::json;

namespace {

json RunJson(StateStore& state, const std::string& run_id) {
  json out{{"id", run_id}};
  auto run = state.GetRun(run_id);
  if (!run.ok() || !run.value()) {
    out["missing"] = true;  // its history was purged
    return out;
  }
  const RunRecord& record = *run.value();
  out["job"] = record.job_id;
  out["experiment"] = record.experiment;
  out["status"] = RunStatusName(record.status);
  out["snapshot_digest"] = record.snapshot_digest;
  out["spec_commit"] = record.spec_commit;
  if (!record.parent_run_id.empty()) out["parent"] = record.parent_run_id;
  return out;
}

json ModelJson(StateStore& state, const ModelVersionRecord& model) {
  json out{{"name", model.name},
           {"version", model.version},
           {"content_digest", model.content_digest},
           {"spec_commit", model.spec_commit}};
  if (!model.run_id.empty()) out["run"] = RunJson(state, model.run_id);
  return out;
}

json ImageJson(const ImageRecord& image) {
  return {{"name", image.name}, {"version", image.version}, {"digest", image.digest}};
}

json ModelsOf(StateStore& state, const ImageRecord& image) {
  json models = json::array();
  for (const auto& [name, version] : image.models) {
    auto model = state.GetModelVersion(name, version);
    if (model.ok() && model.value()) {
      models.push_back(ModelJson(state, *model.value()));
    } else {
      models.push_back({{"name", name}, {"version", version}, {"missing", true}});
    }
  }
  return models;
}

std::optional<ImageRecord> FindImage(StateStore& state, const VersionRef& ref) {
  auto image = ref.version ? state.GetImage(ref.name, ref.version) : state.LatestImage(ref.name);
  if (!image.ok() || !image.value()) return std::nullopt;
  return *image.value();
}

std::optional<ModelVersionRecord> FindModel(StateStore& state, const VersionRef& ref) {
  auto model = ref.version ? state.GetModelVersion(ref.name, ref.version) : state.LatestModelVersion(ref.name);
  if (!model.ok() || !model.value()) return std::nullopt;
  return *model.value();
}

std::optional<json> FromDeployment(StateStore& state, const std::string& name) {
  auto record = state.GetResource("deployment/" + name);
  if (!record.ok() || !record.value()) return std::nullopt;
  json outputs = json::parse(record.value()->outputs_json, nullptr, false);
  if (!outputs.is_object()) outputs = json::object();
  json out{{"start", {{"kind", "deployment"}, {"name", name}}},
           {"deployment",
            {{"name", name},
             {"endpoint", outputs.value("endpoint", "")},
             {"scoring_uri", outputs.value("scoring_uri", "")}}}};
  auto ref = ParseVersionRef(outputs.value("image", ""), "image");
  if (!ref.ok()) return out;
  if (std::optional<ImageRecord> image = FindImage(state, ref.value())) {
    out["image"] = ImageJson(*image);
    out["models"] = ModelsOf(state, *image);
  } else {
    out["image"] = {{"name", ref->name}, {"version", ref->version}, {"missing", true}};
  }
  return out;
}

}  // namespace

StatusOr<json> TraceLineage(StateStore& state, const std::string& start) {
  std::string text = start;
  std::string kind;  // "image" or "model" when written as a prefix
  for (const char* prefix : {"image/", "model/", "deployment/"}) {
    if (text.rfind(prefix, 0) == 0) {
      kind = std::string(prefix).substr(0, std::string(prefix).size() - 1);
      text = text.substr(kind.size() + 1);
    }
  }
  if (kind.empty() || kind == "deployment") {
    if (auto found = FromDeployment(state, text)) return *found;
  }
  if (text.find(':') != std::string::npos || text.find('@') != std::string::npos) {
    auto ref = ParseVersionRef(text, "image or model");
    if (!ref.ok()) return ref.status();
    if (kind.empty() || kind == "image") {
      if (std::optional<ImageRecord> image = FindImage(state, ref.value())) {
        return json{{"start", {{"kind", "image"}, {"name", text}}},
                    {"image", ImageJson(*image)},
                    {"models", ModelsOf(state, *image)}};
      }
    }
    if (kind.empty() || kind == "model") {
      if (std::optional<ModelVersionRecord> model = FindModel(state, ref.value())) {
        return json{{"start", {{"kind", "model"}, {"name", text}}},
                    {"models", json::array({ModelJson(state, *model)})}};
      }
    }
  }
  if (kind.empty()) {
    auto run = state.GetRun(text);
    if (run.ok() && run.value()) {
      return json{{"start", {{"kind", "run"}, {"name", text}}}, {"run", RunJson(state, text)}};
    }
  }
  return Status(StatusCode::kNotFound,
                "'" + start + "' is no deployment, image or model version (NAME:VERSION) or run of this workspace; "
                "see amlc deployments list, amlc images list, amlc models list, amlc runs list");
}

}  // namespace amlc::runtime
