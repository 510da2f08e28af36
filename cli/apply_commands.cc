// `amlc apply` and `amlc destroy`: carry out the plan (or a saved one), with a
// live display on a terminal, plain lines elsewhere, or JSON events (--json).
#include "cli/apply_commands.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "base/clock.h"
#include "cli/output.h"
#include "cli/plan_command.h"
#include "cli/progress.h"
#include "cli/specs_session.h"
#include "runtime/engine/apply_events.h"

namespace amlc::cli {

using compiler::planner::Plan;

bool Confirm() {
  if (!isatty(STDIN_FILENO)) return false;
  std::printf("\nApply these actions? Only 'yes' is accepted: ");
  std::fflush(stdout);
  std::string answer;
  std::getline(std::cin, answer);
  return answer == "yes";
}

void PrintSummary(const Plan& plan, const std::vector<runtime::ActionResult>& results) {
  int succeeded = 0, failed = 0, skipped = 0;
  for (const runtime::ActionResult& r : results) {
    succeeded += r.outcome == runtime::Outcome::kSucceeded;
    failed += r.outcome == runtime::Outcome::kFailed;
    skipped += r.outcome == runtime::Outcome::kSkipped;
  }
  std::printf("\nApply %s: %d succeeded, %d failed, %d skipped.\n",
              failed + skipped ? "finished with failures" : "complete", succeeded, failed, skipped);
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i].outcome == runtime::Outcome::kSucceeded) continue;
    std::printf("  %s %s: %s\n", results[i].outcome == runtime::Outcome::kFailed ? "failed " : "skipped",
                plan.actions[i].resource_id.c_str(), results[i].message.c_str());
  }
}

namespace {

// What the specs' jobs, models and images left in the workspace outside the
// plan (an earlier destroy kept their runs and versions; runs that never
// completed were never recorded as applied): destroy --purge deletes it too.
// Images come first, since a model version an image packages cannot go.
std::vector<const compiler::ir::Resource*> ListLeftovers(runtime::Session& session, bool print) {
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
  if (print && !listed.empty()) std::printf("\nKept by an earlier destroy, deleted now (--purge):\n%s", listed.c_str());
  return leftovers;
}

int ExitCodeOf(const std::vector<runtime::ActionResult>& results) {
  for (const runtime::ActionResult& r : results) {
    if (r.outcome != runtime::Outcome::kSucceeded) return kExitSpecErrors;
  }
  return kExitOk;
}

// Apply exactly the saved plan, and only if nothing moved since it was made.
bool MatchesSavedPlan(const Plan& saved, const Plan& fresh, const ErrorSink& error) {
  if (saved.specs_digest == fresh.specs_digest && saved.state_serial == fresh.state_serial) return true;
  error(std::string("the ") + (saved.specs_digest != fresh.specs_digest ? "specs" : "workspace's state") +
        " changed since the plan was made; run amlc plan again");
  return false;
}

// Tells two reporters the same (the display and `job create --stream`'s log follower).
class BothReporters : public runtime::ProgressReporter {
 public:
  BothReporters(runtime::ProgressReporter& first, runtime::ProgressReporter& second)
      : first_(first), second_(second) {}
  void Started(size_t index, const compiler::planner::Action& action) override {
    first_.Started(index, action);
    second_.Started(index, action);
  }
  void Progress(size_t index, const std::string& status) override {
    first_.Progress(index, status);
    second_.Progress(index, status);
  }
  void Finished(size_t index, const compiler::planner::Action& action, const runtime::ActionResult& result,
                double seconds) override {
    second_.Finished(index, action, result, seconds);  // the log's last lines before the action's end
    first_.Finished(index, action, result, seconds);
  }

 private:
  runtime::ProgressReporter& first_;
  runtime::ProgressReporter& second_;
};

}  // namespace

