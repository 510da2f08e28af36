#include "cli/runs_commands.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <functional>
#include <set>
#include <sstream>
#include <ctime>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/clock.h"
#include "cli/list_output.h"
#include "cli/output.h"
#include "cli/runs_download.h"
#include "cli/workspace_access.h"
#include "runtime/compute/compute_target.h"
#include "runtime/state/run_filter.h"
#include "runtime/tracking/mlruns_import.h"
#include "runtime/views/record_json.h"
#include "runtime/workspace/workspace.h"

namespace amlc::cli {

namespace {

using nlohmann::json;
using runtime::RunRecord;

struct RunsOptions {
  std::string workspace;
  std::string experiment;
  std::string status;
  std::string run_id;
  std::string metric;
  bool json_output = false;
  bool csv = false;
  bool follow = false;
  std::string output;
  bool list_files = false;
  int limit = 50;
  std::string order_by;
  std::string where;
  std::vector<std::string> compare;
  bool only_diff = false;
  std::string import_dir;
  std::string format = "table";  // -o, on the commands that print a list
};

std::unique_ptr<runtime::Workspace> OpenWorkspace(const RunsOptions& options, int& exit_code) {
  return OpenExistingWorkspace(options.workspace, exit_code);
}

std::string Time(int64_t millis) { return FormatTime(millis); }

std::string MetricText(const runtime::MetricPoint& point) {
  if (!point.text.empty()) return point.text;
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", point.value);
  return text;
}

// A CSV field, quoted when it holds a comma, quote or line break (RFC 4180).
// Reads --where and --order-by into the query; false (and a usage error)
// when they do not parse.
bool FilterAndOrder(const RunsOptions& options, runtime::RunQuery& query, int& exit_code) {
  if (!options.where.empty()) {
    auto conditions = runtime::ParseRunFilter(options.where);
    if (!conditions.ok()) {
      std::fprintf(stderr, "amlc: error: --where: %s\n", conditions.status().message().c_str());
      exit_code = kExitUsage;
      return false;
    }
    query.conditions = *conditions;
  }
  if (!options.order_by.empty()) {
    auto order = runtime::ParseRunOrder(options.order_by);
    if (!order.ok()) {
      std::fprintf(stderr, "amlc: error: --order-by: %s\n", order.status().message().c_str());
      exit_code = kExitUsage;
      return false;
    }
    query.order = *order;
  }
  return true;
}

void RunsList(const RunsOptions& options, int& exit_code) {
  auto workspace = OpenWorkspace(options, exit_code);
  if (!workspace) return;
  runtime::RunQuery query;
  query.experiment = options.experiment;
  if (!options.status.empty()) {
    query.status = runtime::ParseRunStatus(options.status);
    if (!query.status) {
      std::fprintf(stderr, "amlc: error: unknown status '%s' (Queued, Running, Completed, Failed, Canceled)\n",
                   options.status.c_str());
      exit_code = kExitUsage;
      return;
    }
  }
  if (!FilterAndOrder(options, query, exit_code)) return;
  auto runs = workspace->state().ListRuns(query);
  if (!runs.ok()) {
    std::fprintf(stderr, "amlc: error: %s\n", runs.status().message().c_str());
    exit_code = kExitSpecErrors;
    return;
  }
  exit_code = kExitOk;
  if (std::string format = ListFormat(options.format, options.json_output); format != "table") {
    json out = json::array();
    for (const RunRecord& run : runs.value()) out.push_back(runtime::RunJson(*workspace, run));
    return PrintList(out, kRunListColumns, format);
  }
  std::printf("%-40s %-14s %-10s %-20s %8s  %s\n", "RUN", "EXPERIMENT", "STATUS", "STARTED", "DURATION", "METRICS");
  for (const RunRecord& run : runs.value()) {
    std::string metrics;
    if (auto latest = workspace->state().LatestMetrics(run.id); latest.ok()) {
      for (const auto& point : latest.value()) {
        metrics += (metrics.empty() ? "" : " ") + point.name + "=" + MetricText(point);
      }
    }
    std::printf("%-40s %-14s %-10s %-20s %8s  %s\n", run.id.c_str(), run.experiment.c_str(),
                runtime::RunStatusName(run.status), Time(run.started_at).c_str(), runtime::RunDuration(run).c_str(),
                metrics.c_str());
  }
}

std::optional<RunRecord> FindRun(runtime::Workspace& workspace, const std::string& id, int& exit_code) {
  auto run = workspace.state().GetRun(id);
  if (!run.ok() || !run.value()) {
    std::fprintf(stderr, "amlc: error: no run '%s' in this workspace\n", id.c_str());
    exit_code = kExitUsage;
    return std::nullopt;
  }
  return *run.value();
}

void RunsShow(const RunsOptions& options, int& exit_code) {
  auto workspace = OpenWorkspace(options, exit_code);
  if (!workspace) return;
  auto run = FindRun(*workspace, options.run_id, exit_code);
  if (!run) return;
  exit_code = kExitOk;
  json out = runtime::RunWithChildrenJson(*workspace, *run);
  if (options.json_output) {
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  PrintRunDetails(out);
}

}  // namespace

void PrintRunDetails(const nlohmann::json& run) {
  for (auto& [key, value] : run.items()) {
    if (value.is_object()) {  // params, tags, metrics, inputs, outputs: one line each
      std::printf("%s%s\n", (key + ":").c_str(), value.empty() ? " -" : "");
      for (auto& [name, item] : value.items()) {
        std::printf("  %-28s %s\n", name.c_str(), item.is_string() ? item.get<std::string>().c_str() : item.dump().c_str());
      }
      continue;
    }
    std::printf("%-11s %s\n", (key + ":").c_str(), value.is_string() ? value.get<std::string>().c_str() : value.dump().c_str());
  }
}

namespace {

void RunsLogs(const RunsOptions& options, int& exit_code) {
  auto workspace = OpenWorkspace(options, exit_code);
  if (!workspace) return;
  auto run = FindRun(*workspace, options.run_id, exit_code);
  if (!run) return;
  exit_code = kExitOk;
  std::string path = workspace->run_dir(run->id) + "/output.log";
  std::ifstream in(path, std::ios::binary);
  std::string line;
  while (true) {
    while (std::getline(in, line)) std::printf("%s\n", line.c_str());
    std::fflush(stdout);
    if (!options.follow) return;
    auto now = workspace->state().GetRun(run->id);
    if (now.ok() && now.value() && now.value()->status != runtime::RunStatus::kRunning &&
        now.value()->status != runtime::RunStatus::kQueued) {
      return;
    }
    in.clear();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

void RunsCancel(const RunsOptions& options, int& exit_code) {
  auto workspace = OpenWorkspace(options, exit_code);
  if (!workspace) return;
  Status status = runtime::CancelRunOnItsTarget(*workspace, options.run_id, "canceled by amlc runs cancel");
  if (!status.ok()) {
    std::fprintf(stderr, "amlc: error: %s\n", status.message().c_str());
    exit_code = status.code() == StatusCode::kNotFound ? kExitUsage : kExitSpecErrors;
    return;
  }
  std::printf("canceled %s\n", options.run_id.c_str());
  exit_code = kExitOk;
}

void Metrics(const RunsOptions& options, int& exit_code) {
  auto workspace = OpenWorkspace(options, exit_code);
  if (!workspace) return;
  if (!FindRun(*workspace, options.run_id, exit_code)) return;
  if (std::string format = ListFormat(options.format, options.json_output); format != "table") {
    auto out = runtime::MetricPointsJson(workspace->state(), options.run_id, options.metric);
    if (!out.ok()) {
      std::fprintf(stderr, "amlc: error: %s\n", out.status().message().c_str());
      exit_code = kExitSpecErrors;
      return;
    }
    exit_code = kExitOk;
    // JSON as written, one point per line (a run may have millions); the
    // other formats go through the list printer.
    if (format == "json") {
      std::printf("%s\n", out->c_str());
      return;
    }
    return PrintList(nlohmann::json::parse(*out), kMetricColumns, format);
  }
  if (options.csv) {
    auto csv = runtime::MetricPointsCsv(workspace->state(), options.run_id, options.metric);
    if (!csv.ok()) {
      std::fprintf(stderr, "amlc: error: %s\n", csv.status().message().c_str());
      exit_code = kExitSpecErrors;
      return;
    }
    exit_code = kExitOk;
    std::fputs(csv->c_str(), stdout);
    return;
  }
  auto points = workspace->state().Metrics(options.run_id, options.metric);
  if (!points.ok()) {
    std::fprintf(stderr, "amlc: error: %s\n", points.status().message().c_str());
    exit_code = kExitSpecErrors;
    return;
  }
  exit_code = kExitOk;
  std::printf("%-24s %8s  %-14s %s\n", "NAME", "STEP", "VALUE", "TIME");
  for (const auto& p : points.value()) {
    std::printf("%-24s %8lld  %-14s %s\n", p.name.c_str(), static_cast<long long>(p.step), MetricText(p).c_str(),
                Time(p.timestamp).c_str());
  }
}

void RunsCompare(const RunsOptions& options, int& exit_code) {
  auto workspace = OpenWorkspace(options, exit_code);
  if (!workspace) return;
  std::vector<json> runs;
  for (const std::string& id : options.compare) {
    auto run = FindRun(*workspace, id, exit_code);
    if (!run) return;
    runs.push_back(runtime::RunJson(*workspace, *run));
  }
  exit_code = kExitOk;
  PrintRunComparison(runs, options.json_output, options.only_diff);
}

}  // namespace

// From RunJson objects, so `runs compare --server` prints the same.
void PrintRunComparison(const std::vector<json>& runs, bool json_output, bool only_diff) {
  if (json_output) {
    std::printf("%s\n", json(runs).dump(2).c_str());
    return;
  }
  // Rows: status, duration, snapshot, then every param, tag and metric any
  // of the runs has ("-" where a run lacks it).
  std::vector<std::pair<std::string, std::function<json(const json&)>>> rows = {
      {"status", [](const json& r) { return r["status"]; }},
      {"duration", [](const json& r) { return r["duration"]; }},
      {"snapshot", [](const json& r) { return json(r["snapshot"].get<std::string>().substr(0, 12)); }}};
  for (const char* section : {"params", "tags", "metrics"}) {
    std::set<std::string> names;
    for (const json& r : runs) {
      for (auto& [name, value] : r[section].items()) names.insert(name);
    }
    for (const std::string& name : names) {
      rows.push_back({std::string(section) + "." + name, [section, name](const json& r) {
                        return r[section].contains(name) ? r[section][name] : json("-");
                      }});
    }
  }
  if (only_diff) {
    std::erase_if(rows, [&](const auto& row) {
      for (const json& r : runs) {
        if (row.second(r) != row.second(runs.front())) return false;
      }
      return true;
    });
  }
  std::printf("%-24s", "");
  for (const json& r : runs) std::printf(" %-34s", r["id"].get<std::string>().c_str());
  std::printf("\n");
  for (const auto& [label, cell] : rows) {
    std::printf("%-24s", label.c_str());
    for (const json& r : runs) {
      json value = cell(r);
      std::string text = value.is_string() ? value.get<std::string>() : value.dump();
      if (text.size() > 34) text = text.substr(0, 31) + "...";
      std::printf(" %-34s", text.c_str());
    }
    std::printf("\n");
  }
}

namespace {

void RunsSnapshot(const RunsOptions& options, int& exit_code) {
  auto workspace = OpenWorkspace(options, exit_code);
  if (!workspace) return;
  auto run = FindRun(*workspace, options.run_id, exit_code);
  if (!run) return;
  if (run->snapshot_digest.empty()) {
    std::fprintf(stderr, "amlc: error: run '%s' has no code snapshot (its job has no code folder)\n",
                 run->id.c_str());
    exit_code = kExitSpecErrors;
    return;
  }
  if (options.list_files) {
    auto snapshot = workspace->snapshots().Load(run->snapshot_digest);
    if (!snapshot.ok()) {
      std::fprintf(stderr, "amlc: error: %s\n", snapshot.status().message().c_str());
      exit_code = kExitSpecErrors;
      return;
    }
    for (const runtime::SnapshotFile& file : snapshot->files) {
      std::printf("%s %10llu  %s\n", file.digest.substr(0, 12).c_str(),
                  static_cast<unsigned long long>(file.size), file.path.c_str());
    }
    exit_code = kExitOk;
    return;
  }
  if (options.output.empty()) {
    std::fprintf(stderr, "amlc: error: give -o FILE.zip, or --list\n");
    exit_code = kExitUsage;
    return;
  }
  Status status = workspace->snapshots().ExportZip(run->snapshot_digest, options.output);
  if (!status.ok()) {
    std::fprintf(stderr, "amlc: error: %s\n", status.message().c_str());
    exit_code = kExitSpecErrors;
    return;
  }
  auto snapshot = workspace->snapshots().Load(run->snapshot_digest);
  std::printf("%s: %zu files of run %s (snapshot %s)\n", options.output.c_str(),
              snapshot.ok() ? snapshot->files.size() : 0, run->id.c_str(), run->snapshot_digest.substr(0, 12).c_str());
  exit_code = kExitOk;
}

void RunsImport(const RunsOptions& options, int& exit_code) {
  std::string home = runtime::DefaultWorkspaceHome(".", options.workspace);
  auto workspace = runtime::Workspace::Open(home);
  if (!workspace.ok()) {
    std::fprintf(stderr, "amlc: error: %s\n", workspace.status().message().c_str());
    exit_code = kExitSpecErrors;
    return;
  }
  PrintWorkspaceNotes(*workspace.value());
  if (!RequireRole(*workspace.value(), WorkspaceRole::kContributor, "importing runs", exit_code)) return;
  auto imported = runtime::ImportMlruns(*workspace.value(), options.import_dir);
  if (!imported.ok()) {
    std::fprintf(stderr, "amlc: error: %s\n", imported.status().message().c_str());
    exit_code = imported.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitSpecErrors;
    return;
  }
  const runtime::MlrunsImport& done = imported.value();
  for (const std::string& warning : done.warnings) std::fprintf(stderr, "amlc: warning: %s\n", warning.c_str());
  exit_code = kExitOk;
  if (options.json_output) {
    json out = {{"experiments", done.experiments}, {"runs", done.runs}, {"already_there", done.already_there},
                {"metric_points", done.metric_points}, {"params", done.params}, {"tags", done.tags},
                {"artifact_files", done.artifact_files}, {"warnings", done.warnings}};
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  std::printf("Imported %d runs of %d experiments from %s: %d metric points, %d params, %d tags, %d artifact files",
              done.runs, done.experiments, options.import_dir.c_str(), done.metric_points, done.params, done.tags,
              done.artifact_files);
  std::printf(done.already_there ? " (%d runs were already in the workspace)\n" : "\n", done.already_there);
}

void Activities(const RunsOptions& options, int& exit_code) {
  auto workspace = OpenWorkspace(options, exit_code);
  if (!workspace) return;
  auto activities = workspace->state().ListActivities(options.limit);
  if (!activities.ok()) {
    std::fprintf(stderr, "amlc: error: %s\n", activities.status().message().c_str());
    exit_code = kExitSpecErrors;
    return;
  }
  exit_code = kExitOk;
  json out = json::array();
  for (const auto& a : activities.value()) out.push_back(runtime::ActivityJson(a));
  if (std::string format = ListFormat(options.format, options.json_output); format != "table") {
    return PrintList(out, kActivityColumns, format);
  }
  PrintActivityTable(out);
}

}  // namespace

// From the JSON rows, so `activities --server` prints the same table.
void PrintActivityTable(const json& activities) {
  std::printf("%-6s %-8s %-32s %-11s %-20s %8s  %s\n", "ID", "KIND", "RESOURCE", "STATUS", "STARTED", "TOOK", "MESSAGE");
  for (const json& a : activities) {
    std::string message = a.value("message", "");
    message = message.substr(0, message.find('\n'));
    std::printf("%-6lld %-8s %-32s %-11s %-20s %8s  %s\n", a.value("id", 0LL), a.value("kind", "").c_str(),
                a.value("resource", "").c_str(), a.value("status", "").c_str(), a.value("started_at", "").c_str(),
                a.value("took", "-").c_str(), message.c_str());
  }
}

void AddRunsCommands(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<RunsOptions>();
  CLI::App* runs = app.add_subcommand("runs", "Query runs: list, show, logs, download, cancel");
  runs->require_subcommand(1);
  auto common = [&](CLI::App* command) {
    command->add_option("--workspace", options->workspace, "Workspace home (default: $AMLC_WORKSPACE, else ./.amlc)");
    command->add_flag("--json", options->json_output, "Print JSON");
  };
  CLI::App* list = runs->add_subcommand("list", "List runs, newest first");
  common(list);
  list->add_option("--experiment", options->experiment, "Only this experiment's runs");
  list->add_option("--status", options->status, "Only runs with this status");
  list->add_option("--where", options->where,
                   "Only runs matching every condition (MLflow's search syntax): \"metrics.accuracy > 0.9 and "
                   "params.alpha = 0.5 and tags.dataset = diabetes and attributes.status = Completed\"");
  list->add_option("--order-by", options->order_by,
                   "Order by a metric, param, tag or attribute: \"metrics.accuracy desc\", \"params.alpha\"");
  AddListFormatOption(list, options->format);
  list->callback([options, &exit_code] { RunsList(*options, exit_code); });
  CLI::App* show = runs->add_subcommand("show", "A run's metadata, parameters, metrics and outputs");
  common(show);
  show->add_option("run", options->run_id, "Run id")->required();
  show->callback([options, &exit_code] { RunsShow(*options, exit_code); });
  CLI::App* logs = runs->add_subcommand("logs", "A run's output (stdout and stderr)");
  common(logs);
  logs->add_option("run", options->run_id, "Run id")->required();
  logs->add_flag("-f,--follow", options->follow, "Keep printing until the run ends");
  logs->callback([options, &exit_code] { RunsLogs(*options, exit_code); });
  CLI::App* cancel = runs->add_subcommand("cancel", "End a running run's whole process group");
  common(cancel);
  cancel->add_option("run", options->run_id, "Run id")->required();
  cancel->callback([options, &exit_code] { RunsCancel(*options, exit_code); });

  CLI::App* compare = runs->add_subcommand("compare", "Runs side by side: status, params, tags, metrics");
  common(compare);
  compare->add_option("runs", options->compare, "Run ids")->required()->expected(2, 64);
  compare->add_flag("--only-diff", options->only_diff, "Only the rows where the runs differ");
  compare->callback([options, &exit_code] { RunsCompare(*options, exit_code); });

  CLI::App* import = runs->add_subcommand("import", "Import an MLflow file store (an mlruns/ folder): runs, "
                                                   "metrics, params, tags and artifacts");
  common(import);
  import->add_option("dir", options->import_dir, "The mlruns/ folder")->required()->check(CLI::ExistingDirectory);
  import->callback([options, &exit_code] { RunsImport(*options, exit_code); });

  CLI::App* snapshot = runs->add_subcommand("snapshot", "A run's code snapshot as a zip file");
  common(snapshot);
  snapshot->add_option("run", options->run_id, "Run id")->required();
  snapshot->add_option("-o,--output", options->output, "Zip file to write");
  snapshot->add_flag("--list", options->list_files, "List the snapshot's files instead");
  snapshot->callback([options, &exit_code] { RunsSnapshot(*options, exit_code); });

  AddRunsDownloadCommand(runs, exit_code);

  CLI::App* activities = app.add_subcommand("activities", "Long actions (create, run, delete) and how they went");
  common(activities);
  activities->add_option("--limit", options->limit, "How many, newest first")->capture_default_str();
  AddListFormatOption(activities, options->format);
  activities->callback([options, &exit_code] { Activities(*options, exit_code); });

  CLI::App* metrics = app.add_subcommand("metrics", "A run's logged metrics");
  common(metrics);
  metrics->add_option("run", options->run_id, "Run id")->required();
  metrics->add_option("--name", options->metric, "Only this metric");
  metrics->add_flag("--csv", options->csv, "Print CSV");
  AddListFormatOption(metrics, options->format);
  metrics->callback([options, &exit_code] { Metrics(*options, exit_code); });
}

}  // namespace amlc::cli
