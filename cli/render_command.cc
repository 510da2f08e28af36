// `amlc render`: the specs' deployments as files for targets amlc does not
// run itself. Compiles the specs, resolves each deployment's image against
// the workspace's image registry (pinned by digest), renders with
// runtime/deploy and writes the files, each atomically. Nothing is written
// unless every deployment resolves.
#include "cli/render_command.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/output.h"
#include "compiler/compile.h"
#include "runtime/deploy/iot_manifest.h"
#include "runtime/deploy/kubernetes_jobs.h"
#include "runtime/deploy/kubernetes_manifests.h"
#include "runtime/artifacts/snapshot/file_io.h"
#include "runtime/workspace/workspace.h"

namespace amlc::cli {

namespace {

using json = nlohmann::ordered_json;
using compiler::ir::Resource;
namespace deploy = runtime::deploy;

struct RenderOptions {
  std::string dir = ".";
  std::string target;
  std::string out;
  std::string workspace;
  bool json = false;
  bool with_secrets = false;
};

// One deployment, resolved.
struct Resolved {
  const Resource* deployment = nullptr;
  const Resource* endpoint = nullptr;
  deploy::PinnedImage image;
  std::optional<deploy::DeploymentKeys> keys;
};

// Prints why nothing was rendered (on stdout as JSON with --json) and sets
// the exit status.
void Fail(const RenderOptions& options, const std::vector<std::string>& errors, int& exit_code) {
  exit_code = kExitSpecErrors;
  if (options.json) {
    std::printf("%s\n", json{{"ok", false}, {"valid", true}, {"errors", errors}}.dump().c_str());
    return;
  }
  for (const std::string& error : errors) std::fprintf(stderr, "amlc: error: %s\n", error.c_str());
  std::fprintf(stderr, "amlc: nothing written to '%s'\n", options.out.c_str());
}

// The compiled specs; null (with the diagnostics printed and the exit status
// set) when they have errors or cannot be read.
std::unique_ptr<compiler::Compilation> CompileSpecs(const RenderOptions& options, int& exit_code) {
  auto tree = compiler::DiskSourceTree::Open(options.dir);
  if (!tree.ok()) {
    std::fprintf(stderr, "amlc: error: %s\n", tree.status().message().c_str());
    exit_code = kExitUsage;
    return nullptr;
  }
  auto compilation = compiler::Compile(tree.value());
  if (!compilation->diagnostics.has_errors()) {
    if (!options.json) std::fputs(compiler::DiagnosticsText(*compilation, UseColor()).c_str(), stderr);
    return compilation;
  }
  exit_code = kExitSpecErrors;
  if (options.json) {
    std::printf("{\"ok\":false,\"valid\":false,\"diagnostics\":%s}\n", DiagnosticsJson(*compilation).c_str());
  } else {
    std::fputs(compiler::DiagnosticsText(*compilation, UseColor()).c_str(), stderr);
    std::fprintf(stderr, "%s: %s; nothing rendered\n", options.dir.c_str(),
                 compiler::SummarizeCounts(compilation->diagnostics.error_count(),
                                           compilation->diagnostics.warning_count())
                     .c_str());
  }
  return nullptr;
}

std::string WorkspaceRegistry(const compiler::ir::Graph& graph) {
  for (const Resource& r : graph.resources()) {
    if (r.kind == "workspace" && !r.spec.StringAt("image_registry").empty()) return r.spec.StringAt("image_registry");
  }
  return "";
}

// The deployments of the target's type, by name.
std::vector<Resolved> Deployments(const compiler::ir::Graph& graph, const std::string& type) {
  std::vector<Resolved> found;
  for (const Resource& r : graph.resources()) {
    if (r.kind != "deployment" || (r.type.empty() ? "web_service" : r.type) != type) continue;
    Resolved resolved;
    resolved.deployment = &r;
    std::string endpoint = deploy::EndpointNameOf(r);
    const compiler::ir::Value* ref = r.spec.Find("endpoint_name");
    if (!endpoint.empty() && ref && ref->is_ref() && !ref->as_ref().external) {
      if (auto index = graph.Find(ref->as_ref().target)) resolved.endpoint = &graph.resource(*index);
    }
    found.push_back(resolved);
  }
  std::sort(found.begin(), found.end(),
            [](const Resolved& a, const Resolved& b) { return a.deployment->name < b.deployment->name; });
  return found;
}

// The environment's image of a job ("" when it names none).
std::string ImageOf(const compiler::ir::Graph& graph, const compiler::ir::Value& spec) {
  const compiler::ir::Value* env = spec.Find("environment");
  if (env && env->is_map()) return env->StringAt("image");
  if (!env || !env->is_ref()) return "";
  auto index = graph.Find(env->as_ref().target);
  return index ? graph.resource(*index).spec.StringAt("image") : "";
}

// A code folder's files (hidden ones and __pycache__ left out), sorted by path.
std::vector<std::pair<std::string, std::string>> CodeFiles(const std::string& folder) {
  std::vector<std::pair<std::string, std::string>> files;
  std::error_code error;
  auto it = std::filesystem::recursive_directory_iterator(folder, error);
  for (; !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
    std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.' || name == "__pycache__") {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file()) continue;
    std::ifstream in(it->path(), std::ios::binary);
    files.emplace_back(std::filesystem::relative(it->path(), folder).generic_string(),
                       std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The command jobs whose compute is of type kubernetes, by name.
std::vector<deploy::TrainingJobInput> KubernetesJobs(const compiler::ir::Graph& graph, const std::string& dir) {
  std::vector<deploy::TrainingJobInput> jobs;
  std::string root = std::filesystem::is_directory(dir) ? dir : std::filesystem::path(dir).parent_path().string();
  for (const Resource& r : graph.resources()) {
    if (r.kind != "job" || r.type != "command" || !r.parent.empty() || !r.effective) continue;
    const compiler::ir::Value* ref = r.effective->fields.Find("compute");
    auto index = ref && ref->is_ref() ? graph.Find(ref->as_ref().target) : std::nullopt;
    if (!index || graph.resource(*index).type != "kubernetes") continue;
    deploy::TrainingJobInput job;
    job.job = &r;
    job.namespace_name = graph.resource(*index).spec.StringAt("namespace");
    job.image = ImageOf(graph, r.effective->fields);
    if (std::string code = r.effective->fields.StringAt("code"); !code.empty()) {
      job.code_files = CodeFiles((std::filesystem::path(root) / code).string());
    }
    jobs.push_back(std::move(job));
  }
  std::sort(jobs.begin(), jobs.end(), [](const auto& a, const auto& b) { return a.job->name < b.job->name; });
  return jobs;
}

// A web service's keys: the workspace's, else fresh ones with --with-secrets,
// else none (and a note). Endpoints that take tokens need none.
Status ResolveKeys(const RenderOptions& options, const std::string& home, Resolved& resolved,
                   std::vector<std::string>& notes) {
  if (resolved.endpoint && resolved.endpoint->spec.StringAt("auth_mode") != "key") return Status::Ok();
  std::string endpoint = deploy::EndpointNameOf(*resolved.deployment);
  if (endpoint.empty()) {
    notes.push_back("deployment '" + resolved.deployment->name + "' names no endpoint_name: no Secret written");
    return Status::Ok();
  }
  std::string path = deploy::DeploymentKeysPath(home, endpoint, resolved.deployment->name);
  auto keys = deploy::ReadDeploymentKeys(path);
  if (!keys.ok()) return keys.status();
  if (keys.value()) {
    resolved.keys = *keys.value();
  } else if (options.with_secrets) {
    auto fresh = deploy::GenerateDeploymentKeys();
    if (!fresh.ok()) return fresh.status();
    resolved.keys = fresh.value();
  } else {
    notes.push_back("deployment '" + resolved.deployment->name + "': no Secret written: the workspace has no keys for it (" +
                    path + "); pass --with-secrets to generate keys");
  }
  return Status::Ok();
}

Status WriteFiles(const std::string& out, const std::vector<deploy::RenderedFile>& files) {
  for (const deploy::RenderedFile& file : files) {
    std::string path = (std::filesystem::path(out) / file.path).string();
    Status status = runtime::snapshot::WriteFileAtomically(
        path, file.secret ? 0600 : 0644,
        [&](int fd) { return runtime::snapshot::WriteAll(fd, file.contents, path); });
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

json ImageJson(const deploy::PinnedImage& image) {
  return {{"name", image.name},     {"version", image.version},      {"digest", image.digest},
          {"reference", image.reference}, {"registry", image.registry}, {"pushed", image.pushed}};
}

void PrintResult(const RenderOptions& options, const std::vector<Resolved>& deployments,
                 const std::vector<deploy::TrainingJobInput>& jobs, const deploy::RenderResult& result) {
  bool kubernetes = options.target == "kubernetes";
  if (options.json) {
    json items = json::array();
    for (const Resolved& r : deployments) {
      json item = {{"deployment", r.deployment->name}};
      if (kubernetes) {
        item["endpoint"] = deploy::EndpointNameOf(*r.deployment);
        item["secret"] = r.keys.has_value();
      } else {
        item["module"] = deploy::IotModuleName(*r.deployment);
        item["device_id"] = deploy::IotDeviceId(*r.deployment);
      }
      item["image"] = ImageJson(r.image);
      items.push_back(item);
    }
    json files = json::array();
    for (const deploy::RenderedFile& f : result.files) {
      files.push_back({{"path", f.path}, {"kind", f.kind}, {"deployment", f.deployment}});
    }
    json job_names = json::array();
    for (const deploy::TrainingJobInput& job : jobs) job_names.push_back(job.job->name);
    json out = {{"ok", true},          {"target", options.target}, {"output", options.out},
                {"deployments", items}, {"jobs", job_names},        {"files", files},
                {"notes", result.notes}};
    std::printf("%s\n", out.dump().c_str());
    return;
  }
  size_t width = 0;
  for (const deploy::RenderedFile& f : result.files) width = std::max(width, f.path.size());
  std::printf("Rendered %zu deployment%s and %zu job%s for %s into %s:\n", deployments.size(),
              deployments.size() == 1 ? "" : "s", jobs.size(), jobs.size() == 1 ? "" : "s", options.target.c_str(),
              options.out.c_str());
  for (const deploy::RenderedFile& f : result.files) {
    std::printf("  %-*s  %s%s\n", static_cast<int>(width), f.path.c_str(), f.kind.c_str(),
                f.deployment.empty() ? "" : (" (" + f.deployment + ")").c_str());
  }
  for (const Resolved& r : deployments) {
    std::printf("  %s: image %s:%lld %s\n", r.deployment->name.c_str(), r.image.name.c_str(),
                static_cast<long long>(r.image.version), r.image.reference.c_str());
  }
  for (const std::string& note : result.notes) std::printf("note: %s\n", note.c_str());
  if (kubernetes) {
    std::printf("Apply them with: kubectl apply -k %s\n", options.out.c_str());
  } else {
    std::printf("Set a device's modules with: az iot edge set-modules --hub-name HUB --device-id DEVICE "
                "--content FILE (fill in the registry credentials first; see %s/README.md)\n",
                options.out.c_str());
  }
}

// Why `out` cannot take the files, or "": the compiler reads every YAML
// file under the specs folder except hidden ones, so manifests written there
// would be read back as (broken) specs by the next command.
std::string OutputInsideSpecs(const RenderOptions& options) {
  std::error_code error;
  if (!std::filesystem::is_directory(options.dir, error)) return "";
  std::filesystem::path specs = std::filesystem::weakly_canonical(std::filesystem::absolute(options.dir), error);
  std::filesystem::path out = std::filesystem::weakly_canonical(std::filesystem::absolute(options.out), error);
  if (error) return "";
  std::filesystem::path inside = out.lexically_relative(specs);
  if (inside.empty() || *inside.begin() == "..") return "";
  for (const auto& part : inside) {
    if (!part.empty() && part.string()[0] == '.' && part != ".") return "";
  }
  return "the output folder '" + options.out + "' is inside the specs folder '" + options.dir +
         "', where amlc would read the manifests as specs; write them outside it, or into a hidden folder "
         "(" + (std::filesystem::path(options.dir) / ".rendered").string() + ")";
}

void RunRender(const RenderOptions& options, int& exit_code) {
  if (std::string why = OutputInsideSpecs(options); !why.empty()) {
    Fail(options, {why}, exit_code);
    exit_code = kExitUsage;
    return;
  }
  auto compilation = CompileSpecs(options, exit_code);
  if (!compilation) return;
  bool kubernetes = options.target == "kubernetes";
  std::string type = kubernetes ? "web_service" : "iot_module";
  std::vector<Resolved> deployments = Deployments(compilation->graph, type);
  std::vector<deploy::TrainingJobInput> jobs;
  if (kubernetes) jobs = KubernetesJobs(compilation->graph, options.dir);
  if (deployments.empty() && jobs.empty()) {
    return Fail(options, {options.dir + " declares no deployment of type " + type +
                          (kubernetes ? " and no job on a kubernetes compute" : "") + " to render for " + options.target},
                exit_code);
  }
  std::string home = runtime::DefaultWorkspaceHome(options.dir, options.workspace);
  std::unique_ptr<runtime::Workspace> workspace;
  if (std::filesystem::exists(home + "/state.db")) {
    auto opened = runtime::Workspace::Open(home);
    if (!opened.ok()) return Fail(options, {opened.status().message()}, exit_code);
    workspace = std::move(opened.value());
  }
  std::string registry = WorkspaceRegistry(compilation->graph);
  std::vector<std::string> errors;
  std::vector<std::string> notes;
  for (Resolved& r : deployments) {
    auto image = deploy::ResolveDeploymentImage(*r.deployment, workspace ? &workspace->state() : nullptr, home, registry);
    if (!image.ok()) {
      errors.push_back(image.status().message());
      continue;
    }
    r.image = image.value();
    if (!kubernetes) continue;
    if (Status s = ResolveKeys(options, home, r, notes); !s.ok()) errors.push_back(s.message());
  }
  if (!errors.empty()) return Fail(options, errors, exit_code);

  StatusOr<deploy::RenderResult> result = deploy::RenderResult{};
  if (kubernetes) {
    std::vector<deploy::WebServiceInput> inputs;
    for (const Resolved& r : deployments) inputs.push_back({r.deployment, r.endpoint, r.image, r.keys});
    result = deploy::RenderKubernetes(inputs, jobs);
  } else {
    std::vector<deploy::IotModuleInput> inputs;
    for (const Resolved& r : deployments) inputs.push_back({r.deployment, r.image});
    result = deploy::RenderIotEdge(inputs);
  }
  if (!result.ok()) return Fail(options, {result.status().message()}, exit_code);
  result->notes.insert(result->notes.begin(), notes.begin(), notes.end());
  if (Status s = WriteFiles(options.out, result->files); !s.ok()) return Fail(options, {s.message()}, exit_code);
  exit_code = kExitOk;
  PrintResult(options, deployments, jobs, result.value());
}

}  // namespace

void AddRenderCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<RenderOptions>();
  CLI::App* render = app.add_subcommand(
      "render", "Write the deployments of the specs in DIR as Kubernetes or IoT Edge manifests");
  render->add_option("dir", options->dir, "Folder (or single file) of specs")->capture_default_str();
  render->add_option("--target", options->target,
                     "kubernetes: web_service deployments as Deployment, Service, HPA and Secret; "
                     "iot-edge: iot_module deployments as IoT Edge deployment manifests")
      ->required()
      ->check(CLI::IsMember({"kubernetes", "iot-edge"}));
  render->add_option("-o,--output", options->out, "Folder to write the files into (created)")->required();
  render->add_option("--workspace", options->workspace,
                     "Workspace home whose image registry resolves the images (default: $AMLC_WORKSPACE, "
                     "else DIR/.amlc)");
  render->add_flag("--with-secrets", options->with_secrets,
                   "Write a Secret with freshly generated keys for deployments the workspace has no keys for");
  render->add_flag("--json", options->json, "Print what was written as JSON on stdout");
  render->footer(
      "Images are resolved in the workspace's image registry and pinned by digest: build and push them "
      "first (amlc apply, amlc images push).\nExit status: 0 written, 1 spec errors or unresolved images "
      "(nothing written), 2 usage errors.");
  render->callback([options, &exit_code] { RunRender(*options, exit_code); });
}

}  // namespace amlc::cli
