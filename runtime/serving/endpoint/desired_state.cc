// Implementation notes: validation collects every problem instead of stopping
// at the first, so one look at the host's status tells the apply side all that
// is wrong with the file it wrote. Unknown fields are problems too: apply and
// the host are the same amlc binary, so a field the host does not know is a
// misspelling or a file of another amlc version, and ignoring it would run
// something other than what was asked for. The writer is the struct's
// mirror: every field it writes, the reader reads.
#include "runtime/serving/endpoint/desired_state.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace amlc::runtime::endpoint {

namespace {

using nlohmann::json;

// Typed lookups in one JSON object that note a problem under `path` when a
// field has the wrong type; absent optional fields keep their defaults. Every
// key looked up counts as known; RejectUnknown names the others.
class FieldReader {
 public:
  FieldReader(const json& object, std::string path, std::vector<std::string>& problems)
      : object_(object), path_(std::move(path)), problems_(problems) {}

  bool Has(const char* key) {
    known_.insert(key);
    return object_.contains(key) && !object_[key].is_null();
  }
  void RejectUnknown() {
    for (const auto& [key, value] : object_.items()) {
      if (!known_.count(key)) Problem(key, "unknown field");
    }
  }

  void String(const char* key, std::string& out, bool required = false) {
    if (!Has(key)) return Missing(key, required);
    if (!object_[key].is_string()) return Problem(key, "must be a string");
    out = object_[key].get<std::string>();
    if (required && out.empty()) Problem(key, "must not be empty");
  }
  void Int(const char* key, int64_t& out, int64_t min, int64_t max) {
    if (!Has(key)) return;
    const json& value = object_[key];
    if (!value.is_number_integer()) return Problem(key, "must be an integer");
    int64_t number = value.get<int64_t>();
    if (number < min || number > max) {
      return Problem(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                              " (got " + std::to_string(number) + ")");
    }
    out = number;
  }
  void Int(const char* key, int& out, int min, int max) {
    int64_t wide = out;
    Int(key, wide, min, max);
    out = static_cast<int>(wide);
  }
  void Number(const char* key, double& out, double min) {
    if (!Has(key)) return;
    if (!object_[key].is_number()) return Problem(key, "must be a number");
    double number = object_[key].get<double>();
    if (number < min) {
      std::ostringstream text;
      text << "must be at least " << min << " (got " << number << ")";
      return Problem(key, text.str());
    }
    out = number;
  }
  void Bool(const char* key, bool& out) {
    if (!Has(key)) return;
    if (!object_[key].is_boolean()) return Problem(key, "must be true or false");
    out = object_[key].get<bool>();
  }
  // The object under `key`, or nullptr (and a problem when it is not one).
  const json* Object(const char* key, bool required = false) {
    if (!Has(key)) {
      Missing(key, required);
      return nullptr;
    }
    if (!object_[key].is_object()) {
      Problem(key, "must be an object");
      return nullptr;
    }
    return &object_[key];
  }
  void Problem(const std::string& key, const std::string& what) {
    problems_.push_back(Path(key) + ": " + what);
  }
  std::string Path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

 private:
  void Missing(const char* key, bool required) {
    if (required) Problem(key, "is required");
  }

