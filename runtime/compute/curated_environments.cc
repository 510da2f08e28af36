#include "runtime/compute/curated_environments.h"

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/digest.h"

namespace amlc::runtime {

namespace {

using nlohmann::json;

// Azure ML's curated environments as Debian 12 provides them: python3 with
// python3-sklearn, -numpy, -scipy, -pandas, -joblib, -matplotlib. Frameworks
// Debian does not package here (PyTorch, TensorFlow, LightGBM) are listed
// with the module they need, so a job that names one fails with what to
// install or how to map it, instead of running without it.
constexpr char kBuiltinCatalog[] = R"JSON({
  "sklearn-*": {"python": "/usr/bin/python3", "modules": ["sklearn", "numpy", "scipy", "pandas", "joblib"]},
  "minimal-*": {"python": "/usr/bin/python3", "modules": []},
  "responsibleai-*": {"python": "/usr/bin/python3", "modules": ["sklearn", "numpy", "pandas"]},
  "lightgbm-*": {"python": "/usr/bin/python3", "modules": ["lightgbm", "sklearn", "pandas"]},
  "xgboost-*": {"python": "/usr/bin/python3", "modules": ["xgboost", "sklearn", "pandas"]},
  "pytorch-*": {"python": "/usr/bin/python3", "modules": ["torch"]},
  "acpt-pytorch-*": {"python": "/usr/bin/python3", "modules": ["torch"]},
  "tensorflow-*": {"python": "/usr/bin/python3", "modules": ["tensorflow"]}
})JSON";

// The entry of `catalog` for `name`: exact, else the longest 'PREFIX*' key.
const json* Match(const json& catalog, const std::string& name) {
  if (!catalog.is_object()) return nullptr;
  if (catalog.contains(name)) return &catalog[name];
  const json* best = nullptr;
  size_t best_length = 0;
  for (auto& [key, entry] : catalog.items()) {
    if (key.empty() || key.back() != '*') continue;
    std::string prefix = key.substr(0, key.size() - 1);
    if (name.rfind(prefix, 0) == 0 && prefix.size() >= best_length) {
      best = &entry;
      best_length = prefix.size();
    }
  }
  return best;
}

StatusOr<CuratedEnvironment> FromEntry(const std::string& name, const json& entry, const std::string& source) {
  if (!entry.is_object() || (!entry.contains("python") && !entry.contains("image"))) {
    return Status(StatusCode::kInvalidArgument, source + ": the entry for curated environment '" + name +
                                                    "' needs \"python\" (an interpreter) or \"image\"");
  }
  CuratedEnvironment env;
  env.name = name;
  env.source = source;
  env.python = entry.value("python", "");
  env.image = entry.value("image", "");
  if (entry.contains("modules") && entry["modules"].is_array()) {
    for (const json& module : entry["modules"]) {
      if (module.is_string()) env.modules.push_back(module.get<std::string>());
    }
  }
  return env;
}

}  // namespace

std::string CuratedEnvironment::Digest() const {
  std::string modules_text;
  for (const std::string& module : modules) modules_text += module + ",";
  return Sha256Hex("curated=" + name + "\npython=" + python + "\nimage=" + image + "\nmodules=" + modules_text);
}

StatusOr<CuratedEnvironment> LookupCurated(const std::string& name) {
  if (const char* file = std::getenv("AMLC_CURATED_ENVIRONMENTS"); file != nullptr && *file != '\0') {
    std::ifstream in(file);
    if (!in) {
      return Status(StatusCode::kInvalidArgument,
                    std::string("cannot read the curated environment catalog $AMLC_CURATED_ENVIRONMENTS=") + file);
    }
    std::stringstream text;
    text << in.rdbuf();
    json overrides = json::parse(text.str(), nullptr, false);
    if (!overrides.is_object()) {
      return Status(StatusCode::kInvalidArgument,
                    std::string(file) + " is not a JSON object of NAME: {\"python\": ..., \"modules\": [...]}");
    }
    if (const json* entry = Match(overrides, name)) return FromEntry(name, *entry, file);
  }
  static const json builtin = json::parse(kBuiltinCatalog);
  if (const json* entry = Match(builtin, name)) return FromEntry(name, *entry, "built-in");
  return Status(StatusCode::kNotFound,
                "curated environment '" + name + "' is not in amlc's catalog; map it to a local interpreter or "
                "image in a JSON file named by $AMLC_CURATED_ENVIRONMENTS, e.g. {\"" + name +
                    "\": {\"python\": \"/usr/bin/python3\", \"modules\": [...]}}");
}

}  // namespace amlc::runtime
