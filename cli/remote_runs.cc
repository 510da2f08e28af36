// The runs family against a workspace server: runs list|show|logs|cancel,
// metrics, activities. Each prints what its local twin in runs_commands.cc
// prints, from the same JSON the server answers with.

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/lineage_command.h"
#include "cli/output.h"
#include "cli/remote_commands.h"
#include "cli/runs_commands.h"
#include "runtime/views/record_json.h"

namespace amlc::cli {

namespace {

using nlohmann::json;

std::string RunPath(const CLI::App& command) { return "/api/v1/runs/" + QueryValue(OptionText(command, "run")); }

// A latest metric as the local table shows it: its text, or the value to 4 digits.
std::string MetricText(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", value.is_number() ? value.get<double>() : 0.0);
  return text;
}

std::string Text(const json& value) { return value.is_string() ? value.get<std::string>() : value.dump(); }

int RunsList(const ServerClient& server, const CLI::App& command) {
  std::string query = "limit=1000";
  for (const char* name : {"experiment", "status", "where", "order_by"}) {
    std::string flag = std::string("--") + name;
    if (flag == "--order_by") flag = "--order-by";
    if (std::string value = OptionText(command, flag); !value.empty()) query += "&" + std::string(name) + "=" + QueryValue(value);
  }
  json runs = json::array();
  std::string cursor;
  do {  // every page, as the local list shows every run
    ServerAnswer answer = server.Get("/api/v1/runs?" + query + (cursor.empty() ? "" : "&cursor=" + cursor));
    if (!answer.ok()) return ReportServerFailure(server.target(), answer);
    json page = json::parse(answer.body, nullptr, false);
    if (!page.is_array()) {
      PrintError(server.target().url + " sent a run list that is not a JSON array");
      return kExitSpecErrors;
    }
    for (json& run : page) runs.push_back(std::move(run));
    cursor = answer.headers.count("x-next-cursor") ? answer.headers["x-next-cursor"] : "";
  } while (!cursor.empty());
  if (std::string format = OutputFormat(command); format != "table") {
    PrintList(runs, kRunListColumns, format);
    return kExitOk;
  }
  std::printf("%-40s %-14s %-10s %-20s %8s  %s\n", "RUN", "EXPERIMENT", "STATUS", "STARTED", "DURATION", "METRICS");
  for (const json& run : runs) {
    std::string metrics;
    for (const auto& [name, value] : run["metrics"].items()) {
      metrics += (metrics.empty() ? "" : " ") + name + "=" + MetricText(value);
    }
    std::printf("%-40s %-14s %-10s %-20s %8s  %s\n", Text(run["id"]).c_str(), Text(run["experiment"]).c_str(),
                Text(run["status"]).c_str(), Text(run["started_at"]).c_str(), Text(run["duration"]).c_str(),
                metrics.c_str());
  }
  return kExitOk;
}

int RunsShow(const ServerClient& server, const CLI::App& command) {
  int exit_code = kExitOk;
  std::optional<json> run = GetJson(server, RunPath(command), exit_code);
  if (!run) return exit_code;
  if (OptionFlag(command, "--json")) {
    PrintJson(*run);
  } else {
    PrintRunDetails(*run);
  }
  return kExitOk;
}

int RunsLogs(const ServerClient& server, const CLI::App& command) {
  bool follow = OptionFlag(command, "--follow");
  ServerAnswer answer = server.Stream(RunPath(command) + "/logs" + (follow ? "?follow=true" : ""),
                                      [](const char* data, size_t size) {
                                        std::fwrite(data, 1, size, stdout);
                                        std::fflush(stdout);
                                        return true;
                                      });
  return answer.ok() ? kExitOk : ReportServerFailure(server.target(), answer);
}

int RunsCancel(const ServerClient& server, const CLI::App& command) {
  ServerAnswer answer = server.Post(RunPath(command) + "/cancel", "{}");
  if (!answer.ok()) return ReportServerFailure(server.target(), answer);
  std::printf("canceled %s\n", OptionText(command, "run").c_str());
  return kExitOk;
}

int Metrics(const ServerClient& server, const CLI::App& command) {
  std::string name = OptionText(command, "--name");
  std::string path = RunPath(command) + "/metrics" + (name.empty() ? "" : "?name=" + QueryValue(name));
  if (OptionFlag(command, "--csv") && OutputFormat(command) == "table") {  // as written by the server: exact values, nan and inf included
    ServerAnswer answer = server.Get(path + (name.empty() ? "?" : "&") + "format=csv");
    if (!answer.ok()) return ReportServerFailure(server.target(), answer);
    std::fputs(answer.body.c_str(), stdout);
    return kExitOk;
  }
  if (std::string format = OutputFormat(command); format == "json") {
    // The server writes the points as the local command does, one per line;
    // printed as sent, a million points need no DOM here either.
    ServerAnswer answer = server.Get(path);
    if (!answer.ok()) return ReportServerFailure(server.target(), answer);
    std::printf("%s\n", answer.body.c_str());
    return kExitOk;
  }
  int exit_code = kExitOk;
  std::optional<json> points = GetJson(server, path, exit_code);
  if (!points) return exit_code;
  if (std::string format = OutputFormat(command); format != "table") {
    PrintList(*points, kMetricColumns, format);
    return kExitOk;
  }
  std::printf("%-24s %8s  %-14s %s\n", "NAME", "STEP", "VALUE", "TIME");
  for (const json& p : *points) {
    std::printf("%-24s %8lld  %-14s %s\n", Text(p["name"]).c_str(), p["step"].get<long long>(),
                MetricText(p["value"]).c_str(), runtime::DisplayTime(p["timestamp"].get<int64_t>()).c_str());
  }
  return kExitOk;
}

int RunsCompare(const ServerClient& server, const CLI::App& command) {
  std::vector<json> runs;
  for (const std::string& id : OptionList(command, "runs")) {
    int exit_code = kExitOk;
    std::optional<json> run = GetJson(server, "/api/v1/runs/" + QueryValue(id), exit_code);
    if (!run) return exit_code;
    run->erase("children");  // the route adds them to RunJson; compare shows RunJson
    runs.push_back(std::move(*run));
  }
  PrintRunComparison(runs, OptionFlag(command, "--json"), OptionFlag(command, "--only-diff"));
  return kExitOk;
}

int Lineage(const ServerClient& server, const CLI::App& command) {
  int exit_code = kExitOk;
  std::optional<json> chain =
      GetJson(server, "/api/v1/lineage?start=" + QueryValue(OptionText(command, "start")), exit_code);
  if (!chain) return exit_code;
  PrintLineageAs(*chain, OptionFlag(command, "--json"));
  return kExitOk;
}

int Activities(const ServerClient& server, const CLI::App& command) {
  int exit_code = kExitOk;
  std::optional<json> activities =
      GetJson(server, "/api/v1/activities?limit=" + QueryValue(OptionText(command, "--limit")), exit_code);
  if (!activities) return exit_code;
  if (std::string format = OutputFormat(command); format != "table") {
    PrintList(*activities, kActivityColumns, format);
    return kExitOk;
  }
  PrintActivityTable(*activities);
  return kExitOk;
}

}  // namespace

std::map<std::string, RemoteCommand> RemoteRunsCommands() {
  return {{"runs list", RunsList}, {"runs show", RunsShow},   {"runs logs", RunsLogs},
          {"runs cancel", RunsCancel}, {"metrics", Metrics}, {"activities", Activities},
          {"runs compare", RunsCompare}, {"lineage", Lineage}};
}

}  // namespace amlc::cli
