#include "runtime/tracking/mlflow_registry.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <regex>
#include <variant>
#include <vector>

#include "base/clock.h"
#include "runtime/artifacts/registry/model_registry.h"
#include "runtime/tracking/mlflow_artifacts.h"

namespace amlc::runtime {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

MlflowRestAnswer Invalid(const std::string& message) { return MlflowError(400, "INVALID_PARAMETER_VALUE", message); }
MlflowRestAnswer Missing(const std::string& message) { return MlflowError(404, "RESOURCE_DOES_NOT_EXIST", message); }
MlflowRestAnswer Internal(const Status& status) { return MlflowError(500, "INTERNAL_ERROR", status.message()); }
MlflowRestAnswer Answer(const json& body) { return {200, body.dump()}; }

std::string Text(const json& fields, const char* key) {
  auto found = fields.find(key);
  if (found == fields.end() || found->is_null()) return "";
  return found->is_string() ? found->get<std::string>() : found->dump();
}

json ModelVersionJson(const ModelVersionRecord& model) {
  json tags = json::array();
  for (const auto& [key, value] : model.tags) tags.push_back({{"key", key}, {"value", value}});
  return {{"name", model.name},
          {"version", std::to_string(model.version)},
          {"creation_timestamp", model.created_at},
          {"last_updated_timestamp", model.created_at},
          {"current_stage", "None"},
          {"description", model.description},
          {"source", model.properties.count("mlflow.source") ? model.properties.at("mlflow.source") : ""},
          {"run_id", model.run_id},
          {"status", "READY"},
          {"tags", tags}};
}

// A registered model as MLflow shows one: its versions newest first.
json RegisteredModelJson(const std::vector<ModelVersionRecord>& versions) {
  const ModelVersionRecord& latest = versions.front();
  return {{"name", latest.name},
          {"creation_timestamp", versions.back().created_at},
          {"last_updated_timestamp", latest.created_at},
          {"description", latest.description},
          {"latest_versions", json::array({ModelVersionJson(latest)})}};
}

// One condition of a registry filter: name = 'x', run_id != 'y', name LIKE 'a%'.
struct Condition {
  std::string key;
  std::string op;
  std::string value;
};

std::optional<std::vector<Condition>> ParseFilter(const std::string& filter) {
  static const std::regex one(R"(^\s*(name|run_id|source)\s*(=|!=|like|ilike)\s*'([^']*)'\s*(?:and\s+|$))",
                              std::regex::icase);
  std::vector<Condition> conditions;
  std::string rest = filter;
  std::smatch match;
  while (!rest.empty() && rest.find_first_not_of(" \t") != std::string::npos) {
    if (!std::regex_search(rest, match, one)) return std::nullopt;
    std::string op = match[2];
    for (char& c : op) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    conditions.push_back({match[1], op, match[3]});
    rest = match.suffix();
  }
  return conditions;
}

// SQL's LIKE: % any run of characters, _ one character.
bool Like(const std::string& text, const std::string& pattern, bool fold_case) {
  auto same = [fold_case](char a, char b) {
    return fold_case ? std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b)) : a == b;
  };
  if (pattern.empty()) return text.empty();
  if (pattern[0] == '%') {
    for (size_t skip = 0; skip <= text.size(); ++skip) {
      if (Like(text.substr(skip), pattern.substr(1), fold_case)) return true;
    }
    return false;
  }
  if (text.empty() || (pattern[0] != '_' && !same(text[0], pattern[0]))) return false;
  return Like(text.substr(1), pattern.substr(1), fold_case);
}

bool Matches(const ModelVersionRecord& model, const std::vector<Condition>& conditions) {
  for (const Condition& condition : conditions) {
    std::string value = condition.key == "name" ? model.name : condition.key == "run_id" ? model.run_id
                        : model.properties.count("mlflow.source") ? model.properties.at("mlflow.source") : "";
    bool holds = condition.op == "=" ? value == condition.value
                 : condition.op == "!=" ? value != condition.value
                                        : Like(value, condition.value, condition.op == "ILIKE");
    if (!holds) return false;
  }
  return true;
}

