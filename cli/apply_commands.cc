#include "cli/apply_commands.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "base/clock.h"
#include "cli/workspace_access.h"
#include "cli/output.h"
#include "cli/progress.h"
#include "compiler/compile.h"
#include "compiler/planner/planner.h"
#include "reconciler/git/git_head.h"
#include "runtime/engine/session.h"

namespace amlc::cli {

namespace {

using compiler::planner::Plan;

struct ApplyOptions {
  std::string dir = ".";
  std::string workspace;
  bool json = false;
  bool auto_approve = false;
  int parallelism = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  double lock_timeout = 60;
  std::vector<std::string> rerun;
  bool destroy = false;
  bool purge = false;
  std::string out;  // plan -out FILE
};

// `amlc apply PLANFILE`: a file holding a saved plan rather than specs.
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

void PrintLockWait(long pid) {
  std::fprintf(stderr, "amlc: another apply (pid %ld) holds the workspace; waiting...\n", pid);
}

// The folder a spec folder's (or single file's) relative paths start from.
std::string SpecsRoot(const std::string& dir) {
  std::string root = std::filesystem::is_directory(dir) ? dir : std::filesystem::path(dir).parent_path().string();
  return std::filesystem::absolute(root.empty() ? "." : root).string();
}

// Compiles, opens the workspace, locks it when `lock` (apply, destroy) and
// plans; prints diagnostics and returns nullptr (with exit_code set) when
// there is nothing to apply from.
std::unique_ptr<runtime::Session> Prepare(const ApplyOptions& options, int& exit_code, bool lock) {
  auto fail = [&](const std::string& message, int code) -> std::unique_ptr<runtime::Session> {
    std::fprintf(stderr, "amlc: error: %s\n", message.c_str());
    exit_code = code;
    return nullptr;
  };
  auto tree = compiler::DiskSourceTree::Open(options.dir);
  if (!tree.ok()) return fail(tree.status().message(), kExitUsage);
  auto session = runtime::Session::Compile(tree.value(), SpecsRoot(options.dir));
  std::fputs(compiler::DiagnosticsText(session->compilation(), UseColor()).c_str(), stderr);
  if (!session->compiles()) {
    std::fprintf(stderr, "amlc: the specs have errors; nothing was planned or applied\n");
    exit_code = kExitSpecErrors;
    return nullptr;
  }
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
  for (const std::string& job : options.rerun) {
    plan_options.rerun.insert(job.find('/') == std::string::npos ? "job/" + job : job);
  }
  session->MakePlan(plan_options, std::filesystem::absolute(options.dir).lexically_normal().string());
  for (const std::string& error : session->errors()) std::fprintf(stderr, "amlc: error: %s\n", error.c_str());
  if (!session->errors().empty()) {
    exit_code = kExitSpecErrors;
    return nullptr;
  }
  return session;
}

void RunPlan(const ApplyOptions& options, int& exit_code) {
  std::unique_ptr<runtime::Session> session = Prepare(options, exit_code, false);
  if (!session) return;
  const Plan& plan = session->plan();
  exit_code = kExitOk;
  if (!options.out.empty()) {
    std::ofstream(options.out) << compiler::planner::PlanToJson(plan);
    if (!options.json) {
      std::fputs(compiler::planner::PlanToText(plan, isatty(STDOUT_FILENO)).c_str(), stdout);
      std::printf("\nSaved the plan to %s; apply exactly it with: amlc apply %s\n", options.out.c_str(),
                  options.out.c_str());
    }
    return;
  }
  if (options.json) {
    std::fputs(compiler::planner::PlanToJson(plan).c_str(), stdout);
  } else {
    std::fputs(compiler::planner::PlanToText(plan, isatty(STDOUT_FILENO)).c_str(), stdout);
  }
}

bool Confirm() {
  if (!isatty(STDIN_FILENO)) return false;
  std::printf("\nApply these actions? Only 'yes' is accepted: ");
  std::fflush(stdout);
  std::string answer;
  std::getline(std::cin, answer);
  return answer == "yes";
}

// What the specs' jobs, models and images left in the workspace outside the
// plan (an earlier destroy kept their runs and versions; runs that never
// completed were never recorded as applied): destroy --purge deletes it too.
// Images come first, since a model version an image packages cannot go.
std::vector<const compiler::ir::Resource*> ListLeftovers(runtime::Session& session) {
  std::vector<const compiler::ir::Resource*> leftovers;
  std::string listed;
  for (const char* kind : {"image", "model", "job"}) {
    for (const compiler::ir::Resource& r : session.compilation().graph.resources()) {
      if (r.kind != kind || !r.parent.empty()) continue;
      std::string history = session.applier().History(r);
      if (history.empty()) continue;
      bool planned = false;  // its delete action purges it and says so
      for (const compiler::planner::Action& action : session.plan().actions) planned |= action.resource_id == r.id();
      if (!planned) listed += "  - " + r.id() + ": " + history + "\n";
      leftovers.push_back(&r);
    }
  }
  if (!listed.empty()) std::printf("\nKept by an earlier destroy, deleted now (--purge):\n%s", listed.c_str());
  return leftovers;
}

void RunApply(ApplyOptions options, int& exit_code) {
  Plan saved;
  bool from_file = ReadPlanFile(options.dir, saved);
  if (from_file) {
    options.dir = saved.specs_dir;
    options.workspace = saved.workspace;
  }
  std::unique_ptr<runtime::Session> session = Prepare(options, exit_code, true);
  if (!session) return;
  Plan& plan = session->plan();
  if (from_file) {
    // Apply exactly the saved plan, and only if nothing moved since it was made.
    if (saved.specs_digest != plan.specs_digest || saved.state_serial != plan.state_serial) {
      std::fprintf(stderr, "amlc: error: the %s changed since the plan was made; run amlc plan again\n",
                   saved.specs_digest != plan.specs_digest ? "specs" : "workspace's state");
      exit_code = kExitSpecErrors;
      return;
    }
    plan = saved;
  }
  bool color = isatty(STDOUT_FILENO);
  std::fputs(compiler::planner::PlanToText(plan, color).c_str(), stdout);
  std::vector<const compiler::ir::Resource*> leftovers;
  if (options.destroy && options.purge) leftovers = ListLeftovers(*session);
  if (plan.empty() && leftovers.empty()) {
    exit_code = kExitOk;
    return;
  }
  if (!options.auto_approve) {
    if (!isatty(STDIN_FILENO)) {
      std::fprintf(stderr, "amlc: error: not applying without confirmation; pass --auto-approve\n");
      exit_code = kExitUsage;
      return;
    }
    if (!Confirm()) {
      std::printf("Apply cancelled.\n");
      exit_code = kExitOk;
      return;
    }
  }
  std::printf("\n");
  TerminalProgress progress(color);
  std::string apply_id = "apply-" + std::to_string(NowMillis());
  exit_code = kExitOk;
  std::vector<runtime::ActionResult> results = session->Apply(plan, progress, options.parallelism, apply_id);
  for (const compiler::ir::Resource* r : leftovers) {
    if (Status status = session->applier().PurgeHistory(*r); !status.ok()) {
      std::fprintf(stderr, "amlc: error: purging %s: %s\n", r->id().c_str(), status.message().c_str());
      exit_code = kExitSpecErrors;
    }
  }
  int succeeded = 0, failed = 0, skipped = 0;
  for (const runtime::ActionResult& r : results) {
    succeeded += r.outcome == runtime::Outcome::kSucceeded;
    failed += r.outcome == runtime::Outcome::kFailed;
    skipped += r.outcome == runtime::Outcome::kSkipped;
  }
  std::printf("\nApply %s: %d succeeded, %d failed, %d skipped.\n", failed + skipped ? "finished with failures" : "complete",
              succeeded, failed, skipped);
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i].outcome == runtime::Outcome::kSucceeded) continue;
    std::printf("  %s %s: %s\n", results[i].outcome == runtime::Outcome::kFailed ? "failed " : "skipped",
                plan.actions[i].resource_id.c_str(), results[i].message.c_str());
  }
  if (failed + skipped) exit_code = kExitSpecErrors;
}

