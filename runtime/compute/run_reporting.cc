#include "runtime/compute/run_reporting.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/clock.h"
#include "runtime/state/server_records.h"
#include "runtime/workspace/access.h"
#include "runtime/workspace/identity.h"
#include "runtime/workspace/workspace.h"

namespace amlc::runtime {

namespace {

namespace fs = std::filesystem;

std::string ServerFile(const std::string& home) { return home + "/server.json"; }

}  // namespace

Status AnnounceServer(const std::string& home, const std::string& url) {
  std::string path = ServerFile(home);
  std::string partial = path + ".partial";
  {
    std::ofstream out(partial, std::ios::trunc);
    out << nlohmann::json{{"url", url}}.dump() << "\n";
    if (!out) return Status(StatusCode::kUnavailable, "cannot write " + partial);
  }
  std::error_code error;
  fs::rename(partial, path, error);
  if (error) return Status(StatusCode::kUnavailable, "cannot write " + path + ": " + error.message());
  return Status::Ok();
}

void WithdrawServer(const std::string& home, const std::string& url) {
  if (AnnouncedServer(home) != url) return;
  std::error_code error;
  fs::remove(ServerFile(home), error);
}

std::string AnnouncedServer(const std::string& home) {
  std::ifstream in(ServerFile(home));
  if (!in) return "";
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json record = nlohmann::json::parse(text.str(), nullptr, false);
  return record.is_object() ? record.value("url", "") : "";
}

bool SharesWorkspaceFolder(const std::string& compute_type) { return compute_type == "local"; }

RunReporting::RunReporting(Workspace& workspace, const RunRecord& run, RunRequest& request)
    : state_db_(StateStorePath(workspace.home())) {
  if (SharesWorkspaceFolder(run.compute)) return;
  std::string url = AnnouncedServer(workspace.home());
  if (url.empty()) return;
  auto records = ServerRecords::Open(state_db_);
  if (!records.ok()) {
    warning_ = "the run cannot report over HTTP: " + records.status().message();
    return;
  }
  auto issued = IssueToken(**records, CurrentUser(), "run " + run.id, 0, NowMillis(), run.id);
  if (!issued.ok()) {
    warning_ = "the run cannot report over HTTP: " + issued.status().message();
    return;
  }
  request.env["AMLC_SERVER"] = url;
  request.env["AMLC_RUN_TOKEN"] = issued->secret;
  run_id_ = run.id;
}

RunReporting::~RunReporting() {
  if (run_id_.empty()) return;
  // The token also stops working once the run is no longer active; revoking
  // it says so in the token list too.
  if (auto records = ServerRecords::Open(state_db_); records.ok()) (*records)->RevokeRunTokens(run_id_, NowMillis());
}

}  // namespace amlc::runtime
