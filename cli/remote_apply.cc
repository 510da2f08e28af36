// plan, apply and destroy against a workspace server. The spec folder goes
// as a manifest (relative path -> SHA-256); only the blobs the server lacks
// are uploaded (server/spec_upload.h). Apply's NDJSON events are passed
// through as they come (--json) or drive the same live display and summary
// as a local apply.

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/digest.h"
#include "cli/apply_commands.h"
#include "cli/output.h"
#include "cli/progress.h"
#include "cli/remote_commands.h"
#include "cli/specs_session.h"
#include "runtime/engine/apply_events.h"

namespace amlc::cli {

namespace {

namespace fs = std::filesystem;
using compiler::planner::Plan;
using nlohmann::json;

// The spec folder as the server takes it: the manifest, and each blob's file.
struct SpecFolder {
  json manifest = json::object();
  std::map<std::string, fs::path> files;  // digest -> file
};

std::string ReadBytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// Every regular file under `dir` but the workspace folders and git's (.amlc, .git).
StatusOr<SpecFolder> ReadSpecFolder(const std::string& dir) {
  SpecFolder folder;
  auto add = [&folder](const fs::path& file, const std::string& name) {
    std::string digest = Sha256Hex(ReadBytes(file));
    folder.manifest[name] = digest;
    folder.files[digest] = file;
  };
  std::error_code error;
  if (fs::is_regular_file(dir, error)) {
    add(dir, fs::path(dir).filename().string());
    return folder;
  }
  if (!fs::is_directory(dir, error)) return Status(StatusCode::kInvalidArgument, "no spec folder or file at " + dir);
  for (auto it = fs::recursive_directory_iterator(dir, error); !error && it != fs::recursive_directory_iterator();
       it.increment(error)) {
    std::string name = it->path().filename().string();
    if (it->is_directory() && (name == ".amlc" || name == ".git")) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file()) add(it->path(), fs::relative(it->path(), dir).generic_string());
  }
  if (error) return Status(StatusCode::kInvalidArgument, "cannot read " + dir + ": " + error.message());
  if (folder.manifest.empty()) return Status(StatusCode::kInvalidArgument, dir + " holds no files");
  return folder;
}

// Uploads the blobs the server lacks; the exit code of a failure, or kExitOk.
int UploadMissing(const ServerClient& server, const SpecFolder& folder) {
  json digests = json::array();
  for (const auto& [digest, file] : folder.files) digests.push_back(digest);
  ServerAnswer answer = server.Post("/api/v1/blobs/missing", json{{"digests", digests}}.dump());
  if (!answer.ok()) return ReportServerFailure(server.target(), answer);
  json missing = json::parse(answer.body, nullptr, false).value("missing", json::array());
  for (const json& digest : missing) {
    auto file = folder.files.find(digest.is_string() ? digest.get<std::string>() : "");
    if (file == folder.files.end()) continue;
    ServerAnswer put = server.Put("/api/v1/blobs/" + file->first, ReadBytes(file->second));
    if (!put.ok()) return ReportServerFailure(server.target(), put);
  }
  return kExitOk;
}

// The request body of plan, apply and destroy.
json SpecsRequest(const CLI::App& command, const SpecFolder& folder) {
  json body = {{"manifest", folder.manifest}, {"rerun", OptionList(command, "--rerun")}};
  if (std::string jobs = OptionText(command, "--parallelism"); !jobs.empty()) body["parallelism"] = std::stoi(jobs);
  return body;
}

// Reads and uploads the spec folder; nullopt with `exit_code` set on failure.
std::optional<json> UploadSpecs(const ServerClient& server, const CLI::App& command, int& exit_code) {
  std::string dir = OptionText(command, "dir");
  Plan saved;
  if (ReadPlanFile(dir, saved)) {
    PrintError("a saved plan cannot be applied with --server yet; apply the spec folder");
    exit_code = kExitUsage;
    return std::nullopt;
  }
  StatusOr<SpecFolder> folder = ReadSpecFolder(dir);
  if (!folder.ok()) {
    PrintError(folder.status().message());
    exit_code = kExitUsage;
    return std::nullopt;
  }
  exit_code = UploadMissing(server, *folder);
  if (exit_code != kExitOk) return std::nullopt;
  return SpecsRequest(command, *folder);
}

// POST /plan: the plan, or nullopt with `exit_code` set (1 for specs with errors).
std::optional<Plan> PlanOnServer(const ServerClient& server, const json& request, std::string& plan_json,
                                 int& exit_code) {
  ServerAnswer answer = server.Post("/api/v1/plan", request.dump());
  if (!answer.ok()) {
    exit_code = ReportServerFailure(server.target(), answer);
    if (answer.status == 400) exit_code = kExitSpecErrors;  // the specs' errors, as a local plan gives them
    return std::nullopt;
  }
  Plan plan;
  std::string error;
  if (!PlanFromJson(answer.body, plan, error)) {
    PrintError(server.target().url + " sent a plan that does not read back: " + error);
    exit_code = kExitSpecErrors;
    return std::nullopt;
  }
  plan_json = answer.body;
  return plan;
}

int RemotePlan(const ServerClient& server, const CLI::App& command) {
  bool detailed = OptionFlag(command, "--detailed-exitcode");
  auto code = [detailed](int exit_code) { return detailed && exit_code != kExitOk ? kExitSpecErrors : exit_code; };
  if (!OptionText(command, "--out").empty()) {
    PrintError("plan -out is not available with --server yet");
    return code(kExitUsage);
  }
  int exit_code = kExitOk;
  std::optional<json> request = UploadSpecs(server, command, exit_code);
  if (!request) return code(exit_code);
  std::string plan_json;
  std::optional<Plan> plan = PlanOnServer(server, *request, plan_json, exit_code);
  if (!plan) return code(exit_code);
  bool color = ColorFor(STDOUT_FILENO, OptionFlag(command, "--no-color"));
  std::fputs(OptionFlag(command, "--json") ? plan_json.c_str() : compiler::planner::PlanToText(*plan, color).c_str(),
             stdout);
  return detailed && !plan->empty() ? kExitChanges : kExitOk;
}

// Shows apply's events as the local apply does: the live display of each
// action, then the summary. Returns the summary's exit code.
class EventPrinter {
 public:
  explicit EventPrinter(bool color) : color_(color) {}

