#include "cli/sync_commands.h"

#include <cstdio>
#include <memory>

#include "base/time.h"
#include "cli/list_output.h"
#include "cli/output.h"
#include "cli/reconciler_client.h"
#include "cli/workspace_access.h"

namespace amlc::cli {

namespace {

using nlohmann::json;

struct SyncsFlags {
  ServerFlags server;
  std::string format = "table";
  int limit = 20;
  int64_t id = 0;
};

void RunSync(const ServerFlags& flags, int& exit_code) {
  json body = {{"by", "amlc sync (" + CurrentUser() + ")"}};
  std::optional<json> answer = CallReconciler(flags, "/api/sync", exit_code, body.dump());
  if (!answer) return;
  if (flags.as_json) {
    std::printf("%s\n", answer->dump(2).c_str());
  } else {
    std::printf("Sync requested: %s; follow it with: amlc syncs list\n", answer->value("message", "").c_str());
  }
  exit_code = kExitOk;
}

// Only a running reconciler can hold auto-sync paused, so without one this
// refuses (CallReconciler says how to start one) rather than applying here.
void RunRollback(const SyncsFlags& flags, int& exit_code) {
  json body = {{"sync", flags.id}, {"by", "amlc rollback (" + CurrentUser() + ")"}};
  std::optional<json> answer = CallReconciler(flags.server, "/api/rollback", exit_code, body.dump());
  if (!answer) return;
  if (flags.server.as_json) {
    std::printf("%s\n", answer->dump(2).c_str());
  } else {
    std::printf("Rollback requested: %s\nFollow it with: amlc syncs list; amlc status shows the pause\n",
                answer->value("message", "").c_str());
  }
  exit_code = kExitOk;
}

void RunList(const SyncsFlags& flags, int& exit_code) {
  std::optional<json> syncs = CallReconciler(flags.server, "/api/syncs?limit=" + std::to_string(flags.limit), exit_code);
  if (!syncs) return;
  PrintSyncRows(*syncs, flags.server.as_json ? "json" : flags.format);
  exit_code = kExitOk;
}

void RunShow(const SyncsFlags& flags, int& exit_code) {
  std::optional<json> sync = CallReconciler(flags.server, "/api/syncs/" + std::to_string(flags.id), exit_code);
  if (!sync) return;
  exit_code = kExitOk;
  PrintSync(*sync, flags.server.as_json);
}

}  // namespace

void PrintSyncRows(json syncs, const std::string& format) {
  for (json& sync : syncs) {
    sync["commit_short"] = sync.value("commit", "").substr(0, 7);
    sync["started"] = FormatTime(sync.value("started_at", int64_t{0}));
  }
  std::fputs(RenderList(syncs,
                        {{"ID", "id"}, {"STARTED", "started"}, {"RESULT", "result"}, {"COMMIT", "commit_short"},
                         {"TRIGGER", "trigger", 28}, {"SUMMARY", "summary"}},
                        format)
                 .c_str(),
             stdout);
}

void PrintSync(const json& sync, bool json_output) {
  if (json_output) {
    std::printf("%s\n", sync.dump(2).c_str());
    return;
  }
  std::printf("Sync        #%lld %s\n", static_cast<long long>(sync.value("id", int64_t{0})),
              sync.value("result", "").c_str());
  std::printf("Commit      %s %s (%s)\n", sync.value("commit", "").c_str(), sync.value("message", "").c_str(),
              sync.value("author", "").c_str());
  std::printf("Trigger     %s\n", sync.value("trigger", "").c_str());
  std::printf("Started     %s, %.1f s\n", FormatTime(sync.value("started_at", int64_t{0})).c_str(),
              sync.value("duration_ms", int64_t{0}) / 1000.0);
  std::printf("Summary     %s\n", sync.value("summary", "").c_str());
  if (!sync.value("diagnostics", "").empty()) std::printf("\n%s", sync.value("diagnostics", "").c_str());
  if (!sync.value("apply_log", "").empty()) std::printf("\nApply log:\n%s", sync.value("apply_log", "").c_str());
}

void AddSyncCommands(CLI::App& app, int& exit_code) {
  auto sync_flags = std::make_shared<ServerFlags>();
  CLI::App* sync = app.add_subcommand("sync", "Ask a running reconciler for a pass now (as a push would)");
  AddServerOptions(sync, *sync_flags);
  sync->callback([sync_flags, &exit_code] { RunSync(*sync_flags, exit_code); });

  auto rollback_flags = std::make_shared<SyncsFlags>();
  CLI::App* rollback = app.add_subcommand(
      "rollback", "Ask a running reconciler to apply an earlier sync's commit and pause auto-sync until the next push");
  rollback->add_option("sync", rollback_flags->id, "The sync to go back to (amlc syncs list)")
      ->required()
      ->check(CLI::PositiveNumber);
  AddServerOptions(rollback, rollback_flags->server);
  rollback->callback([rollback_flags, &exit_code] { RunRollback(*rollback_flags, exit_code); });

  CLI::App* syncs = app.add_subcommand("syncs", "A running reconciler's sync history: list, show");
  syncs->require_subcommand(1);
  auto list_flags = std::make_shared<SyncsFlags>();
  CLI::App* list = syncs->add_subcommand("list", "Syncs, newest first: result, commit, trigger, plan summary");
  AddServerOptions(list, list_flags->server);
  AddListFormatOption(list, list_flags->format);
  list->add_option("--limit", list_flags->limit, "How many")->capture_default_str()->check(CLI::Range(1, 1000));
  list->footer(kReconcilerOrWorkspaceServer);
  list->callback([list_flags, &exit_code] { RunList(*list_flags, exit_code); });

  auto show_flags = std::make_shared<SyncsFlags>();
  CLI::App* show = syncs->add_subcommand("show", "One sync: commit, trigger, result, diagnostics, apply log");
  show->add_option("id", show_flags->id, "The sync's number (amlc syncs list)")->required();
  AddServerOptions(show, show_flags->server);
  show->footer(kReconcilerOrWorkspaceServer);
  show->callback([show_flags, &exit_code] { RunShow(*show_flags, exit_code); });
}

}  // namespace amlc::cli
