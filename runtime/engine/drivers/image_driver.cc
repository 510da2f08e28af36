// Images are planned like models: an image's key is the digest of
// everything it packages (ImageKeyParts); an image built from that key
// makes it up to date. A new image is pushed where its spec (push_to) or the
// workspace (image_registry) says, once.
#include <nlohmann/json.hpp>

#include "runtime/artifacts/oci/registry_client.h"
#include "runtime/artifacts/registry/model_registry.h"
#include "runtime/engine/drivers/drivers.h"
#include "runtime/workspace/python_module.h"

namespace amlc::runtime {

using compiler::ir::Resource;
using compiler::ir::Value;
using compiler::planner::Action;
using compiler::planner::ActionType;
using compiler::planner::Observation;

namespace {

class ImageDriver : public Driver {
 public:
  explicit ImageDriver(EngineContext& context) : context_(context) {}

  std::optional<std::string> Unsupported(const Resource& image) override {
    if (image.spec.StringAt("kind") != "fpga") return std::nullopt;
    return "FPGA images are not supported by the available targets: amlc builds OCI images for CPU hosts, "
           "and no FPGA-enabled host is attached";
  }
  StatusOr<Observation> Observe(const Resource& image, const std::map<std::string, std::string>& upstream) override;
  StatusOr<std::string> Apply(const Action& action, const Resource& image, const Progress& progress) override;
  /// With purge: deletes the images the removed resource built, and their blobs.
  Status Delete(const Action& action, bool purge) override;
  std::string History(const std::string& resource_id) override;

 private:
  Status PushIfWanted(const Resource& image, const ImageRecord& built, const Progress& progress);

