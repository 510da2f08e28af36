// The model and image registries from the command line. Every command reads
// or writes the workspace's state store; nothing here knows about specs.
#include "cli/registry_commands.h"

#include <unistd.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/byte_lines.h"
#include "cli/list_output.h"
#include "cli/output.h"
#include "cli/workspace_access.h"
#include "runtime/artifacts/oci/registry_client.h"
#include "runtime/artifacts/registry/image_packaging.h"
#include "runtime/artifacts/registry/model_registry.h"
#include "runtime/views/record_json.h"

namespace amlc::cli {

std::string SizeText(uint64_t bytes) {
  char text[32];
  if (bytes >= 10ull << 20) {
    std::snprintf(text, sizeof text, "%.0f MB", bytes / 1048576.0);
  } else if (bytes >= 10ull << 10) {
    std::snprintf(text, sizeof text, "%.0f KB", bytes / 1024.0);
  } else {
    std::snprintf(text, sizeof text, "%llu B", static_cast<unsigned long long>(bytes));
  }
  return text;
}

std::string TagsText(const std::map<std::string, std::string>& tags) {
  std::string text;
  for (const auto& [key, value] : tags) text += (text.empty() ? "" : " ") + key + (value.empty() ? "" : "=" + value);
  return text;
}

void PrintFields(const nlohmann::json& object) {
  for (auto& [key, value] : object.items()) {
    std::string text = value.is_string() ? value.get<std::string>() : value.dump();
    std::printf("%-15s %s\n", (key + ":").c_str(), text.c_str());
  }
}

namespace {

// A string field of a record's JSON row, `fallback` when empty.
std::string Field(const nlohmann::json& row, const char* name, const char* fallback = "") {
  std::string text = row.value(name, "");
  return text.empty() ? fallback : text;
}

}  // namespace

void PrintModelRows(const nlohmann::json& rows, const std::string& format) {
  if (format != "table") {
    return PrintList(rows, {{"NAME", "name"}, {"VERSION", "version"}, {"FRAMEWORK", "framework"},
                            {"SIZE", "size_bytes"}, {"CREATED", "created_at"}, {"TAGS", "tags"}}, format);
  }
  std::printf("%-24s %7s  %-14s %9s  %-19s  %-36s %s\n", "NAME", "VERSION", "FRAMEWORK", "SIZE", "CREATED", "RUN",
              "TAGS");
  for (const nlohmann::json& m : rows) {
    std::string run = m.contains("lineage") ? m["lineage"].value("run", "") : "";
    std::printf("%-24s %7lld  %-14s %9s  %-19s  %-36s %s\n", Field(m, "name").c_str(),
                m.value("version", 0LL), Field(m, "framework", "-").c_str(),
                SizeText(m.value("size_bytes", uint64_t{0})).c_str(), Field(m, "created_at").c_str(),
                run.empty() ? "-" : run.c_str(), TagsText(m.value("tags", std::map<std::string, std::string>{})).c_str());
  }
}

void PrintImageRows(const nlohmann::json& rows, const std::string& format) {
  if (format != "table") {
    return PrintList(rows, {{"NAME", "name"}, {"VERSION", "version"}, {"DIGEST", "digest"}, {"SIZE", "size_bytes"},
                            {"CREATED", "created_at"}, {"MODELS", "models"}, {"TAGS", "tags"}}, format);
  }
  std::printf("%-24s %7s  %-19s  %9s  %-19s  %-28s %s\n", "NAME", "VERSION", "DIGEST", "SIZE", "CREATED", "MODELS",
              "TAGS");
  for (const nlohmann::json& image : rows) {
    std::string models;
    for (const nlohmann::json& model : image.value("models", nlohmann::json::array())) {
      models += (models.empty() ? "" : ",") + model.get<std::string>();
    }
    std::printf("%-24s %7lld  %-19s  %9s  %-19s  %-28s %s\n", Field(image, "name").c_str(),
                image.value("version", 0LL), Field(image, "digest").substr(0, 19).c_str(),
                SizeText(image.value("size_bytes", uint64_t{0})).c_str(), Field(image, "created_at").c_str(),
                models.c_str(), TagsText(image.value("tags", std::map<std::string, std::string>{})).c_str());
  }
}

namespace {

using json = nlohmann::json;
using runtime::ImageRecord;
using runtime::ModelVersionRecord;

struct RegistryOptions {
  std::string workspace;
  bool json_output = false;
  std::string format = "table";  // -o of the list commands
  std::string name;
  std::string path;
  std::string reference;  // NAME[:VERSION|@latest]
  std::vector<std::string> tags;        // k=v (filters, or tags to set)
  std::vector<std::string> properties;  // k=v
  std::vector<std::string> remove_tags;
  std::string framework;
  std::string description;
  std::string type = "custom_model";
  std::string output;
  std::string push_to;
  std::string username;
  std::string ca_file;
  bool insecure = false;
  uint64_t chunk_size = 0;
};

int Fail(const Status& status, int& exit_code) {
  std::fprintf(stderr, "amlc: error: %s\n", status.message().c_str());
  exit_code = status.code() == StatusCode::kNotFound || status.code() == StatusCode::kInvalidArgument
                  ? kExitUsage
                  : kExitSpecErrors;
  return exit_code;
}

// "k=v" pairs; a usage error names the one without '='.
bool ParsePairs(const std::vector<std::string>& pairs, const char* flag, std::map<std::string, std::string>& out,
                bool value_optional, int& exit_code) {
  for (const std::string& pair : pairs) {
    size_t equals = pair.find('=');
    if (equals == 0 || (equals == std::string::npos && !value_optional)) {
      std::fprintf(stderr, "amlc: error: %s '%s': write KEY=VALUE\n", flag, pair.c_str());
      exit_code = kExitUsage;
      return false;
    }
    out[pair.substr(0, equals)] = equals == std::string::npos ? "" : pair.substr(equals + 1);
  }
  return true;
}

// ---- models ---------------------------------------------------------------

void ModelsRegister(const RegistryOptions& options, int& exit_code) {
  auto workspace = runtime::Workspace::Open(runtime::DefaultWorkspaceHome(".", options.workspace));
  if (!workspace.ok()) return (void)Fail(workspace.status(), exit_code);
  ModelVersionRecord model;
  model.name = options.name;
  model.type = options.type;
  model.framework = options.framework;
  model.description = options.description;
  if (!ParsePairs(options.tags, "--tag", model.tags, true, exit_code) ||
      !ParsePairs(options.properties, "--property", model.properties, false, exit_code)) {
    return;
  }
  auto registered = runtime::RegisterModel(*workspace.value(), model, options.path);
  if (!registered.ok()) return (void)Fail(registered.status(), exit_code);
  exit_code = kExitOk;
  if (options.json_output) {
    std::printf("%s\n", runtime::ModelJson(registered.value()).dump(2).c_str());
    return;
  }
  std::printf("registered %s:%lld (%s, content %s)\n", registered->name.c_str(),
              static_cast<long long>(registered->version), SizeText(registered->size_bytes).c_str(),
              registered->content_digest.substr(0, 12).c_str());
}

void ModelsList(const RegistryOptions& options, int& exit_code) {
  auto workspace = OpenExistingWorkspace(options.workspace, exit_code);
  if (!workspace) return;
  runtime::ModelQuery query;
  query.name = options.name;
  query.framework = options.framework;
  if (!ParsePairs(options.tags, "--tag", query.tags, true, exit_code)) return;
  auto models = workspace->state().ListModelVersions(query);
  if (!models.ok()) return (void)Fail(models.status(), exit_code);
  exit_code = kExitOk;
  json out = json::array();
  for (const ModelVersionRecord& m : models.value()) out.push_back(runtime::ModelJson(m));
  PrintModelRows(out, ListFormat(options.format, options.json_output));
}

// The version a NAME[:VERSION|@latest] argument names; nullopt after printing why.
std::optional<ModelVersionRecord> FindModel(runtime::Workspace& workspace, const std::string& text,
                                            bool version_required, int& exit_code) {
  auto ref = runtime::ParseVersionRef(text, "model");
  if (!ref.ok()) return Fail(ref.status(), exit_code), std::nullopt;
  if (version_required && ref->version == 0) {
    std::fprintf(stderr, "amlc: error: name the version: %s:VERSION\n", ref->name.c_str());
    exit_code = kExitUsage;
    return std::nullopt;
  }
  auto model = runtime::ResolveModel(workspace.state(), ref.value());
  if (!model.ok()) return Fail(model.status(), exit_code), std::nullopt;
  return model.value();
}

void ModelsShow(const RegistryOptions& options, int& exit_code) {
  auto workspace = OpenExistingWorkspace(options.workspace, exit_code);
  if (!workspace) return;
  auto model = FindModel(*workspace, options.reference, false, exit_code);
  if (!model) return;
  json out = runtime::ModelJson(*model);
  json used_by = json::array();
  if (auto images = workspace->state().ListImages("", {}); images.ok()) {
    for (const ImageRecord& image : images.value()) {
      for (const auto& [name, version] : image.models) {
        if (name == model->name && version == model->version) {
          used_by.push_back(image.name + ":" + std::to_string(image.version));
        }
      }
    }
  }
  out["used_by_images"] = used_by;
  exit_code = kExitOk;
  if (options.json_output) {
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  PrintFields(out);
}

void ModelsDownload(const RegistryOptions& options, int& exit_code) {
  auto workspace = OpenExistingWorkspace(options.workspace, exit_code);
  if (!workspace) return;
  auto model = FindModel(*workspace, options.reference, false, exit_code);
  if (!model) return;
  if (Status status = runtime::DownloadModel(*workspace, *model, options.output); !status.ok()) {
    return (void)Fail(status, exit_code);
  }
  exit_code = kExitOk;
  std::printf("wrote %s:%lld to %s\n", model->name.c_str(), static_cast<long long>(model->version),
              options.output.c_str());
}

void ModelsDelete(const RegistryOptions& options, int& exit_code) {
  auto workspace = OpenExistingWorkspace(options.workspace, exit_code);
  if (!workspace) return;
  auto model = FindModel(*workspace, options.reference, true, exit_code);
  if (!model) return;
  if (Status status = workspace->state().DeleteModelVersion(model->name, model->version); !status.ok()) {
    return (void)Fail(status, exit_code);
  }
  exit_code = kExitOk;
  std::printf("deleted %s:%lld (its version number is not reused)\n", model->name.c_str(),
              static_cast<long long>(model->version));
}

void ModelsTag(const RegistryOptions& options, int& exit_code) {
  auto workspace = OpenExistingWorkspace(options.workspace, exit_code);
  if (!workspace) return;
  auto model = FindModel(*workspace, options.reference, false, exit_code);
  if (!model) return;
  std::map<std::string, std::string> set;
  if (!ParsePairs(options.tags, "--add", set, true, exit_code)) return;
  if (Status s = workspace->state().UpdateModelTags(model->name, model->version, set, options.remove_tags); !s.ok()) {
    return (void)Fail(s, exit_code);
  }
  exit_code = kExitOk;
  auto now = workspace->state().GetModelVersion(model->name, model->version);
  std::printf("%s:%lld tags: %s\n", model->name.c_str(), static_cast<long long>(model->version),
              now.ok() && now.value() ? TagsText(now.value()->tags).c_str() : "?");
}

// ---- images ---------------------------------------------------------------

std::optional<ImageRecord> FindImage(runtime::Workspace& workspace, const std::string& text, bool version_required,
                                     int& exit_code) {
  auto ref = runtime::ParseVersionRef(text, "image");
  if (!ref.ok()) return Fail(ref.status(), exit_code), std::nullopt;
  if (version_required && ref->version == 0) {
    std::fprintf(stderr, "amlc: error: name the version: %s:VERSION\n", ref->name.c_str());
    exit_code = kExitUsage;
    return std::nullopt;
  }
  auto image = ref->version ? workspace.state().GetImage(ref->name, ref->version) : workspace.state().LatestImage(ref->name);
  if (!image.ok()) return Fail(image.status(), exit_code), std::nullopt;
  if (!image.value()) {
    Fail(Status(StatusCode::kNotFound, "no image " + ref->ToString() + " in this workspace (amlc images list)"),
         exit_code);
    return std::nullopt;
  }
  return *image.value();
}

void ImagesList(const RegistryOptions& options, int& exit_code) {
  auto workspace = OpenExistingWorkspace(options.workspace, exit_code);
  if (!workspace) return;
  std::map<std::string, std::string> tags;
  if (!ParsePairs(options.tags, "--tag", tags, true, exit_code)) return;
  auto images = workspace->state().ListImages(options.name, tags);
  if (!images.ok()) return (void)Fail(images.status(), exit_code);
  exit_code = kExitOk;
  json out = json::array();
  for (const ImageRecord& image : images.value()) out.push_back(runtime::ImageJson(image));
  PrintImageRows(out, ListFormat(options.format, options.json_output));
}

void ImagesShow(const RegistryOptions& options, int& exit_code) {
  auto workspace = OpenExistingWorkspace(options.workspace, exit_code);
  if (!workspace) return;
  auto image = FindImage(*workspace, options.reference, false, exit_code);
  if (!image) return;
  exit_code = kExitOk;
  if (options.json_output) {
    std::printf("%s\n", runtime::ImageJson(*image).dump(2).c_str());
    return;
  }
  PrintFields(runtime::ImageJson(*image));
}

void ImagesTag(const RegistryOptions& options, int& exit_code) {
  auto workspace = OpenExistingWorkspace(options.workspace, exit_code);
  if (!workspace) return;
  auto image = FindImage(*workspace, options.reference, false, exit_code);
  if (!image) return;
  std::map<std::string, std::string> set;
  if (!ParsePairs(options.tags, "--add", set, true, exit_code)) return;
  if (Status s = workspace->state().UpdateImageTags(image->name, image->version, set, options.remove_tags); !s.ok()) {
    return (void)Fail(s, exit_code);
  }
  exit_code = kExitOk;
  auto now = workspace->state().GetImage(image->name, image->version);
  std::printf("%s:%lld tags: %s\n", image->name.c_str(), static_cast<long long>(image->version),
              now.ok() && now.value() ? TagsText(now.value()->tags).c_str() : "?");
}

void ImagesPush(const RegistryOptions& options, int& exit_code) {
  auto workspace = OpenExistingWorkspace(options.workspace, exit_code);
  if (!workspace) return;
  auto image = FindImage(*workspace, options.reference, false, exit_code);
  if (!image) return;
  auto to = runtime::image::ParseRegistryReference(options.push_to);
  if (!to.ok()) return (void)Fail(to.status(), exit_code);
  runtime::image::RegistryOptions registry = runtime::RegistryOptionsFromEnvironment();
  if (!options.username.empty()) registry.username = options.username;
  if (!options.ca_file.empty()) registry.ca_file = options.ca_file;
  registry.tls_verify = !options.insecure;
  registry.chunk_size = options.chunk_size;
  std::string name = image->name + ":" + std::to_string(image->version);
  ByteLines bytes(stderr, isatty(STDERR_FILENO) == 1, "push " + name + " ");
  if (!options.json_output) registry.on_bytes = [&](const ByteProgress& progress) { bytes.Report(progress); };
  auto pushed = runtime::image::PushImage(image->layout, image->digest, to.value(), registry,
                                          [&](const std::string& line) {
                                            if (!options.json_output) std::fprintf(stderr, "  %s\n", line.c_str());
                                          });
  if (!pushed.ok()) return (void)Fail(pushed.status(), exit_code);
  if (Status s = workspace->state().RecordImagePush(image->name, image->version, options.push_to, image->digest);
      !s.ok()) {
    return (void)Fail(s, exit_code);
  }
  exit_code = kExitOk;
  json out = {{"image", name},
              {"to", to->ToString()},
              {"digest", pushed->manifest_digest},
              {"blobs_uploaded", pushed->blobs_uploaded},
              {"blobs_skipped", pushed->blobs_skipped},
              {"bytes_uploaded", pushed->bytes_uploaded}};
  if (options.json_output) {
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  std::printf("pushed %s:%lld to %s (%s): %d blobs uploaded (%s), %d already there\n", image->name.c_str(),
              static_cast<long long>(image->version), to->ToString().c_str(), pushed->manifest_digest.c_str(),
              pushed->blobs_uploaded, SizeText(pushed->bytes_uploaded).c_str(), pushed->blobs_skipped);
}

void ImagesDelete(const RegistryOptions& options, int& exit_code) {
  auto workspace = OpenExistingWorkspace(options.workspace, exit_code);
  if (!workspace) return;
  auto image = FindImage(*workspace, options.reference, true, exit_code);
  if (!image) return;
  if (Status s = runtime::DeleteImageVersion(*workspace, *image); !s.ok()) return (void)Fail(s, exit_code);
  exit_code = kExitOk;
  std::printf("deleted %s:%lld\n", image->name.c_str(), static_cast<long long>(image->version));
}

// Every subcommand binds its options into one RegistryOptions shared by all of
// them: CLI11 runs only the chosen subcommand's callback, so they never clash.
using SharedOptions = std::shared_ptr<RegistryOptions>;

void AddCommonOptions(CLI::App* command, RegistryOptions& options) {
  command->add_option("--workspace", options.workspace, "Workspace home (default: $AMLC_WORKSPACE, else ./.amlc)");
  command->add_flag("--json", options.json_output, "Print JSON");
}

void AddTagEditOptions(CLI::App* command, RegistryOptions& options) {
  command->add_option("--add", options.tags, "Set a tag KEY=VALUE (repeatable)");
  command->add_option("--remove", options.remove_tags, "Remove a tag KEY (repeatable)");
}

void AddModelsCommands(CLI::App& app, const SharedOptions& options, int& exit_code) {
  CLI::App* models = app.add_subcommand("models", "The model registry: register, list, show, download, delete, tag");
  models->require_subcommand(1);
  CLI::App* reg = models->add_subcommand("register", "Register a file or folder as the next version of a model");
  AddCommonOptions(reg, *options);
  reg->add_option("--name", options->name, "Model name")->required();
  reg->add_option("--path", options->path, "The model file or folder")->required();
  reg->add_option("--tag", options->tags, "A tag KEY=VALUE (repeatable)");
  reg->add_option("--property", options->properties, "A property KEY=VALUE (repeatable)");
  reg->add_option("--framework", options->framework, "The framework (scikit-learn, pytorch, ...)");
  reg->add_option("--description", options->description, "What it is");
  reg->add_option("--type", options->type, "custom_model, mlflow_model or triton_model")->capture_default_str();
  reg->callback([options, &exit_code] { ModelsRegister(*options, exit_code); });

  CLI::App* list = models->add_subcommand("list", "Model versions, by name, newest first");
  AddCommonOptions(list, *options);
  list->add_option("--name", options->name, "Only this model's versions");
  list->add_option("--tag", options->tags, "Only versions with this tag KEY=VALUE, or KEY (repeatable: all must match)");
  list->add_option("--framework", options->framework, "Only this framework");
  AddListFormatOption(list, options->format);
  list->callback([options, &exit_code] { ModelsList(*options, exit_code); });

  CLI::App* show = models->add_subcommand("show", "A model version: metadata, lineage, images using it");
  AddCommonOptions(show, *options);
  show->add_option("model", options->reference, "NAME[:VERSION|@latest]")->required();
  show->callback([options, &exit_code] { ModelsShow(*options, exit_code); });

  CLI::App* download = models->add_subcommand("download", "Write a model version's files to a folder");
  AddCommonOptions(download, *options);
  download->add_option("model", options->reference, "NAME[:VERSION|@latest]")->required();
  download->add_option("-o,--output", options->output, "Folder to write (created)")->required();
  download->callback([options, &exit_code] { ModelsDownload(*options, exit_code); });

  CLI::App* del = models->add_subcommand("delete", "Delete a model version (refused while an image packages it)");
  AddCommonOptions(del, *options);
  del->add_option("model", options->reference, "NAME:VERSION")->required();
  del->callback([options, &exit_code] { ModelsDelete(*options, exit_code); });

  CLI::App* tag = models->add_subcommand("tag", "Add or remove tags of a model version");
  AddCommonOptions(tag, *options);
  tag->add_option("model", options->reference, "NAME[:VERSION|@latest]")->required();
  AddTagEditOptions(tag, *options);
  tag->callback([options, &exit_code] { ModelsTag(*options, exit_code); });
}

void AddImagesCommands(CLI::App& app, const SharedOptions& options, int& exit_code) {
  CLI::App* images = app.add_subcommand("images", "The image registry: list, show, tag, push, delete");
  images->require_subcommand(1);
  CLI::App* ilist = images->add_subcommand("list", "Built images, newest first");
  AddCommonOptions(ilist, *options);
  ilist->add_option("--name", options->name, "Only this image's versions");
  ilist->add_option("--tag", options->tags, "Only images with this tag KEY=VALUE, or KEY (repeatable)");
  AddListFormatOption(ilist, options->format);
  ilist->callback([options, &exit_code] { ImagesList(*options, exit_code); });

  CLI::App* ishow = images->add_subcommand("show", "An image: digest, models, environment, where it was pushed");
  AddCommonOptions(ishow, *options);
  ishow->add_option("image", options->reference, "NAME[:VERSION|@latest]")->required();
  ishow->callback([options, &exit_code] { ImagesShow(*options, exit_code); });

  CLI::App* itag = images->add_subcommand("tag", "Add or remove tags of an image");
  AddCommonOptions(itag, *options);
  itag->add_option("image", options->reference, "NAME[:VERSION|@latest]")->required();
  AddTagEditOptions(itag, *options);
  itag->callback([options, &exit_code] { ImagesTag(*options, exit_code); });

  CLI::App* push = images->add_subcommand("push", "Push an image to an OCI registry (blobs it has are not sent)");
  AddCommonOptions(push, *options);
  push->add_option("image", options->reference, "NAME[:VERSION|@latest]")->required();
  push->add_option("--to", options->push_to, "REGISTRY/REPO:TAG, e.g. 127.0.0.1:5000/team/iris:1")->required();
  push->add_option("--username", options->username,
                   "Registry user (default: $AMLC_REGISTRY_USERNAME; the password comes from $AMLC_REGISTRY_PASSWORD)");
  push->add_option("--ca-file", options->ca_file, "CA bundle that signed the registry's certificate");
  push->add_flag("--insecure", options->insecure, "Do not verify the registry's TLS certificate");
  push->add_option("--chunk-size", options->chunk_size, "Upload blobs in chunks of this many bytes (0: whole)");
  push->callback([options, &exit_code] { ImagesPush(*options, exit_code); });

  CLI::App* idel = images->add_subcommand("delete", "Delete an image version and the layers only it used");
  AddCommonOptions(idel, *options);
  idel->add_option("image", options->reference, "NAME:VERSION")->required();
  idel->callback([options, &exit_code] { ImagesDelete(*options, exit_code); });
}

}  // namespace

void AddRegistryCommands(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<RegistryOptions>();
  AddModelsCommands(app, options, exit_code);
  AddImagesCommands(app, options, exit_code);
}

}  // namespace amlc::cli
