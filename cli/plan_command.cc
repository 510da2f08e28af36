// `amlc plan`: what apply would do, and why; its exit code can say whether
// anything would change (--detailed-exitcode, for CI).
#include "cli/plan_command.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>

#include "cli/output.h"
#include "cli/specs_session.h"

namespace amlc::cli {

namespace {

// With --detailed-exitcode every error is 1, since 2 means "changes present".
int ErrorCode(const ApplyOptions& options, int code) { return options.detailed_exitcode ? kExitSpecErrors : code; }

void RunPlan(const ApplyOptions& options, int& exit_code) {
  std::unique_ptr<runtime::Session> session = Prepare(options, exit_code, false);
  if (!session) {
    exit_code = ErrorCode(options, exit_code);
    return;
  }
  const compiler::planner::Plan& plan = session->plan();
  exit_code = options.detailed_exitcode && !plan.empty() ? kExitChanges : kExitOk;
  bool color = ColorFor(STDOUT_FILENO, options.no_color);
  if (!options.out.empty()) {
    std::ofstream file(options.out);
    file << compiler::planner::PlanToJson(plan);
    if (!file.flush()) {
      PrintError("cannot write the plan to " + options.out);
      exit_code = ErrorCode(options, kExitUsage);
      return;
    }
    if (!options.json) {
      std::fputs(compiler::planner::PlanToText(plan, color).c_str(), stdout);
      std::printf("\nSaved the plan to %s; apply exactly it with: amlc apply %s\n", options.out.c_str(),
                  options.out.c_str());
    }
    return;
  }
  std::string text = options.json ? compiler::planner::PlanToJson(plan) : compiler::planner::PlanToText(plan, color);
  std::fputs(text.c_str(), stdout);
}

}  // namespace

void AddPlanCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<ApplyOptions>();
  CLI::App* plan = app.add_subcommand("plan", "Show what apply would do: +create ~update -/+replace -destroy >run");
  AddSpecsOptions(plan, *options);
  plan->add_option("--rerun", options->rerun, "Run JOB again even when a run with its key exists (repeatable)")
      ->allow_extra_args(false);
  plan->add_flag("--json", options->json, "Print the plan as JSON");
  plan->add_option("-o,--out", options->out, "Save the plan; `amlc apply FILE` applies exactly it");
  plan->add_flag("--detailed-exitcode", options->detailed_exitcode,
                 "Exit 0 when nothing would change, 2 when something would, 1 on any error (for CI)");
  plan->add_flag("--no-color", options->no_color, "No colour, also on a terminal (as NO_COLOR=1)");
  plan->footer(
      "Exit status:\n"
      "  0  the plan was made (with --detailed-exitcode: and it changes nothing)\n"
      "  1  the specs have errors, or the workspace cannot be read or planned against\n"
      "  2  usage errors (with --detailed-exitcode: the plan changes something; every error is then 1)\n"
      "Colour is used on a terminal unless NO_COLOR is set or --no-color is given.");
  plan->callback([options, &exit_code] { RunPlan(*options, exit_code); });
}

}  // namespace amlc::cli
