// The workspace API's `runs list` with a metric filter over a workspace of
// many runs (GET /api/v1/runs?where=metrics.accuracy > T&limit=1000), p50 and
// p99 of repeated calls to a real server on loopback, beside the baseline
// measured in the same run on the same workspace: the CLI's local query of the
// same filter (`amlc runs list --where … --json`, a process per call), and, as
// a floor, the state store's query alone (StateStore::ListRuns in this
// process, with the API's limit). Two filters: one matching fewer runs than
// the limit (the bodies are equal), one matching 10% of them (the API answers
// its first page of 1,000, the CLI prints every match).
//
//   runs_api_bench [--runs N] [--calls C] [--amlc PATH] [--dir DIR]
//
// Exit status: 0 whatever the timings; 1 if the workspace cannot be made, the
// server does not answer 200 or its body differs from the CLI's output; 2 on
// a usage error.

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "base/clock.h"
#include "runtime/state/run_filter.h"
#include "runtime/state/server_records.h"
#include "runtime/workspace/identity.h"
#include "runtime/workspace/workspace.h"
#include "server/workspace_server.h"

namespace {

namespace fs = std::filesystem;
using amlc::Status;
using amlc::runtime::MetricPoint;
using amlc::runtime::RunRecord;

struct Options {
  int runs = 100'000;
  int calls = 30;
  std::string amlc = "build/cli/amlc";
  std::string dir;  // "" = a fresh folder under the system temp folder
};

// About 0.4% of the runs match: every run is looked at, a few hundred come
// back. Then 10%: more than a page.
constexpr const char* kFilters[] = {"metrics.accuracy > 0.996", "metrics.accuracy > 0.9"};
constexpr int kLimit = 1000;

bool Check(const Status& status, const char* what) {
  if (status.ok()) return true;
  std::fprintf(stderr, "runs_api_bench: %s: %s\n", what, status.message().c_str());
  return false;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// `runs` Completed runs, each with an accuracy and a loss, made through the
// state store as a run's ingestion makes them.
bool FillWorkspace(amlc::runtime::StateStore& state, int runs) {
  if (!Check(state.EnsureExperiment("bench"), "making the experiment")) return false;
  std::vector<MetricPoint> points;
  for (int i = 0; i < runs; ++i) {
    RunRecord run;
    run.id = "train-" + std::to_string(1'000'000 + i);
    run.experiment = "bench";
    run.job_id = "job/train";
    run.status = amlc::runtime::RunStatus::kCompleted;
    run.compute = "local";
    run.created_at = run.started_at = 1'700'000'000'000 + i * 1000LL;
    run.ended_at = run.created_at + 500;
    if (!Check(state.InsertRun(run), "recording a run")) return false;
    double accuracy = static_cast<double>((i * 7919LL) % runs) / runs;  // spread evenly over [0, 1)
    points.push_back({run.id, "accuracy", 0, accuracy, "", run.ended_at});
    points.push_back({run.id, "loss", 0, 1 - accuracy, "", run.ended_at});
    if (points.size() >= 10'000 || i + 1 == runs) {
      if (!Check(state.AppendMetrics(points), "storing metrics")) return false;
      points.clear();
    }
  }
  return true;
}

struct Timings {
  std::vector<double> seconds;
  double Percentile(double p) {
    std::sort(seconds.begin(), seconds.end());
    size_t at = static_cast<size_t>(p * static_cast<double>(seconds.size() - 1) + 0.5);
    return seconds[at];
  }
};

std::string ShellQuote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The CLI's output for the filter, timed; "" when it failed.
std::string CliList(const std::string& amlc, const char* filter, const std::string& home, double& seconds) {
  std::string command = ShellQuote(amlc) + " runs list --where " + ShellQuote(filter) +
                        " --json --workspace " + ShellQuote(home);
  auto start = std::chrono::steady_clock::now();
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return "";
  std::string out;
  char buffer[65536];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  int status = pclose(pipe);
  seconds = Seconds(start);
  return status == 0 ? out : "";
}

bool ParseArgs(int argc, char** argv, Options& options) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--runs") options.runs = std::atoi(argv[i + 1]);
    else if (flag == "--calls") options.calls = std::atoi(argv[i + 1]);
    else if (flag == "--amlc") options.amlc = argv[i + 1];
    else if (flag == "--dir") options.dir = argv[i + 1];
    else return false;
  }
  return argc % 2 == 1 && options.runs > 0 && options.calls > 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!ParseArgs(argc, argv, options)) {
    std::fprintf(stderr, "usage: runs_api_bench [--runs N] [--calls C] [--amlc PATH] [--dir DIR]\n");
    return 2;
  }
  std::string home = options.dir.empty() ? (fs::temp_directory_path() / ("amlc-runs-api-bench-" +
                                                                         std::to_string(getpid()))).string()
                                         : options.dir;
  std::error_code ignored;
  fs::remove_all(home, ignored);
  auto workspace = amlc::runtime::Workspace::Open(home);
  if (!workspace.ok() || !Check(workspace.status(), "opening the workspace")) return 1;
  auto fill_start = std::chrono::steady_clock::now();
  if (!FillWorkspace((*workspace)->state(), options.runs)) return 1;
  std::printf("workspace: %d runs, 2 metrics each, made in %.1f s (%s)\n", options.runs, Seconds(fill_start),
              home.c_str());

  // A private copy of the CLI, so a rebuild during the run cannot swap it.
  std::string amlc = home + ".amlc";
  fs::copy_file(options.amlc, amlc, fs::copy_options::overwrite_existing, ignored);
  if (ignored) {
    std::fprintf(stderr, "runs_api_bench: cannot copy %s: %s\n", options.amlc.c_str(), ignored.message().c_str());
    return 1;
  }

  auto records = amlc::runtime::ServerRecords::Open(amlc::runtime::StateStorePath(home));
  if (!records.ok() || !Check((*records)->AddUser({"bench", "reader", amlc::NowMillis()}), "adding a user")) return 1;
  auto token = amlc::runtime::IssueToken(**records, "bench", "bench", 0, amlc::NowMillis());
  if (!token.ok()) return 1;
  amlc::server::WorkspaceServer server({home, "", "", 4});
  if (!Check(server.Start("127.0.0.1", 0), "starting the server")) return 1;
  httplib::Client client("127.0.0.1", server.port());
  client.set_read_timeout(600, 0);
  client.set_bearer_token_auth(token->secret);

  std::printf("%d calls each, interleaved; the API's limit is %d\n", options.calls, kLimit);
  std::printf("%-30s %8s %10s %10s\n", "", "runs", "p50 ms", "p99 ms");
  using nlohmann::json;
  for (const char* filter : kFilters) {
    std::string path = "/api/v1/runs?limit=" + std::to_string(kLimit) +
                       "&where=" + httplib::detail::encode_query_param(filter);
    auto conditions = amlc::runtime::ParseRunFilter(filter);
    amlc::runtime::RunQuery query;
    query.conditions = *conditions;
    query.limit = kLimit + 1;  // as the API asks: one more, to know of a next page
    Timings api, cli, store;
    std::string api_body, cli_body;
    size_t matched = 0;
    // Interleaved, so a burst of load elsewhere on the machine hits all three alike.
    for (int call = 0; call < options.calls; ++call) {
      auto start = std::chrono::steady_clock::now();
      auto answer = client.Get(path);
      api.seconds.push_back(Seconds(start));
      if (!answer || answer->status != 200) {
        std::fprintf(stderr, "runs_api_bench: GET %s: %s\n", path.c_str(), answer ? answer->body.c_str() : "no answer");
        return 1;
      }
      api_body = answer->body;
      double cli_seconds = 0;
      cli_body = CliList(amlc, filter, home, cli_seconds);
      if (cli_body.empty()) {
        std::fprintf(stderr, "runs_api_bench: amlc runs list --where '%s' failed\n", filter);
        return 1;
      }
      cli.seconds.push_back(cli_seconds);
      start = std::chrono::steady_clock::now();
      auto runs = (*workspace)->state().ListRuns(query);
      store.seconds.push_back(Seconds(start));
      if (!runs.ok()) return 1;
    }
    // The API's body is the first page of `runs list --json`'s array (the CLI indents it).
    json api_runs = json::parse(api_body, nullptr, false);
    json cli_runs = json::parse(cli_body, nullptr, false);
    matched = cli_runs.is_array() ? cli_runs.size() : 0;
    json cli_page = json::array();
    for (size_t i = 0; i < matched && i < static_cast<size_t>(kLimit); ++i) cli_page.push_back(cli_runs[i]);
    if (api_runs != cli_page) {
      std::fprintf(stderr, "runs_api_bench: the API's body (%zu bytes) differs from the CLI's output's first page\n",
                   api_body.size());
      return 1;
    }
    double api50 = api.Percentile(0.5), api99 = api.Percentile(0.99);
    double cli50 = cli.Percentile(0.5), cli99 = cli.Percentile(0.99);
    double store50 = store.Percentile(0.5), store99 = store.Percentile(0.99);
    std::printf("where %s: %zu runs match\n", filter, matched);
    std::printf("  %-28s %8zu %10.1f %10.1f\n", "API GET /api/v1/runs", api_runs.size(), api50 * 1e3, api99 * 1e3);
    std::printf("  %-28s %8zu %10.1f %10.1f\n", "baseline: amlc runs list", matched, cli50 * 1e3, cli99 * 1e3);
    std::printf("  %-28s %8zu %10.1f %10.1f\n", "floor: StateStore::ListRuns", std::min<size_t>(matched, kLimit + 1),
                store50 * 1e3, store99 * 1e3);
    std::printf("  api/cli: p50 %.2f, p99 %.2f;  api/store: p50 %.2f\n", api50 / cli50, api99 / cli99,
                api50 / store50);
  }
  server.Stop();
  fs::remove(amlc, ignored);
  if (options.dir.empty()) fs::remove_all(home, ignored);
  return 0;
}
