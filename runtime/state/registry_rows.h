#ifndef AMLC_RUNTIME_STATE_REGISTRY_ROWS_H_
#define AMLC_RUNTIME_STATE_REGISTRY_ROWS_H_

// What the SQLite and PostgreSQL stores' model and image registries share:
// the tables of each registry, the checks of what a caller may record, the
// messages of the registry's refusals, and the JSON the rows carry. Not for
// other users.

#include <algorithm>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "runtime/state/state_store.h"

namespace amlc::runtime::internal::registry {

using Tags = std::map<std::string, std::string>;
using ModelRef = std::pair<std::string, int64_t>;

// The tables of one registry.
struct Registry {
  const char* noun;            // "model", "image": for messages
  const char* names_table;     // name -> last version ever assigned
  const char* versions_table;  // one row per version, keyed (name, version)
  const char* tags_table;      // (name, version, key) -> value
};

constexpr Registry kModels{"model", "model_names", "model_versions", "model_tags"};
constexpr Registry kImages{"image", "image_names", "images", "image_tags"};

// "iris:2", as users write a version.
inline std::string Label(const std::string& name, int64_t version) {
  return name + ":" + std::to_string(version);
}

// Plain, with no store path: a CLI prints it as it is.
inline Status NoSuchVersion(const Registry& registry, const std::string& name, int64_t version) {
  return Status(StatusCode::kNotFound,
                std::string("no ") + registry.noun + " " + Label(name, version));
}

inline Status Invalid(const std::string& where, std::string_view doing, const std::string& why) {
  return Status(StatusCode::kInvalidArgument,
                "state store " + where + ": " + std::string(doing) + ": " + why);
}

// What the tables would take but no reader could use: a version without a
// name ("<empty>:3"), a tag without a key.
inline Status CheckNameAndTags(const std::string& where, const Registry& registry,
                        std::string_view doing, const std::string& name, const Tags& tags) {
  if (name.empty()) return Invalid(where, doing, std::string("a ") + registry.noun + " needs a name");
  for (const auto& tag : tags) {
    if (tag.first.empty()) return Invalid(where, doing, "a tag needs a key");
  }
  return Status::Ok();
}

// Invalid UTF-8 in a caller's text is replaced rather than thrown about: the
// JSON written must always be readable again.
template <typename Json>
inline std::string Dump(const Json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A JSON object of strings, as json_group_object builds it from tag rows and
// as properties_json holds (the table's CHECK keeps that an object).
inline Tags ParseStringMap(const std::string& text) {
  Tags map;
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return map;
  for (auto it = json.begin(); it != json.end(); ++it) {
    map.emplace(it.key(), it->is_string() ? it->get<std::string>() : Dump(*it));
  }
  return map;
}

// An image's models from json_group_array of [position, name, version], put
// in position order (an aggregate promises no order of its rows).
inline std::vector<ModelRef> ParseModels(const std::string& text) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  std::vector<std::pair<int64_t, ModelRef>> placed;
  if (json.is_array()) {
    for (const nlohmann::json& row : json) {
      if (!row.is_array() || row.size() != 3 || !row[0].is_number_integer() ||
          !row[1].is_string() || !row[2].is_number_integer()) {
        continue;  // not what the query builds
      }
      placed.emplace_back(row[0].get<int64_t>(),
                          ModelRef(row[1].get<std::string>(), row[2].get<int64_t>()));
    }
  }
  std::sort(placed.begin(), placed.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<ModelRef> models;
  for (auto& [position, model] : placed) models.push_back(std::move(model));
  return models;
}

inline Status InUse(const std::string& name, int64_t version, const std::vector<std::string>& images) {
  std::string list;
  for (const std::string& image : images) list += (list.empty() ? "" : ", ") + image;
  return Status(StatusCode::kFailedPrecondition,
                "model " + Label(name, version) + " is used by image " + list + "; delete " +
                    (images.size() == 1 ? "that image" : "those images") + " first");
}

// kInvalidArgument for what RecordImage would store but readers could not
// use: a push history that is not a JSON array, a model listed twice.
inline Status CheckImage(const std::string& where, std::string_view doing,
                  const ImageRecord& image) {
  if (Status status = CheckNameAndTags(where, kImages, doing, image.name, image.tags);
      !status.ok()) {
    return status;
  }
  if (!nlohmann::json::parse(image.pushed_json, nullptr, /*allow_exceptions=*/false).is_array()) {
    return Invalid(where, doing, "pushed_json must be a JSON array, not '" +
                                          image.pushed_json + "'");
  }
  std::set<ModelRef> seen;
  for (const ModelRef& model : image.models) {
    if (!seen.insert(model).second) {
      return Invalid(where, doing,
                     "model " + Label(model.first, model.second) + " is listed twice");
    }
  }
  return Status::Ok();
}

}  // namespace amlc::runtime::internal::registry

#endif  // AMLC_RUNTIME_STATE_REGISTRY_ROWS_H_