  void Line(const std::string& line) {
    json event = json::parse(line, nullptr, false);
    if (!event.is_object()) return;
    std::string type = event.value("type", "");
    if (type == "plan") return Planned(event["actions"]);
    if (type == "error") return PrintError(event.value("message", ""));
    if (type == "summary") {
      exit_code_ = event.value("exit_code", kExitSpecErrors);
      return;
    }
    size_t index = event.value("index", size_t{0});
    if (!progress_ || index >= plan_.actions.size()) return;
    if (type == "action_started") progress_->Started(index, plan_.actions[index]);
    if (type == "action_progress") progress_->Progress(index, event.value("status", ""));
    if (type == "action_finished") Finished(index, event);
  }

  int Done() {
    progress_.reset();
    if (!plan_.actions.empty()) PrintSummary(plan_, results_);
    return exit_code_;
  }

 private:
  void Planned(const json& actions) {
    for (const json& a : actions) {
      compiler::planner::Action action;
      for (auto type : {compiler::planner::ActionType::kCreate, compiler::planner::ActionType::kUpdate,
                        compiler::planner::ActionType::kReplace, compiler::planner::ActionType::kDelete,
                        compiler::planner::ActionType::kRun}) {
        if (a.value("action", "") == compiler::planner::ActionName(type)) action.type = type;
      }
      action.resource_id = a.value("resource", "");
      action.kind = a.value("kind", "");
      plan_.actions.push_back(std::move(action));
    }
    results_.assign(plan_.actions.size(), {runtime::Outcome::kSkipped, "not reported by the server"});
    if (plan_.actions.empty()) return;
    std::printf("\n");
    progress_ = std::make_unique<TerminalProgress>(isatty(STDOUT_FILENO), color_, plan_.actions.size());
  }