// The versions a search filter selects, newest first, or the error to answer.
std::variant<std::vector<ModelVersionRecord>, MlflowRestAnswer> Search(Workspace& workspace, const json& fields) {
  auto conditions = ParseFilter(Text(fields, "filter"));
  if (!conditions) {
    return Invalid("Invalid filter '" + Text(fields, "filter") +
                   "': amlc answers name, run_id and source with =, !=, LIKE, ILIKE and 'quoted' values, "
                   "joined by AND (name = 'diabetes' AND run_id = 'abc')");
  }
  auto versions = workspace.state().ListModelVersions(ModelQuery{});
  if (!versions.ok()) return Internal(versions.status());
  std::vector<ModelVersionRecord> selected;
  for (ModelVersionRecord& model : versions.value()) {
    if (Matches(model, *conditions)) selected.push_back(std::move(model));
  }
  return selected;
}

int64_t MaxResults(const json& fields, int64_t fallback) {
  std::string text = Text(fields, "max_results");
  return text.empty() || text.find_first_not_of("0123456789") != std::string::npos ? fallback : std::stoll(text);
}

MlflowRestAnswer CreateRegisteredModel(Workspace& workspace, const json& fields) {
  std::string name = Text(fields, "name");
  if (name.empty()) return Invalid("Registered model name cannot be empty.");
  auto latest = workspace.state().LatestModelVersion(name);
  if (!latest.ok()) return Internal(latest.status());
  if (latest.value()) {
    return MlflowError(400, "RESOURCE_ALREADY_EXISTS", "Registered Model (name=" + name + ") already exists.");
  }
  int64_t now = NowMillis();
  return Answer({{"registered_model", {{"name", name}, {"creation_timestamp", now}, {"last_updated_timestamp", now}}}});
}

MlflowRestAnswer GetRegisteredModel(Workspace& workspace, const json& fields) {
  std::string name = Text(fields, "name");
  ModelQuery query;
  query.name = name;
  auto versions = workspace.state().ListModelVersions(query);
  if (!versions.ok()) return Internal(versions.status());
  if (name.empty() || versions->empty()) return Missing("Registered Model with name=" + name + " not found");
  return Answer({{"registered_model", RegisteredModelJson(versions.value())}});
}

MlflowRestAnswer SearchRegisteredModels(Workspace& workspace, const json& fields) {
  auto found = Search(workspace, fields);
  if (auto* error = std::get_if<MlflowRestAnswer>(&found)) return *error;
  std::map<std::string, std::vector<ModelVersionRecord>> by_name;
  for (ModelVersionRecord& model : std::get<std::vector<ModelVersionRecord>>(found)) {
    by_name[model.name].push_back(std::move(model));
  }
  json models = json::array();
  for (const auto& [name, versions] : by_name) {
    if (static_cast<int64_t>(models.size()) >= MaxResults(fields, 100)) break;
    models.push_back(RegisteredModelJson(versions));
  }
  return Answer(models.empty() ? json::object() : json{{"registered_models", models}});
}

// "RUN_ID/PATH" of a source written runs:/RUN_ID/PATH or
// mlflow-artifacts:/RUN_ID/PATH; "" for any other.
std::string SourceArtifact(const std::string& source) {
  std::string artifact;
  for (const char* scheme : {"runs:/", "mlflow-artifacts:/"}) {
    if (source.rfind(scheme, 0) == 0) artifact = source.substr(std::string(scheme).size());
  }
  while (!artifact.empty() && artifact[0] == '/') artifact.erase(0, 1);
  return artifact;
}

// The local folder or file a version's source names, in a run's outputs.
std::variant<std::string, MlflowRestAnswer> SourcePath(Workspace& workspace, const std::string& source) {
  std::string artifact = SourceArtifact(source);
  if (artifact.empty()) {
    return Invalid("Invalid source '" + source + "': amlc registers from a run's artifacts, "
                   "runs:/RUN_ID/PATH or mlflow-artifacts:/RUN_ID/PATH");
  }
  MlflowArtifactLocation at = LocateMlflowArtifact(workspace, artifact);
  if (at.path.empty()) return at.error;
  if (!fs::exists(at.path)) return Missing("Source '" + source + "' holds no artifact");
  return at.path;
}