void RunApply(ApplyOptions options, int& exit_code, runtime::ProgressReporter* also) {
  std::unique_ptr<runtime::ApplyEvents> events;
  if (options.json) {
    events = std::make_unique<runtime::ApplyEvents>([](const std::string& line) {
      std::fputs(line.c_str(), stdout);
      std::fflush(stdout);
    });
  }
  ErrorSink error = [&events](const std::string& message) {
    PrintError(message);
    if (events) events->Error(message);
  };
  auto stop = [&](int code) {
    exit_code = code;
    if (events) events->Summary({}, code);
  };
  if (options.json && !options.auto_approve) {
    error("--json needs --auto-approve: a stream of events cannot ask for confirmation");
    return stop(kExitUsage);
  }
  Plan saved;
  bool from_file = ReadPlanFile(options.dir, saved);
  if (from_file) {
    options.dir = saved.specs_dir;
    options.workspace = saved.workspace;
  }
  std::unique_ptr<runtime::Session> session = Prepare(options, exit_code, true, error);
  if (!session) return stop(exit_code);
  Plan& plan = session->plan();
  if (from_file) {
    if (!MatchesSavedPlan(saved, plan, error)) return stop(kExitSpecErrors);
    plan = saved;
  }
  bool color = ColorFor(STDOUT_FILENO, options.no_color);
  if (events) {
    events->Planned(plan, session->workspace().home());
  } else {
    std::fputs(compiler::planner::PlanToText(plan, color).c_str(), stdout);
  }
  std::vector<const compiler::ir::Resource*> leftovers;
  if (options.destroy && options.purge) leftovers = ListLeftovers(*session, !events);
  if (plan.empty() && leftovers.empty()) {
    if (!options.destroy) (void)session->RecordAppliedGraph();  // up to date: these are the applied specs
    return stop(kExitOk);
  }
  if (!options.auto_approve) {
    if (!isatty(STDIN_FILENO)) {
      error("not applying without confirmation; pass --auto-approve");
      return stop(kExitUsage);
    }
    if (!Confirm()) {
      std::printf("Apply cancelled.\n");
      return stop(kExitOk);
    }
  }
  std::string apply_id = "apply-" + std::to_string(NowMillis());
  std::vector<runtime::ActionResult> results;
  auto apply_with = [&](runtime::ProgressReporter& reporter) {
    if (!also) return session->Apply(plan, reporter, options.parallelism, apply_id);
    BothReporters both(reporter, *also);
    return session->Apply(plan, both, options.parallelism, apply_id);
  };
  if (events) {
    results = apply_with(*events);
  } else {
    std::printf("\n");
    // Lines printed by `also` would break the live display's redraws.
    TerminalProgress progress(isatty(STDOUT_FILENO) && !also, color, plan.actions.size());
    results = apply_with(progress);
  }
  exit_code = ExitCodeOf(results);
  for (const compiler::ir::Resource* r : leftovers) {
    if (Status status = session->applier().PurgeHistory(*r); !status.ok()) {
      error("purging " + r->id() + ": " + status.message());
      exit_code = kExitSpecErrors;
    }
  }
  if (events) {
    events->Summary(results, exit_code);
  } else {
    PrintSummary(plan, results);
  }
}

namespace {

void AddApplyOptions(CLI::App* command, ApplyOptions& options) {
  command->add_flag("--auto-approve", options.auto_approve, "Do not ask for confirmation");
  command->add_option("--lock-timeout", options.lock_timeout, "Seconds to wait for another apply of the workspace")
      ->capture_default_str();
  command->add_flag("--json", options.json,
                    "Stream one JSON event per line (plan, action_started, action_progress, action_finished, "
                    "summary; needs --auto-approve)");
  command->add_flag("--no-color", options.no_color, "No colour, also on a terminal (as NO_COLOR=1)");
}

constexpr const char* kApplyExitStatus =
    "Exit status: 0 all actions succeeded (or nothing to do), 1 spec errors or failed actions,\n"
    "2 usage errors. Colour and the live display are used on a terminal; NO_COLOR or --no-color\n"
    "turn colour off. --json events are described in cli/README.md (schema amlc-apply-events/1).";

}  // namespace

void AddApplyCommands(CLI::App& app, int& exit_code) {
  AddPlanCommand(app, exit_code);

  auto apply_options = std::make_shared<ApplyOptions>();
  CLI::App* apply = app.add_subcommand("apply", "Carry out the plan: create resources, start runs");
  AddSpecsOptions(apply, *apply_options);
  apply->add_option("--rerun", apply_options->rerun, "Run JOB again even when a run with its key exists (repeatable)")
      ->allow_extra_args(false);
  AddApplyOptions(apply, *apply_options);
  apply->add_option("-j,--parallelism", apply_options->parallelism, "Actions at once")->capture_default_str();
  apply->footer(std::string("DIR may also be a plan saved by `amlc plan -out FILE`.\n") + kApplyExitStatus);
  apply->callback([apply_options, &exit_code] { RunApply(*apply_options, exit_code); });

  auto destroy_options = std::make_shared<ApplyOptions>();
  destroy_options->destroy = true;
  CLI::App* destroy = app.add_subcommand(
      "destroy", "Take down what the specs created, after showing the plan; run history stays");
  AddSpecsOptions(destroy, *destroy_options);
  AddApplyOptions(destroy, *destroy_options);
  destroy->add_flag("--purge", destroy_options->purge, "Also delete the jobs' run history: runs, metrics, logs, outputs");
  destroy->footer(kApplyExitStatus);
  destroy->callback([destroy_options, &exit_code] { RunApply(*destroy_options, exit_code); });
}

}  // namespace amlc::cli
