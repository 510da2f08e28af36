#include "cli/specs_session.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "cli/output.h"
#include "cli/workspace_access.h"
#include "compiler/compile.h"
#include "reconciler/git/git_head.h"

namespace amlc::cli {

namespace {

using compiler::planner::Plan;

void PrintLockWait(long pid) {
  std::fprintf(stderr, "amlc: another apply (pid %ld) holds the workspace; waiting...\n", pid);
}

// The folder a spec folder's (or single file's) relative paths start from.
std::string SpecsRoot(const std::string& dir) {
  std::string root = std::filesystem::is_directory(dir) ? dir : std::filesystem::path(dir).parent_path().string();
  return std::filesystem::absolute(root.empty() ? "." : root).string();
}

// Keeps only the actions on `only` and those they wait for (as Terraform's
// -target), renumbering the dependency indices. False when none is planned.
bool KeepOnly(Plan& plan, const std::vector<std::string>& only) {
  std::set<size_t> keep;
  std::vector<size_t> pending;
  for (size_t i = 0; i < plan.actions.size(); ++i) {
    for (const std::string& id : only) {
      if (plan.actions[i].resource_id == id) pending.push_back(i);
    }
  }
  while (!pending.empty()) {
    size_t i = pending.back();
    pending.pop_back();
    if (!keep.insert(i).second) continue;
    for (size_t before : plan.actions[i].after) pending.push_back(before);
  }
  std::vector<size_t> renumbered(plan.actions.size(), 0);
  std::vector<compiler::planner::Action> kept;
  for (size_t i : keep) {
    renumbered[i] = kept.size();
    kept.push_back(plan.actions[i]);
  }
  for (compiler::planner::Action& action : kept) {
    for (size_t& before : action.after) before = renumbered[before];
  }
  bool any = !kept.empty();
  plan.actions = std::move(kept);
  return any;
}

}  // namespace

bool ReadPlanFile(const std::string& path, Plan& plan) {
  if (!std::filesystem::is_regular_file(path)) return false;
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.find("\"amlc-plan-1\"") == std::string::npos) return false;
  std::string error;
  if (!compiler::planner::PlanFromJson(text, plan, error)) {
    std::fprintf(stderr, "amlc: error: %s: %s\n", path.c_str(), error.c_str());
    std::exit(kExitUsage);
  }
  return true;
}

std::optional<std::string> JobDeclaredIn(const compiler::Compilation& compilation, const std::string& specs_root,
                                         const std::string& file) {
  namespace fs = std::filesystem;
  for (const compiler::ir::Resource& r : compilation.graph.resources()) {
    if (r.kind != "job" || !r.parent.empty() || !r.range.valid()) continue;
    fs::path declared = compilation.sources.path(r.range.file);
    if (declared.is_relative()) declared = fs::path(specs_root) / declared;
    std::error_code error;
    if (fs::equivalent(declared, file, error)) return r.id();
  }
  return std::nullopt;
}

std::unique_ptr<runtime::Session> Prepare(const ApplyOptions& options, int& exit_code, bool lock,
                                          const ErrorSink& error) {
  auto fail = [&](const std::string& message, int code) -> std::unique_ptr<runtime::Session> {
    error(message);
    exit_code = code;
    return nullptr;
  };
  auto tree = compiler::DiskSourceTree::Open(options.dir);
  if (!tree.ok()) return fail(tree.status().message(), kExitUsage);
  auto session = runtime::Session::Compile(tree.value(), SpecsRoot(options.dir));
  std::fputs(compiler::DiagnosticsText(session->compilation(), UseColor()).c_str(), stderr);
  if (!session->compiles()) return fail("the specs have errors; nothing was planned or applied", kExitSpecErrors);
  Status opened = session->OpenWorkspace(runtime::DefaultWorkspaceHome(options.dir, options.workspace));
  if (!opened.ok()) return fail(opened.message(), kExitSpecErrors);
  PrintWorkspaceNotes(session->workspace());
  session->applier().set_purge(options.purge);
  if (auto commit = reconciler::HeadCommitOf(session->specs_root()); commit.ok()) {
    session->applier().set_spec_commit(commit.value());
  }
  if (lock) {
    auto reaped = session->Lock(options.lock_timeout, PrintLockWait);
    if (!reaped.ok()) return fail(reaped.status().message(), kExitSpecErrors);
    if (int runs = reaped.value().runs; runs > 0) {
      std::fprintf(stderr, "amlc: marked %d run%s Failed: their process died\n", runs, runs == 1 ? "" : "s");
    }
    if (int ended = reaped.value().activities; ended > 0) {
      std::fprintf(stderr, "amlc: marked %d activit%s Interrupted: the apply carrying %s was killed\n", ended,
                   ended == 1 ? "y" : "ies", ended == 1 ? "it" : "them");
    }
  }
  compiler::planner::PlanOptions plan_options;
  plan_options.destroy = options.destroy;
  std::vector<std::string> only = options.only;
  if (!options.job_file.empty()) {
    std::optional<std::string> job = JobDeclaredIn(session->compilation(), session->specs_root(), options.job_file);
    if (!job) return fail(options.job_file + " declares no job (a command, sweep or pipeline job spec)", kExitUsage);
    only = {*job};
    if (options.rerun_job) plan_options.rerun.insert(*job);
  }
  for (const std::string& job : options.rerun) {
    plan_options.rerun.insert(job.find('/') == std::string::npos ? "job/" + job : job);
  }
  session->MakePlan(plan_options, std::filesystem::absolute(options.dir).lexically_normal().string());
  for (const std::string& message : session->errors()) error(message);
  if (!session->errors().empty()) {
    exit_code = kExitSpecErrors;
    return nullptr;
  }
  if (!only.empty()) KeepOnly(session->plan(), only);
  return session;
}

void AddSpecsOptions(CLI::App* command, ApplyOptions& options) {
  command->add_option("dir", options.dir, "Folder (or single file) of specs")->capture_default_str();
  command->add_option("--workspace", options.workspace,
                      "Workspace home folder (default: $AMLC_WORKSPACE, else DIR/.amlc)");
}

}  // namespace amlc::cli