MlflowRestAnswer CreateModelVersion(Workspace& workspace, const json& fields) {
  std::string name = Text(fields, "name"), source = Text(fields, "source");
  if (name.empty()) return Invalid("Registered model name cannot be empty.");
  auto path = SourcePath(workspace, source);
  if (auto* error = std::get_if<MlflowRestAnswer>(&path)) return *error;
  ModelVersionRecord model;
  model.name = name;
  model.description = Text(fields, "description");
  model.properties["mlflow.source"] = source;
  model.run_id = Text(fields, "run_id");
  if (model.run_id.empty()) model.run_id = SourceArtifact(source).substr(0, SourceArtifact(source).find('/'));
  if (auto run = workspace.state().GetRun(model.run_id); run.ok() && run.value()) {
    model.experiment = run.value()->experiment;
    model.job_id = run.value()->job_id;
    model.spec_commit = run.value()->spec_commit;
  }
  if (fields.contains("tags") && fields["tags"].is_array()) {
    for (const json& tag : fields["tags"]) model.tags[tag.value("key", "")] = tag.value("value", "");
  }
  if (fs::exists(fs::path(std::get<std::string>(path)) / "MLmodel")) model.type = "mlflow_model";
  model.created_at = NowMillis();
  auto registered = RegisterModel(workspace, model, std::get<std::string>(path));
  if (!registered.ok()) {
    bool user = registered.status().code() != StatusCode::kUnavailable && registered.status().code() != StatusCode::kInternal;
    return user ? Invalid(registered.status().message()) : Internal(registered.status());
  }
  return Answer({{"model_version", ModelVersionJson(registered.value())}});
}

MlflowRestAnswer GetModelVersion(Workspace& workspace, const json& fields) {
  std::string name = Text(fields, "name"), version = Text(fields, "version");
  if (version.empty() || version.find_first_not_of("0123456789") != std::string::npos) {
    return Invalid("Model version must be an integer, got '" + version + "'");
  }
  auto model = workspace.state().GetModelVersion(name, std::stoll(version));
  if (!model.ok()) return Internal(model.status());
  if (!model.value()) return Missing("Model Version (name=" + name + ", version=" + version + ") not found");
  return Answer({{"model_version", ModelVersionJson(*model.value())}});
}

MlflowRestAnswer SearchModelVersions(Workspace& workspace, const json& fields) {
  auto found = Search(workspace, fields);
  if (auto* error = std::get_if<MlflowRestAnswer>(&found)) return *error;
  json versions = json::array();
  for (const ModelVersionRecord& model : std::get<std::vector<ModelVersionRecord>>(found)) {
    if (static_cast<int64_t>(versions.size()) >= MaxResults(fields, 10000)) break;
    versions.push_back(ModelVersionJson(model));
  }
  return Answer(versions.empty() ? json::object() : json{{"model_versions", versions}});
}

}  // namespace

bool IsMlflowRegistryPath(const std::string& path) {
  return path.rfind("registered-models/", 0) == 0 || path.rfind("model-versions/", 0) == 0;
}

MlflowRestAnswer HandleMlflowRegistry(Workspace& workspace, const std::string& method, const std::string& path,
                                      const std::map<std::string, std::string>& query, const std::string& body) {
  std::optional<json> fields = MlflowRequestFields(query, body);
  if (!fields) return Invalid("The request body is not a JSON object");
  bool get = method == "GET";
  if (path == "registered-models/create" && !get) return CreateRegisteredModel(workspace, *fields);
  if (path == "registered-models/get" && get) return GetRegisteredModel(workspace, *fields);
  if (path == "registered-models/search") return SearchRegisteredModels(workspace, *fields);
  if (path == "model-versions/create" && !get) return CreateModelVersion(workspace, *fields);
  if (path == "model-versions/get" && get) return GetModelVersion(workspace, *fields);
  if (path == "model-versions/search") return SearchModelVersions(workspace, *fields);
  return MlflowError(404, "ENDPOINT_NOT_FOUND", method + " /api/2.0/mlflow/" + path + " is not an endpoint amlc serves");
}

}  // namespace amlc::runtime
