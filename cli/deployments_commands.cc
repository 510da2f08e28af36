// Deployments on the local target from the command line: what apply recorded
// joined with what each endpoint's host reports (status.json, events, logs).
#include "cli/deployments_commands.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/list_output.h"
#include "cli/output.h"
#include "cli/workspace_access.h"
#include "runtime/deploy/deployment_actions.h"
#include "runtime/deploy/local_endpoints.h"
#include "runtime/views/record_json.h"

namespace amlc::cli {

void PrintDeploymentRows(const nlohmann::json& rows, const std::string& format) {
  if (format != "table") {
    return PrintList(rows, {{"NAME", "name"}, {"ENDPOINT", "endpoint"}, {"IMAGE", "image"}, {"STATE", "state"},
                            {"READY", "ready_replicas"}, {"DESIRED", "desired_replicas"},
                            {"SCORING URI", "scoring_uri"}}, format);
  }
  std::printf("%-16s %-14s %-22s %-10s %8s  %s\n", "NAME", "ENDPOINT", "IMAGE", "STATE", "READY", "SCORING URI");
  for (const nlohmann::json& d : rows) {
    std::string ready = std::to_string(d["ready_replicas"].get<int>()) + "/" + std::to_string(d["desired_replicas"].get<int>());
    std::printf("%-16s %-14s %-22s %-10s %8s  %s\n", d["name"].get<std::string>().c_str(),
                d["endpoint"].get<std::string>().c_str(), d["image"].get<std::string>().c_str(),
                d["state"].get<std::string>().c_str(), ready.c_str(), d["scoring_uri"].get<std::string>().c_str());
  }
}

void PrintDeployment(const nlohmann::json& out, bool json_output) {
  if (json_output) {
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  for (auto& [key, value] : out.items()) {
    if (key == "events" || key == "replicas") continue;
    std::printf("%-16s %s\n", (key + ":").c_str(), value.is_string() ? value.get<std::string>().c_str() : value.dump().c_str());
  }
  std::printf("replicas:\n");
  for (const nlohmann::json& r : out.value("replicas", nlohmann::json::array())) std::printf("  %s\n", r.dump().c_str());
  std::printf("events:\n");
  for (const nlohmann::json& e : out.value("events", nlohmann::json::array())) std::printf("  %s\n", e.dump().c_str());
}

void PrintKeys(const nlohmann::json& keys, bool json_output) {
  if (json_output) {
    std::printf("%s\n", keys.dump(2).c_str());
    return;
  }
  std::printf("primary:   %s\nsecondary: %s\n", keys.value("primary", "").c_str(), keys.value("secondary", "").c_str());
}

void PrintTelemetryRows(const nlohmann::json& records, const std::string& format) {
  if (format != "table") {
    return PrintList(records, {{"TIME", "time"}, {"REQUEST", "request_id"}, {"STATUS", "status"},
                               {"LATENCY", "latency_ms"}}, format);
  }
  std::printf("%-19s  %-36s %6s %10s  %s\n", "TIME", "REQUEST", "STATUS", "LATENCY", "BODY (sampled)");
  for (const nlohmann::json& r : records) {
    std::string body = r.contains("request_body") ? r["request_body"].dump() : "";
    std::printf("%-19s  %-36s %6d %8.1fms  %s\n", FormatTime(r.value("time", int64_t{0})).c_str(),
                r.value("request_id", "").c_str(), r.value("status", 0), r.value("latency_ms", 0.0), body.c_str());
  }
}

void PrintDeploymentDeleted(const std::string& name) {
  std::printf("deleted deployment %s (its replicas are stopped; the next apply of its spec brings it back)\n",
              name.c_str());
}

namespace {

using json = nlohmann::json;

struct DeploymentsOptions {
  std::string workspace;
  bool json_output = false;
  std::string format = "table";  // -o of list and telemetry
  std::string name;
  std::string regenerate;
  int limit = 20;
};

// The deployment named `name` (its `deployments show` JSON), or a usage error.
std::optional<json> FindDeployment(runtime::Workspace& workspace, const std::string& name, int limit, int& exit_code) {
  std::optional<json> found = runtime::DeploymentJson(workspace, name, limit);
  if (!found) {
    std::fprintf(stderr, "amlc: error: no deployment '%s' in this workspace (amlc deployments list)\n", name.c_str());
    exit_code = kExitUsage;
  }
  return found;
}

// The deployment named `name`, for the commands that act on it, or a usage error.
std::optional<runtime::DeploymentRef> FindRef(runtime::Workspace& workspace, const std::string& name, int& exit_code) {
  auto found = runtime::FindDeployment(workspace, name);
  if (!found.ok()) {
    std::fprintf(stderr, "amlc: error: %s\n", found.status().message().c_str());
    exit_code = kExitUsage;
    return std::nullopt;
  }
  return *found;
}

void List(const DeploymentsOptions& options, int& exit_code) {
  auto workspace = OpenExistingWorkspace(options.workspace, exit_code);
  if (!workspace) return;
  exit_code = kExitOk;
  PrintDeploymentRows(runtime::DeploymentsJson(*workspace), ListFormat(options.format, options.json_output));
}

void Show(const DeploymentsOptions& options, int& exit_code) {
  auto workspace = OpenExistingWorkspace(options.workspace, exit_code);
  if (!workspace) return;
  std::optional<json> found = FindDeployment(*workspace, options.name, options.limit, exit_code);
  if (!found) return;
  exit_code = kExitOk;
  PrintDeployment(*found, options.json_output);
}

void Logs(const DeploymentsOptions& options, int& exit_code) {
  auto workspace = OpenExistingWorkspace(options.workspace, exit_code);
  if (!workspace) return;
  auto view = FindRef(*workspace, options.name, exit_code);
  if (!view) return;
  exit_code = kExitOk;
  std::fputs(runtime::DeploymentLogs(*workspace, *view).c_str(), stdout);
}

void Delete(const DeploymentsOptions& options, int& exit_code) {
  auto workspace = OpenExistingWorkspace(options.workspace, exit_code);
  if (!workspace) return;
  auto view = FindRef(*workspace, options.name, exit_code);
  if (!view) return;
  if (Status deleted = runtime::DeleteDeployment(*workspace, *view); !deleted.ok()) {
    std::fprintf(stderr, "amlc: error: %s\n", deleted.message().c_str());
    exit_code = kExitSpecErrors;
    return;
  }
  exit_code = kExitOk;
  PrintDeploymentDeleted(view->name);
}

void Keys(const DeploymentsOptions& options, int& exit_code) {
  auto workspace = OpenExistingWorkspace(options.workspace, exit_code);
  if (!workspace) return;
  auto view = FindRef(*workspace, options.name, exit_code);
  if (!view) return;
  auto keys = options.regenerate.empty()
                  ? runtime::EnsureDeploymentKeys(*workspace, view->endpoint, view->name)
                  : runtime::RegenerateDeploymentKey(*workspace, view->endpoint, view->name, options.regenerate);
  if (!keys.ok()) {
    std::fprintf(stderr, "amlc: error: %s\n", keys.status().message().c_str());
    exit_code = kExitUsage;
    return;
  }
  exit_code = kExitOk;
  PrintKeys(json{{"primary", keys->primary}, {"secondary", keys->secondary}}, options.json_output);
}

// Telemetry is for the workspace's members: the user must hold a role in
// the workspace spec as applied (when it declares roles at all).
bool IsMember(runtime::Workspace& workspace, std::string& user, std::string& why) {
  auto access = CurrentAccess(workspace);
  if (!access.ok()) return true;  // as it always was: an unreadable state store locks no member out
  user = access->user;
  if (access->Allows(WorkspaceRole::kReader)) return true;
  why = "telemetry is readable by members of workspace " + access->workspace + " only, and '" + user +
        "' holds no role there (owner, contributor or reader)";
  return false;
}

void Telemetry(const DeploymentsOptions& options, int& exit_code) {
  auto workspace = OpenExistingWorkspace(options.workspace, exit_code);
  if (!workspace) return;
  std::string user, why;
  if (!IsMember(*workspace, user, why)) {
    std::fprintf(stderr, "amlc: error: %s\n", why.c_str());
    exit_code = kExitDenied;
    return;
  }
  auto view = FindRef(*workspace, options.name, exit_code);
  if (!view) return;
  std::vector<json> records = runtime::TelemetryJson(*workspace, view->endpoint, view->name, options.limit);
  exit_code = kExitOk;
  PrintTelemetryRows(json(records), ListFormat(options.format, options.json_output));
}

}  // namespace

void AddDeploymentsCommands(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<DeploymentsOptions>();
  CLI::App* deployments = app.add_subcommand("deployments", "Web services: list, show, logs, delete, keys, telemetry");
  deployments->require_subcommand(1);
  auto common = [&](CLI::App* command, bool named) {
    command->add_option("--workspace", options->workspace, "Workspace home (default: $AMLC_WORKSPACE, else ./.amlc)");
    command->add_flag("--json", options->json_output, "Print JSON");
    if (named) command->add_option("name", options->name, "Deployment name")->required();
  };
  CLI::App* list = deployments->add_subcommand("list", "Deployments, their state, replicas and scoring URI");
  common(list, false);
  AddListFormatOption(list, options->format);
  list->callback([options, &exit_code] { List(*options, exit_code); });
  CLI::App* show = deployments->add_subcommand("show", "A deployment: image, replicas, recent events");
  common(show, true);
  show->add_option("--limit", options->limit, "How many recent events")->capture_default_str();
  show->callback([options, &exit_code] { Show(*options, exit_code); });
  CLI::App* logs = deployments->add_subcommand("logs", "Its replicas' logs (scoring script output, tracebacks)");
  common(logs, true);
  logs->callback([options, &exit_code] { Logs(*options, exit_code); });
  CLI::App* del = deployments->add_subcommand("delete", "Stop a deployment's replicas and forget it");
  common(del, true);
  del->callback([options, &exit_code] { Delete(*options, exit_code); });
  CLI::App* keys = deployments->add_subcommand("keys", "Its primary and secondary keys (Authorization: Bearer KEY)");
  common(keys, true);
  keys->add_option("--regenerate", options->regenerate, "Replace one key: primary or secondary");
  keys->callback([options, &exit_code] { Keys(*options, exit_code); });
  CLI::App* telemetry = deployments->add_subcommand("telemetry", "Per-request records (workspace members only)");
  common(telemetry, true);
  telemetry->add_option("--limit", options->limit, "How many, newest last")->capture_default_str();
  AddListFormatOption(telemetry, options->format);
  telemetry->callback([options, &exit_code] { Telemetry(*options, exit_code); });
}

}  // namespace amlc::cli
