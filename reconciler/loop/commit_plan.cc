#include "reconciler/loop/commit_plan.h"

#include <filesystem>

namespace amlc::reconciler {

namespace fs = std::filesystem;

StatusOr<std::unique_ptr<CompiledCommit>> CompileCommit(const GitMirror& mirror, const std::string& commit,
                                                        const std::string& path, const std::string& trees_dir) {
  auto info = mirror.Commit(commit);
  if (!info.ok()) return info.status();
  auto tree = mirror.TreeAt(info->id, path);
  if (!tree.ok()) return tree.status();
  auto compiled = std::make_unique<CompiledCommit>();
  compiled->info = std::move(info.value());
  compiled->compilation = compiler::Compile(*tree.value());
  if (!compiled->compiles()) return compiled;
  std::string exported = (fs::path(trees_dir) / compiled->info.id).string();
  if (Status status = mirror.ExportTree(compiled->info.id, exported); !status.ok()) return status;
  compiled->specs_root = (fs::path(exported) / (path.empty() ? "." : path)).lexically_normal().string();
  return compiled;
}

std::unique_ptr<runtime::Session> PlanCommit(runtime::Workspace& workspace, const CompiledCommit& commit,
                                             const compiler::planner::PlanOptions& options) {
  auto session = std::make_unique<runtime::Session>(*commit.compilation, commit.specs_root);
  session->UseWorkspace(workspace);
  session->applier().set_spec_commit(commit.info.id);
  session->MakePlan(options, commit.specs_root);
  return session;
}

std::string ShortCommit(const std::string& id) { return id.substr(0, 7); }

}  // namespace amlc::reconciler