void AddCommonOptions(CLI::App* command, ApplyOptions& options) {
  command->add_option("dir", options.dir, "Folder (or single file) of specs")->capture_default_str();
  command->add_option("--workspace", options.workspace,
                      "Workspace home folder (default: $AMLC_WORKSPACE, else DIR/.amlc)");
  command->add_option("--rerun", options.rerun, "Run JOB again even when a run with its key exists (repeatable)")
      ->allow_extra_args(false);
}

}  // namespace

void AddApplyCommands(CLI::App& app, int& exit_code) {
  auto plan_options = std::make_shared<ApplyOptions>();
  CLI::App* plan = app.add_subcommand("plan", "Show what apply would do: +create ~update -/+replace -destroy >run");
  AddCommonOptions(plan, *plan_options);
  plan->add_flag("--json", plan_options->json, "Print the plan as JSON");
  plan->add_option("-o,--out", plan_options->out, "Save the plan; `amlc apply FILE` applies exactly it");
  plan->callback([plan_options, &exit_code] { RunPlan(*plan_options, exit_code); });

  auto apply_options = std::make_shared<ApplyOptions>();
  CLI::App* apply = app.add_subcommand("apply", "Carry out the plan: create resources, start runs");
  AddCommonOptions(apply, *apply_options);
  apply->add_flag("--auto-approve", apply_options->auto_approve, "Do not ask for confirmation");
  apply->add_option("-j,--parallelism", apply_options->parallelism, "Actions at once")->capture_default_str();
  apply->add_option("--lock-timeout", apply_options->lock_timeout,
                    "Seconds to wait for another apply of the workspace")->capture_default_str();
  apply->footer("DIR may also be a plan saved by `amlc plan -out FILE`.\n"
                "Exit status: 0 all actions succeeded, 1 spec errors or failed actions, 2 usage errors.");
  apply->callback([apply_options, &exit_code] { RunApply(*apply_options, exit_code); });

  auto destroy_options = std::make_shared<ApplyOptions>();
  destroy_options->destroy = true;
  CLI::App* destroy = app.add_subcommand(
      "destroy", "Take down what the specs created, after showing the plan; run history stays");
  destroy->add_option("dir", destroy_options->dir, "Folder (or single file) of specs")->capture_default_str();
  destroy->add_option("--workspace", destroy_options->workspace,
                      "Workspace home folder (default: $AMLC_WORKSPACE, else DIR/.amlc)");
  destroy->add_flag("--auto-approve", destroy_options->auto_approve, "Do not ask for confirmation");
  destroy->add_flag("--purge", destroy_options->purge, "Also delete the jobs' run history: runs, metrics, logs, outputs");
  destroy->add_option("--lock-timeout", destroy_options->lock_timeout,
                      "Seconds to wait for another apply of the workspace")->capture_default_str();
  destroy->callback([destroy_options, &exit_code] { RunApply(*destroy_options, exit_code); });
}

}  // namespace amlc::cli