  void Finished(size_t index, const json& event) {
    std::string outcome = event.value("outcome", "failed");
    runtime::ActionResult& result = results_[index];
    result.outcome = outcome == "succeeded" ? runtime::Outcome::kSucceeded
                     : outcome == "skipped" ? runtime::Outcome::kSkipped
                                            : runtime::Outcome::kFailed;
    result.message = event.value("message", "");
    progress_->Finished(index, plan_.actions[index], result, event.value("elapsed_seconds", 0.0));
  }

  bool color_;
  Plan plan_;
  std::vector<runtime::ActionResult> results_;
  std::unique_ptr<TerminalProgress> progress_;
  int exit_code_ = kExitSpecErrors;  // until the summary says otherwise
};

// POST /apply or /destroy, its events printed as they arrive.
int StreamApply(const ServerClient& server, const std::string& route, const json& request, bool as_json,
                bool color) {
  EventPrinter printer(color);
  std::string pending;
  int exit_code = kExitSpecErrors;
  ServerAnswer answer = server.Post(route, request.dump(), [&](const char* data, size_t size) {
    if (as_json) {
      std::fwrite(data, 1, size, stdout);
      std::fflush(stdout);
    }
    pending.append(data, size);
    for (size_t end; (end = pending.find('\n')) != std::string::npos; pending.erase(0, end + 1)) {
      std::string line = pending.substr(0, end);
      json event = json::parse(line, nullptr, false);
      if (as_json && event.is_object() && event.value("type", "") == "summary") {
        exit_code = event.value("exit_code", kExitSpecErrors);
      }
      if (!as_json) printer.Line(line);
    }
    return true;
  });
  if (!answer.ok()) return ReportServerFailure(server.target(), answer);
  return as_json ? exit_code : printer.Done();
}

int RemoteApply(const ServerClient& server, const CLI::App& command, bool destroy) {
  bool as_json = OptionFlag(command, "--json");
  bool auto_approve = OptionFlag(command, "--auto-approve");
  // Refusals before anything is sent give the same stream a local apply gives.
  runtime::ApplyEvents events([as_json](const std::string& line) {
    if (as_json) std::fputs(line.c_str(), stdout);
  });
  auto refuse = [&events](const std::string& message, int code) {
    PrintError(message);
    events.Error(message);
    events.Summary({}, code);
    return code;
  };
  if (as_json && !auto_approve) {
    return refuse("--json needs --auto-approve: a stream of events cannot ask for confirmation", kExitUsage);
  }
  if (OptionFlag(command, "--purge")) return refuse("destroy --purge is not available with --server yet", kExitUsage);
  int exit_code = kExitOk;
  std::optional<json> request = UploadSpecs(server, command, exit_code);
  if (!request) return as_json ? refuse("the specs could not be sent to " + server.target().url, exit_code) : exit_code;
  bool color = ColorFor(STDOUT_FILENO, OptionFlag(command, "--no-color"));
  std::string route = destroy ? "/api/v1/destroy" : "/api/v1/apply";
  if (as_json) return StreamApply(server, route, *request, true, color);
  std::string plan_json;
  // The plan is shown first (and confirmed); the server plans again when it applies.
  json plan_request = *request;
  plan_request["destroy"] = destroy;
  std::optional<Plan> plan = PlanOnServer(server, plan_request, plan_json, exit_code);
  if (!plan) return exit_code;
  std::fputs(compiler::planner::PlanToText(*plan, color).c_str(), stdout);
  if (plan->empty()) return kExitOk;
  if (!auto_approve) {
    if (!isatty(STDIN_FILENO)) return refuse("not applying without confirmation; pass --auto-approve", kExitUsage);
    if (!Confirm()) {
      std::printf("Apply cancelled.\n");
      return kExitOk;
    }
  }
  return StreamApply(server, route, *request, false, color);
}

}  // namespace

std::map<std::string, RemoteCommand> RemoteApplyCommands() {
  return {
      {"plan", RemotePlan},
      {"apply", [](const ServerClient& server, const CLI::App& command) { return RemoteApply(server, command, false); }},
      {"destroy", [](const ServerClient& server, const CLI::App& command) { return RemoteApply(server, command, true); }},
  };
}

}  // namespace amlc::cli
