#include "runtime/engine/session.h"

#include <cstdio>
#include <fstream>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "base/digest.h"

namespace amlc::runtime {

std::unique_ptr<Session> Session::Compile(const compiler::SourceTree& tree, std::string specs_root) {
  std::unique_ptr<compiler::Compilation> compilation = compiler::Compile(tree);
  auto session = std::make_unique<Session>(*compilation, std::move(specs_root));
  session->owned_compilation_ = std::move(compilation);
  return session;
}

Session::Session(const compiler::Compilation& compilation, std::string specs_root)
    : compilation_(compilation), specs_root_(std::move(specs_root)) {}

Status Session::OpenWorkspace(const std::string& home) {
  auto opened = Workspace::Open(home);
  if (!opened.ok()) return opened.status();
  owned_workspace_ = std::move(opened.value());
  UseWorkspace(*owned_workspace_);
  return Status::Ok();
}

void Session::UseWorkspace(Workspace& workspace) {
  workspace_ = &workspace;
  applier_ = std::make_unique<Applier>(workspace, compilation_.graph, specs_root_);
}

StatusOr<ReapedWork> Session::Lock(double timeout_seconds, void (*waiting)(long holder_pid)) {
  auto acquired = ApplyLock::Acquire(workspace_->home(), timeout_seconds, waiting);
  if (!acquired.ok()) return acquired.status();
  lock_ = std::move(acquired.value());
  return applier_->ReapDeadApplies();
}

compiler::planner::Plan& Session::MakePlan(const compiler::planner::PlanOptions& options,
                                           const std::string& specs_dir) {
  errors_.clear();
  destroying_ = options.destroy;
  plan_ = compiler::planner::MakePlan(compilation_.graph, *applier_, options, errors_);
  auto serial = workspace_->state().StateSerial();
  plan_.state_serial = serial.ok() ? serial.value() : 0;
  plan_.specs_digest = Sha256Hex(compiler::ir::GraphToJson(compilation_.graph));
  plan_.specs_dir = specs_dir;
  plan_.workspace = workspace_->home();
  return plan_;
}

std::vector<ActionResult> Session::Apply(const compiler::planner::Plan& plan, ProgressReporter& reporter,
                                         int parallelism, const std::string& apply_id) {
  std::vector<ActionResult> results = applier_->Execute(plan, reporter, parallelism, apply_id);
  // Not worth failing an apply over: the graph is for people to look at.
  if (!destroying_) (void)RecordAppliedGraph();
  return results;
}

std::string AppliedGraphPath(const std::string& home) { return home + "/specs-graph.json"; }

std::string AppliedGraphJson(const compiler::ir::Graph& graph) {
  nlohmann::json full = nlohmann::json::parse(compiler::ir::GraphToJson(graph));
  std::string out = "{\"resources\":[";
  bool first = true;
  for (nlohmann::json& resource : full["resources"]) {
    // A spec may hold a credential written inline (a datastore's account
    // key, an ssh password), which a Reader may not read; its digest would
    // let one test guesses of it.
    resource.erase("spec");
    resource.erase("digest");
    out += first ? "\n" : ",\n";
    first = false;
    out += resource.dump();
  }
  out += "\n],\"order\":" + full["order"].dump() + "}\n";
  return out;
}

Status Session::RecordAppliedGraph() {
  std::string path = AppliedGraphPath(workspace_->home());
  std::string temporary = path + ".tmp-" + std::to_string(getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << AppliedGraphJson(compilation_.graph);
    if (!out.flush()) {
      std::remove(temporary.c_str());
      return Status(StatusCode::kInternal, "cannot write " + temporary);
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    return Status(StatusCode::kInternal, "cannot replace " + path);
  }
  return Status::Ok();
}

}  // namespace amlc::runtime