  const json& object_;
  std::string path_;
  std::vector<std::string>& problems_;
  std::set<std::string> known_;
};

void ReadAutoscale(const json& object, const std::string& path, AutoscaleSpec& out,
                   std::vector<std::string>& problems) {
  FieldReader reader(object, path, problems);
  reader.Bool("enabled", out.enabled);
  reader.Int("min", out.min, 1, 1000);
  reader.Int("max", out.max, 1, 1000);
  reader.Number("target_in_flight", out.target_in_flight, 0.001);
  reader.Number("scale_up_after_s", out.scale_up_after_s, 0);
  reader.Number("scale_down_after_s", out.scale_down_after_s, 0);
  reader.Number("polling_interval_s", out.polling_interval_s, 0.05);
  reader.RejectUnknown();
  if (out.min > out.max) {
    reader.Problem("min", "must not exceed max (" + std::to_string(out.min) + " > " +
                              std::to_string(out.max) + ")");
  }
}

DeploymentSpec ReadDeployment(const std::string& name, const json& object,
                              std::vector<std::string>& problems) {
  DeploymentSpec spec;
  spec.name = name;
  std::string path = "deployments." + name;
  FieldReader reader(object, path, problems);
  reader.String("revision", spec.revision, /*required=*/true);
  reader.String("image", spec.image);
  if (!reader.Has("command")) {
    reader.Problem("command", "is required");
  } else if (!object["command"].is_array() || object["command"].empty()) {
    reader.Problem("command", "must be a non-empty array of strings");
  } else {
    for (const json& word : object["command"]) {
      if (!word.is_string()) {
        reader.Problem("command", "must be a non-empty array of strings");
        break;
      }
      spec.command.push_back(word.get<std::string>());
    }
  }
  if (const json* env = reader.Object("env")) {
    for (const auto& [key, value] : env->items()) {
      if (!value.is_string()) reader.Problem("env." + key, "must be a string");
      else spec.env[key] = value.get<std::string>();
    }
  }
  reader.Int("instance_count", spec.instance_count, 1, 1000);
  reader.Number("readiness_timeout_s", spec.readiness_timeout_s, 0.1);
  if (const json* autoscale = reader.Object("autoscale")) {
    ReadAutoscale(*autoscale, path + ".autoscale", spec.autoscale, problems);
  }
  reader.RejectUnknown();
  return spec;
}

void ReadTraffic(const json& traffic, DesiredState& state, std::vector<std::string>& problems) {
  int total = 0;
  for (const auto& [name, value] : traffic.items()) {
    if (!value.is_number_integer() || value.get<int64_t>() < 0 || value.get<int64_t>() > 100) {
      problems.push_back("traffic." + name + ": must be an integer percentage from 0 to 100");
      continue;
    }
    if (!state.deployments.count(name)) {
      problems.push_back("traffic." + name + ": no deployment '" + name + "' in deployments");
      continue;
    }
    state.traffic[name] = value.get<int>();
    total += value.get<int>();
  }
  if (total != 0 && total != 100) {
    problems.push_back("traffic: the percentages must add up to 100 (or all be 0), not " +
                       std::to_string(total));
  }
}

json DeploymentJson(const DeploymentSpec& spec) {
  const AutoscaleSpec& autoscale = spec.autoscale;
  return {{"revision", spec.revision},
          {"image", spec.image},
          {"command", spec.command},
          {"env", spec.env},
          {"instance_count", spec.instance_count},
          {"readiness_timeout_s", spec.readiness_timeout_s},
          {"autoscale",
           {{"enabled", autoscale.enabled},
            {"min", autoscale.min},
            {"max", autoscale.max},
            {"target_in_flight", autoscale.target_in_flight},
            {"scale_up_after_s", autoscale.scale_up_after_s},
            {"scale_down_after_s", autoscale.scale_down_after_s},
            {"polling_interval_s", autoscale.polling_interval_s}}}};
}

}  // namespace

std::string DeploymentSpec::RolloutKey() const {
  json key = {{"revision", revision}, {"command", command}, {"env", env}};
  return key.dump();
}

int DeploymentSpec::InitialReplicas() const {
  if (!autoscale.enabled) return instance_count;
  return std::clamp(instance_count, autoscale.min, autoscale.max);
}

StatusOr<DesiredState> ParseDesiredState(const std::string& text) {
  json document = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) {
    return Status(StatusCode::kInvalidArgument, "desired.json is not valid JSON");
  }
  if (!document.is_object()) {
    return Status(StatusCode::kInvalidArgument, "desired.json must hold a JSON object");
  }
  std::vector<std::string> problems;
  DesiredState state;
  FieldReader reader(document, "", problems);
  reader.String("endpoint", state.endpoint, /*required=*/true);
  reader.String("host", state.host);
  reader.Int("port", state.port, 0, 65535);
  reader.String("pin_header", state.pin_header);
  reader.Int("generation", state.generation, 0, INT64_MAX);
  if (const json* deployments = reader.Object("deployments", /*required=*/true)) {
    for (const auto& [name, value] : deployments->items()) {
      if (name.empty() || name.find_first_of("/ \t\n") != std::string::npos) {
        problems.push_back("deployments: '" + name + "' is not a usable deployment name");
      } else if (!value.is_object()) {
        problems.push_back("deployments." + name + ": must be an object");
      } else {
        state.deployments[name] = ReadDeployment(name, value, problems);
      }
    }
  }
  if (const json* traffic = reader.Object("traffic")) ReadTraffic(*traffic, state, problems);
  reader.RejectUnknown();
  if (problems.empty()) return state;
  std::string message = "desired.json has " + std::to_string(problems.size()) +
                        (problems.size() == 1 ? " problem: " : " problems: ");
  for (size_t i = 0; i < problems.size(); ++i) message += (i ? "; " : "") + problems[i];
  return Status(StatusCode::kInvalidArgument, message);
}

std::string DesiredStateToJson(const DesiredState& state) {
  json deployments = json::object();
  for (const auto& [name, spec] : state.deployments) deployments[name] = DeploymentJson(spec);
  json document = {{"endpoint", state.endpoint},       {"host", state.host},
                   {"port", state.port},               {"pin_header", state.pin_header},
                   {"generation", state.generation},   {"traffic", state.traffic},
                   {"deployments", deployments}};
  return document.dump(2) + "\n";
}

StatusOr<DesiredState> ReadDesiredState(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(StatusCode::kNotFound, "cannot read " + path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return ParseDesiredState(text);
}

}  // namespace amlc::runtime::endpoint
