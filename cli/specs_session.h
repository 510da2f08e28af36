#ifndef AMLC_CLI_SPECS_SESSION_H_
#define AMLC_CLI_SPECS_SESSION_H_

// What plan, apply, destroy and job create share: compile a spec folder, open
// its workspace, take the lock and plan.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/output.h"
#include "compiler/planner/plan.h"
#include "runtime/engine/session.h"

namespace amlc::cli {

struct ApplyOptions {
  std::string dir = ".";
  std::string workspace;
  bool json = false;
  bool no_color = false;
  bool auto_approve = false;
  bool detailed_exitcode = false;  // plan: 0 no changes, 1 error, 2 changes
  int parallelism = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  double lock_timeout = 60;
  std::vector<std::string> rerun;
  std::vector<std::string> only;  // plan only these resources and what they need ("" = all)
  bool destroy = false;
  bool purge = false;
  std::string out;  // plan -out FILE
  std::string job_file;  // job create: plan only the job this file declares (and what it needs)
  bool rerun_job = false;  // job create --rerun
};

/// The id ("job/NAME") of the top-level job declared in `file`, nullopt when it declares none.
std::optional<std::string> JobDeclaredIn(const compiler::Compilation& compilation, const std::string& specs_root,
                                         const std::string& file);

/// Where Prepare's errors go (besides the exit code): stderr by default.
using ErrorSink = std::function<void(const std::string& message)>;

/// Reads `path` when it is a plan saved by `amlc plan -out FILE`; false when
/// it is not one (a spec folder or file).
bool ReadPlanFile(const std::string& path, compiler::planner::Plan& plan);

/// Compiles, opens the workspace, locks it when `lock` (apply, destroy) and
/// plans; prints diagnostics and returns nullptr (with exit_code set) when
/// there is nothing to apply from.
std::unique_ptr<runtime::Session> Prepare(const ApplyOptions& options, int& exit_code, bool lock,
                                          const ErrorSink& error = PrintError);

/// The shared options of commands that read a spec folder and a workspace.
void AddSpecsOptions(CLI::App* command, ApplyOptions& options);

}  // namespace amlc::cli

#endif  // AMLC_CLI_SPECS_SESSION_H_
