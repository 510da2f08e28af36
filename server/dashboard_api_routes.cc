// API routes the dashboard's pages need beyond what the CLI reads: a run's
// snapshot as a file list (the page draws its tree; the zip stays at
// /runs/{id}/snapshot), and the dependency graph of the specs last applied.

#include <httplib.h>

#include <fstream>
#include <sstream>

#include "runtime/artifacts/snapshot/snapshot_store.h"
#include "runtime/engine/session.h"
#include "server/api_route.h"
#include "server/dashboard_routes.h"

namespace amlc::server {

namespace {

using nlohmann::json;

// GET /api/v1/runs/{id}/snapshot/files: the snapshot's files, sorted by path.
void SnapshotFiles(Call& call) {
  call.target = call.path_params[0];
  auto run = call.workspace.state().GetRun(call.target);
  if (!run.ok()) return call.Message(503, run.status().message());
  if (!run->has_value()) return call.Message(404, "no run '" + call.target + "' in this workspace");
  const std::string& digest = (*run)->snapshot_digest;
  if (digest.empty()) return call.Message(404, "run '" + call.target + "' has no code snapshot");
  auto snapshot = call.workspace.snapshots().Load(digest);
  if (!snapshot.ok()) return call.Message(snapshot.status().code() == StatusCode::kNotFound ? 404 : 500,
                                          snapshot.status().message());
  json files = json::array();
  for (const runtime::SnapshotFile& file : snapshot->files) {
    files.push_back({{"path", file.path}, {"digest", file.digest}, {"size", file.size}, {"executable", file.executable}});
  }
  call.Json(200, {{"snapshot", digest}, {"files", files}});
}

// GET /api/v1/graph: the graph of the specs last applied to the workspace
// (by `amlc apply`, the API or the reconciler), as `amlc graph --format json`
// prints it less the specs themselves (runtime::AppliedGraphJson); kept by
// runtime::Session::RecordAppliedGraph.
void AppliedGraph(Call& call) {
  std::string path = runtime::AppliedGraphPath(call.workspace.home());
  std::ifstream in(path, std::ios::binary);
  if (!in) return call.Message(404, "no specs have been applied to this workspace yet (amlc apply records their graph)");
  std::ostringstream text;
  text << in.rdbuf();
  call.JsonText(200, text.str());
}

}  // namespace

std::vector<ApiRoute> DashboardApiRoutes() {
  return {
      {"GET", "/api/v1/runs/{id}/snapshot/files", runtime::WorkspaceRole::kReader, "listing a run's snapshot files",
       SnapshotFiles},
      {"GET", "/api/v1/graph", runtime::WorkspaceRole::kReader, "reading the specs' dependency graph", AppliedGraph},
  };
}

}  // namespace amlc::server
