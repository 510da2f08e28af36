// The model and image registries against a workspace server: models
// list|show, images list|show. Each prints what its local twin in
// registry_commands.cc prints, from the same rows the server answers with.

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/list_output.h"
#include "cli/output.h"
#include "cli/registry_commands.h"
#include "cli/remote_commands.h"
#include "runtime/artifacts/registry/model_registry.h"

namespace amlc::cli {

namespace {

using nlohmann::json;

// "?name=…&framework=…&tag=…" of a list command's filters.
std::string ListQuery(const CLI::App& command, const std::vector<const char*>& names) {
  std::string query;
  for (const char* name : names) {
    if (std::string value = OptionText(command, std::string("--") + name); !value.empty()) {
      query += (query.empty() ? "?" : "&") + std::string(name) + "=" + QueryValue(value);
    }
  }
  for (const std::string& tag : OptionList(command, "--tag")) {
    query += (query.empty() ? "?" : "&") + std::string("tag=") + QueryValue(tag);
  }
  return query;
}

// The version NAME[:VERSION|@latest] names, read from /api/v1/{models|images}:
// a version by its path, the latest as the first of the name's list (newest first).
std::optional<json> FindVersion(const ServerClient& server, const std::string& collection, const std::string& what,
                                const std::string& text, int& exit_code) {
  auto ref = runtime::ParseVersionRef(text, what);
  if (!ref.ok()) {
    PrintError(ref.status().message());
    exit_code = kExitUsage;
    return std::nullopt;
  }
  std::string path = "/api/v1/" + collection + "/" + QueryValue(ref->name);
  if (ref->version != 0) return GetJson(server, path + "/versions/" + std::to_string(ref->version), exit_code);
  std::optional<json> versions = GetJson(server, path, exit_code);
  if (!versions) return std::nullopt;
  if (!versions->is_array() || versions->empty()) {
    PrintError("no " + what + " " + ref->ToString() + " in this workspace");
    exit_code = kExitUsage;
    return std::nullopt;
  }
  return (*versions)[0];
}

int ModelsList(const ServerClient& server, const CLI::App& command) {
  int exit_code = kExitOk;
  std::optional<json> rows = GetJson(server, "/api/v1/models" + ListQuery(command, {"name", "framework"}), exit_code);
  if (!rows) return exit_code;
  PrintModelRows(*rows, OutputFormat(command));
  return kExitOk;
}

int ModelsShow(const ServerClient& server, const CLI::App& command) {
  int exit_code = kExitOk;
  std::optional<json> model = FindVersion(server, "models", "model", OptionText(command, "model"), exit_code);
  if (!model) return exit_code;
  std::optional<json> images = GetJson(server, "/api/v1/images", exit_code);
  if (!images) return exit_code;
  std::string self = model->value("name", "") + ":" + std::to_string(model->value("version", 0LL));
  json used_by = json::array();
  for (const json& image : *images) {  // ordered by image name and version, as locally
    for (const json& packaged : image.value("models", json::array())) {
      if (packaged == self) used_by.push_back(image.value("name", "") + ":" + std::to_string(image.value("version", 0LL)));
    }
  }
  (*model)["used_by_images"] = used_by;
  if (OptionFlag(command, "--json")) {
    PrintJson(*model);
  } else {
    PrintFields(*model);
  }
  return kExitOk;
}

int ImagesList(const ServerClient& server, const CLI::App& command) {
  int exit_code = kExitOk;
  std::optional<json> rows = GetJson(server, "/api/v1/images" + ListQuery(command, {"name"}), exit_code);
  if (!rows) return exit_code;
  PrintImageRows(*rows, OutputFormat(command));
  return kExitOk;
}

int ImagesShow(const ServerClient& server, const CLI::App& command) {
  int exit_code = kExitOk;
  std::optional<json> image = FindVersion(server, "images", "image", OptionText(command, "image"), exit_code);
  if (!image) return exit_code;
  if (OptionFlag(command, "--json")) {
    PrintJson(*image);
  } else {
    PrintFields(*image);
  }
  return kExitOk;
}

}  // namespace

std::map<std::string, RemoteCommand> RemoteRegistryCommands() {
  return {{"models list", ModelsList}, {"models show", ModelsShow},
          {"images list", ImagesList}, {"images show", ImagesShow}};
}

}  // namespace amlc::cli