  EngineContext& context_;
};

StatusOr<Observation> ImageDriver::Observe(const Resource& image, const std::map<std::string, std::string>&) {
  Observation seen;
  auto inputs = ImageInputsOf(context_, image);
  if (!inputs.ok()) {
    if (inputs.status().code() != StatusCode::kFailedPrecondition) return inputs.status();
    seen.held_back = inputs.status().message();
    return seen;
  }
  auto parts = ImageKeyParts(context_.workspace(), inputs.value());
  if (!parts.ok()) return parts.status();
  seen.key = ImageBuildKey(parts.value());
  auto found = context_.state().FindImageByBuildKey(image.name, seen.key);
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

StatusOr<std::string> ImageDriver::Apply(const Action& action, const Resource& image, const Progress& progress) {
  auto seen = Observe(image, {});
  if (!seen.ok()) return seen.status();
  if (!seen->held_back.empty()) return "held back: " + seen->held_back;
  auto inputs = ImageInputsOf(context_, image);
  if (!inputs.ok()) return inputs.status();
  ImageRecord built;
  std::string message;
  if (!seen->current.empty()) {
    int64_t version = std::stoll(seen->current.substr(seen->current.rfind(':') + 1));
    auto existing = context_.state().GetImage(image.name, version);
    if (!existing.ok() || !existing.value()) return Status(StatusCode::kInternal, "cannot read image " + seen->current);
    built = *existing.value();
    if (Status s = context_.state().UpdateImageTags(image.name, version, inputs->tags, {}); !s.ok()) return s;
    message = action.type == ActionType::kUpdate ? "updated " + seen->current
                                                 : "up to date after all: " + seen->current;
  } else {
    progress("building " + image.name);
    auto recorded = BuildAndRecordImage(context_.workspace(), inputs.value(), progress);
    if (!recorded.ok()) return recorded.status();
    built = recorded.value();
    message = "built " + image.name + ":" + std::to_string(built.version) + " " + built.digest.substr(0, 19);
  }
  nlohmann::json outputs{{"version", built.version}, {"digest", built.digest}};
  if (Status s = context_.RecordApplied(image, outputs.dump()); !s.ok()) return s;
  if (Status s = PushIfWanted(image, built, progress); !s.ok()) {
    return Status(s.code(), message + "; push failed: " + s.message());
  }
  return message;
}

Status ImageDriver::PushIfWanted(const Resource& image, const ImageRecord& built, const Progress& progress) {
  std::string to = image.spec.StringAt("push_to");
  if (to.empty()) {
    for (const Resource& r : context_.graph().resources()) {
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
  std::string layout = built.layout.empty() ? ImageLayoutDir(context_.workspace()) : built.layout;
  image::RegistryOptions options = RegistryOptionsFromEnvironment();
  options.on_bytes = progress.bytes();
  auto result = image::PushImage(layout, built.digest, reference.value(), options, progress);
  if (!result.ok()) return result.status();
  return context_.state().RecordImagePush(built.name, built.version, to, built.digest);
}

Status ImageDriver::Delete(const Action& action, bool purge) {
  if (!purge) return Status::Ok();
  auto images = context_.state().ListImages(NameOf(action.resource_id), {});
  if (!images.ok()) return images.status();
  for (const ImageRecord& image : images.value()) {
    if (image.resource_id != action.resource_id) continue;
    if (Status s = DeleteImageVersion(context_.workspace(), image); !s.ok()) return s;
  }
  return Status::Ok();
}

std::string ImageDriver::History(const std::string& resource_id) {
  auto images = context_.state().ListImages(NameOf(resource_id), {});
  if (!images.ok()) return "";
  std::string listed;
  int count = 0;
  for (const ImageRecord& image : images.value()) {
    if (image.resource_id != resource_id) continue;
    listed += (listed.empty() ? "" : ", ") + image.name + ":" + std::to_string(image.version);
    ++count;
  }
  if (count == 0) return "";
  return (count == 1 ? "image version " : "image versions ") + listed;
}

}  // namespace

std::unique_ptr<Driver> MakeImageDriver(EngineContext& context) { return std::make_unique<ImageDriver>(context); }

StatusOr<ImageInputs> ImageInputsOf(EngineContext& context, const Resource& image) {
  ImageInputs inputs;
  inputs.name = image.name;
  inputs.resource_id = image.id();
  if (std::string kind = image.spec.StringAt("kind"); !kind.empty()) inputs.kind = kind;
  if (const Value* models = image.spec.Find("models"); models && models->is_list()) {
    for (const Value& item : models->items()) {
      std::string target = item.is_ref() ? NameOf(item.as_ref().target) : item.is_string() ? item.as_string() : "";
      auto ref = ParseVersionRef(target, "model reference");
      if (!ref.ok()) return ref.status();
      auto model = ResolveModel(context.state(), ref.value());
      if (!model.ok() && item.is_ref() && !item.as_ref().external && model.status().code() == StatusCode::kNotFound) {
        return Status(StatusCode::kFailedPrecondition, "model " + ref->name + " has no registered version yet");
      }
      if (!model.ok()) return model.status();
      inputs.models.push_back(model.value());
    }
  }
  const Value* code = image.spec.Find("code_configuration");
  inputs.code_dir = context.LocalPath(code ? code->StringAt("code") : ".");
  inputs.scoring_script = code ? code->StringAt("scoring_script") : "";
  if (!code && inputs.models.size() == 1 && inputs.models[0].type == "mlflow_model") {
    // No-code deployment, as Azure ML does it: amlc's scoring script loads the MLflow model format.
    inputs.code_dir = PythonModuleDir() + "/amlc/nocode";
    inputs.scoring_script = "mlflow_score.py";
  }
  if (const Value* env = image.spec.Find("environment"); env && env->is_ref()) {
    inputs.environment_id = env->as_ref().target;
    if (const Resource* target = context.Find(inputs.environment_id)) {
      inputs.environment_json = target->spec.ToJson();
      for (const char* field : {"conda_file", "pip_requirements"}) {
        if (const Value* file = target->spec.Find(field); file && file->is_string()) {
          inputs.environment_files.push_back(context.LocalPath(file->as_string()));
        }
      }
    }
  } else if (env) {
    inputs.environment_json = env->ToJson();
  }
  inputs.base_image = image.spec.StringAt("base_image");
  if (inputs.base_image.rfind("oci:", 0) == 0 && inputs.base_image.size() > 4 && inputs.base_image[4] != '/') {
    inputs.base_image = "oci:" + context.LocalPath(inputs.base_image.substr(4));
  }
  inputs.tags = StringMap(image.spec.Find("tags"));
  return inputs;
}

}  // namespace amlc::runtime
