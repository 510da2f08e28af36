// `amlc reconcile` (the GitOps loop), `amlc status` (what it reports) and
// `amlc preview` (a pull request's plan as a markdown comment).
#include "cli/reconcile_commands.h"

#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/clock.h"
#include "base/duration.h"
#include "base/time.h"
#include "cli/output.h"
#include "cli/reconciler_client.h"
#include "base/digest.h"
#include "reconciler/loop/preview_commit.h"
#include "runtime/state/server_records.h"
#include "reconciler/loop/reconciler.h"
#include "reconciler/server/api_server.h"
#include "runtime/workspace/secret_store.h"

namespace amlc::cli {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct ReconcileFlags {
  reconciler::ReconcileOptions options;
  std::string interval;
  std::string listen;
  bool no_self_heal = false;
  bool no_auto_sync = false;
  bool prune = false;
  bool once = false;
  bool json = false;  // --once --json: the pass's outcome as JSON on stdout, the log on stderr
  std::string webhook_secret_env = "AMLC_WEBHOOK_SECRET";
  std::string forge_token_secret;
  std::string api_token_file;  // else $AMLC_RECONCILER_TOKEN
  std::string tls_cert;
  std::string tls_key;
};


struct PreviewFlags {
  std::string repository;
  std::string base = "main";
  std::string head;
  std::string path = ".";
  std::string data_dir;
  std::string workspace;
  std::string format = "markdown";
  std::string name;  // owner/name shown in the comment
  int64_t pull_request = 0;
};

void Fail(int& exit_code, int code, const std::string& message) {
  std::fprintf(stderr, "amlc: error: %s\n", message.c_str());
  exit_code = code;
}

// Where the reconciler of a repository keeps its mirror and workspace unless
// told: one folder per repository, branch and path, never inside the repository.
std::string DefaultDataDir(const std::string& repository, const std::string& branch, const std::string& path) {
  const char* xdg = std::getenv("XDG_DATA_HOME");
  const char* home = std::getenv("HOME");
  fs::path base = xdg && *xdg ? fs::path(xdg) : fs::path(home ? home : ".") / ".local/share";
  std::string source = fs::exists(repository) ? fs::absolute(repository).lexically_normal().string() : repository;
  std::string name = fs::path(source).filename().string();
  if (name.empty()) name = "repository";
  return (base / "amlc/reconciler" / (name + "-" + Sha256Hex(source + "\n" + branch + "\n" + path).substr(0, 8)))
      .string();
}

// "127.0.0.1:8787" -> host and port (an explicit host: there is no default address).
bool ParseListen(const std::string& listen, std::string& host, int& port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::string digits = listen.substr(colon + 1);
  if (digits.empty() || digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string::npos) return false;
  port = std::stoi(digits);
  return port < 65536;
}

std::string Timestamp() { return FormatUtcTime(NowMillis(), "%Y-%m-%dT%H:%M:%SZ"); }

// Stops the loop on SIGTERM or SIGINT: the first lets the pass in flight
// finish (its journal lets an interrupted one resume anyway), a second exits
// at once. The handler only writes a byte to a pipe (async-signal-safe); a
// watcher thread reads it and asks the loop to stop. Handlers, unlike a
// blocked signal mask, are reset when a run's process execs, so runs and
// endpoint hosts still get SIGTERM normally.
int g_signal_pipe[2] = {-1, -1};
volatile sig_atomic_t g_signaled = 0;

void OnStopSignal(int) {
  if (g_signaled) _exit(130);
  g_signaled = 1;
  char byte = 's';
  ssize_t ignored = write(g_signal_pipe[1], &byte, 1);
  (void)ignored;
}

class StopOnSignal {
 public:
  StopOnSignal(reconciler::Reconciler& loop, std::function<void(const std::string&)> log) {
    if (pipe(g_signal_pipe) != 0) return;
    struct sigaction action = {};
    action.sa_handler = OnStopSignal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGTERM, &action, nullptr);
    sigaction(SIGINT, &action, nullptr);
    watcher_ = std::thread([&loop, log] {
      char byte = 0;
      if (read(g_signal_pipe[0], &byte, 1) != 1 || byte != 's') return;  // 'q': the loop ended by itself
      log("stopping after the pass in flight (signal again to stop at once)");
      loop.Stop();
    });
  }
  ~StopOnSignal() {
    if (!watcher_.joinable()) return;
    char quit = 'q';
    ssize_t ignored = write(g_signal_pipe[1], &quit, 1);
    (void)ignored;
    watcher_.join();
  }

 private:
  std::thread watcher_;
};

// Says which flags a network address still needs, before anything is started.
Status CheckListenAddress(const std::string& listen, const std::string& host,
                          const reconciler::ApiServerOptions& server) {
  if (listen.empty()) return Status::Ok();
  std::vector<std::string> missing = reconciler::MissingForNetwork(host, server);
  if (missing.empty()) return Status::Ok();
  std::string flags;
  for (const std::string& what : missing) {
    if (!flags.empty()) flags += " and ";
    flags += what == "TLS" ? "TLS (--tls-cert FILE --tls-key FILE)"
                           : "an API token (--api-token-file FILE or $" + std::string(kApiTokenEnv) + ")";
  }
  return Status(StatusCode::kFailedPrecondition,
                "--listen " + listen + " is not a loopback address: serving the reconciler's API to the network "
                "needs " + flags + "; or listen on 127.0.0.1 behind a TLS proxy");
}

StatusOr<reconciler::ApiServerOptions> ServerOptions(const ReconcileFlags& flags, const std::string& host) {
  reconciler::ApiServerOptions server;
  const char* secret = std::getenv(flags.webhook_secret_env.c_str());
  server.webhook_secret = secret ? secret : "";
  StatusOr<std::string> token = ApiToken(flags.api_token_file);
  if (!token.ok()) return token.status();
  server.api_token = *token;
  server.tls_cert_file = flags.tls_cert;
  server.tls_key_file = flags.tls_key;
  if (Status checked = CheckListenAddress(flags.listen, host, server); !checked.ok()) return checked;
  return server;
}

void RunReconcile(ReconcileFlags& flags, int& exit_code) {
  reconciler::ReconcileOptions& options = flags.options;
  if (!flags.interval.empty()) {
    int64_t seconds = ParseDurationSeconds(flags.interval);
    if (seconds <= 0 || seconds > 366 * 24 * 3600) {
      return Fail(exit_code, kExitUsage,
                  "--interval '" + flags.interval + "' is not a duration of up to a year (try 30s, 5m, 1h)");
    }
    options.interval_seconds = static_cast<double>(seconds);
  }
  if (flags.json && !flags.once) return Fail(exit_code, kExitUsage, "--json goes with --once");
  if (flags.no_self_heal) options.self_heal = false;
  if (flags.no_auto_sync) options.auto_sync = false;
  if (flags.prune) options.prune = true;
  if (options.data_dir.empty()) options.data_dir = DefaultDataDir(options.repository, options.branch, options.path);
  std::string host;
  int port = 0;
  if (!flags.listen.empty() && !ParseListen(flags.listen, host, port)) {
    return Fail(exit_code, kExitUsage, "--listen '" + flags.listen + "' is not HOST:PORT (e.g. 127.0.0.1:8787)");
  }
  StatusOr<reconciler::ApiServerOptions> server_options = ServerOptions(flags, host);
  if (!server_options.ok()) return Fail(exit_code, kExitUsage, server_options.status().message());
  server_options->delivery_log_file = options.data_dir + "/webhook-deliveries";
  auto print_mutex = std::make_shared<std::mutex>();
  std::FILE* log_stream = flags.json ? stderr : stdout;
  options.log = [print_mutex, log_stream](const std::string& line) {
    std::lock_guard lock(*print_mutex);
    std::fprintf(log_stream, "%s %s\n", Timestamp().c_str(), line.c_str());
    std::fflush(log_stream);
  };
  auto log = options.log;
  if (!flags.forge_token_secret.empty()) {
    std::string home = options.workspace_home.empty() ? options.data_dir + "/workspace" : options.workspace_home;
    auto secrets = runtime::SecretStore::Open(home);
    auto token = secrets.ok() ? secrets->Get(flags.forge_token_secret) : StatusOr<std::string>(secrets.status());
    if (!token.ok()) return Fail(exit_code, kExitUsage, token.status().message());
    options.forge_token = token.value();
  }
  if (!options.forge_url.empty() && options.forge_token.empty()) {
    return Fail(exit_code, kExitUsage, "--forge-url needs --forge-token-secret NAME (set it with: amlc secrets set NAME)");
  }

  auto loop = reconciler::Reconciler::Create(options);
  if (!loop.ok()) return Fail(exit_code, kExitSpecErrors, loop.status().message());
  if (flags.once) {
    reconciler::PassOutcome outcome = loop.value()->RunPass("once");
    exit_code = outcome.result == "Synced" ? kExitOk : kExitSpecErrors;
    if (flags.json) {
      json pass = {{"result", outcome.result}, {"commit", outcome.commit}, {"applied", outcome.applied},
                   {"seconds", outcome.seconds}, {"exit_code", exit_code}};
      if (outcome.sync_id) pass["sync_id"] = outcome.sync_id;
      std::printf("%s\n", pass.dump().c_str());
    }
    return;
  }
  server_options->tracking_store = &loop.value()->workspace().state();
  server_options->state_db = runtime::StateStorePath(loop.value()->workspace().home());
  reconciler::ApiServer server(*loop.value(), *server_options);
  server.set_log(log);
  if (!flags.listen.empty()) {
    if (Status started = server.Start(host, port); !started.ok()) {
      return Fail(exit_code, kExitSpecErrors, started.message());
    }
    bool tls = !server_options->tls_cert_file.empty();
    std::string notes;
    if (server_options->webhook_secret.empty()) notes += " (webhooks off: $" + flags.webhook_secret_env + " is not set)";
    if (!server_options->api_token.empty()) notes += " (API token required)";
    log(std::string("listening on ") + (tls ? "https" : "http") + "://" + host + ":" + std::to_string(server.port()) +
        notes);
  }
  log("reconciling " + options.repository + " " + options.branch + ":" + options.path + " into workspace " +
      loop.value()->workspace().home());
  {
    StopOnSignal stop_on_signal(*loop.value(), log);
    loop.value()->Run();
  }
  server.Stop();
  log("stopped");
  exit_code = kExitOk;
}

// --- status --------------------------------------------------------------

void PrintStatusTable(const json& status) {
  std::printf("Repository  %s (%s:%s)\n", status.value("repository", "").c_str(), status.value("branch", "").c_str(),
              status.value("path", "").c_str());
  std::string commit = status.value("commit", "");
  std::printf("Commit      %s %s\n", commit.substr(0, 7).c_str(), status.value("message", "").c_str());
  std::printf("Status      %s, %s\n", status.value("status", "").c_str(), status.value("health", "").c_str());
  if (status.contains("last_sync")) PrintLastSyncLine(status["last_sync"]);
  if (status.contains("paused")) {
    const json& paused = status["paused"];
    std::printf("Paused      auto-sync, rolled back to sync #%lld (%s) by %s, until %s\n",
                static_cast<long long>(paused.value("sync", int64_t{0})),
                paused.value("commit", "").substr(0, 7).c_str(), paused.value("by", "").c_str(),
                paused.value("until", "").c_str());
  }
  if (status.contains("git") && !status["git"].value("ok", true)) {
    std::printf("Git         %s\n", status["git"].value("error", "").c_str());
  }
  if (status.contains("resources")) PrintResourceTable(status["resources"]);
}

void RunStatus(const ServerFlags& flags, int& exit_code) {
  std::optional<json> status = CallReconciler(flags, "/api/status", exit_code);
  if (!status) return;
  if (!status->is_object()) {
    PrintError("the reconciler at " + flags.server + " sent no status");
    exit_code = kExitSpecErrors;
    return;
  }
  if (flags.as_json) {
    std::printf("%s\n", status->dump(2).c_str());
  } else {
    PrintStatusTable(*status);
  }
  exit_code = kExitOk;
}

// --- preview -------------------------------------------------------------

void RunPreview(PreviewFlags& flags, int& exit_code) {
  if (flags.format != "markdown" && flags.format != "json") {
    return Fail(exit_code, kExitSpecErrors, "--format must be markdown or json");
  }
  if (flags.data_dir.empty()) flags.data_dir = DefaultDataDir(flags.repository, flags.base, flags.path);
  std::string home = flags.workspace.empty() ? flags.data_dir + "/workspace" : flags.workspace;
  auto workspace = runtime::Workspace::Open(home);
  if (!workspace.ok()) return Fail(exit_code, kExitSpecErrors, workspace.status().message());
  auto mirror = reconciler::GitMirror::Open(flags.repository, flags.data_dir + "/mirror");
  if (!mirror.ok()) return Fail(exit_code, kExitSpecErrors, mirror.status().message());
  if (Status fetched = mirror.value()->Fetch(); !fetched.ok()) return Fail(exit_code, kExitSpecErrors, fetched.message());
  reconciler::PreviewRequest request;
  request.repository = flags.name.empty() ? fs::path(mirror.value()->url()).stem().string() : flags.name;
  request.pull_request = flags.pull_request;
  request.base = flags.base;
  request.head = flags.head;
  request.path = flags.path;
  std::string trees = flags.data_dir + "/preview-trees-" + std::to_string(getpid());
  auto preview = reconciler::PreviewCommit(*mirror.value(), *workspace.value(), request, trees);
  std::error_code ignored;
  fs::remove_all(trees, ignored);
  if (!preview.ok()) return Fail(exit_code, kExitSpecErrors, preview.status().message());
  if (flags.format == "json") {
    std::printf("%s\n", preview->json.dump(2).c_str());
  } else {
    std::fputs(preview->markdown.c_str(), stdout);
  }
  exit_code = !preview->compiles ? kExitSpecErrors : preview->changes ? kExitChanges : kExitOk;
}

void AddSourceOptions(CLI::App* command, std::string& repository, std::string& path, std::string& data_dir,
                      std::string& workspace) {
  command->add_option("--repo", repository, "Repository: a local path or a git URL")->required();
  command->add_option("--path", path, "Folder of the specs in the repository")->capture_default_str();
  command->add_option("--data-dir", data_dir,
                      "The reconciler's own folder: git mirror, exported trees, workspace home "
                      "(default: $XDG_DATA_HOME/amlc/reconciler/REPO-HASH)");
  command->add_option("--workspace", workspace, "Workspace home (default: DATA_DIR/workspace)");
}

}  // namespace

void PrintLastSyncLine(const json& sync) {
  std::printf("Last sync   #%lld %s (%s): %s\n", static_cast<long long>(sync.value("id", 0)),
              sync.value("result", "").c_str(), sync.value("trigger", "").c_str(), sync.value("summary", "").c_str());
}

void PrintResourceTable(const json& resources) {
  if (resources.empty()) return;
  std::printf("\n%-36s %-11s %-11s %s\n", "RESOURCE", "SYNC", "HEALTH", "MESSAGE");
  for (const json& r : resources) {
    std::printf("%-36s %-11s %-11s %s\n", r.value("id", "").c_str(), r.value("sync", "").c_str(),
                r.value("health", "").c_str(), r.value("message", "").c_str());
  }
}

void AddReconcileCommands(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ReconcileFlags>();
  reconciler::ReconcileOptions& options = flags->options;
  CLI::App* reconcile = app.add_subcommand(
      "reconcile", "Keep the workspace equal to a git branch: apply every new commit, heal drift, run schedules");
  AddSourceOptions(reconcile, options.repository, options.path, options.data_dir, options.workspace_home);
  reconcile->add_option("--branch", options.branch, "Branch to track")->capture_default_str();
  reconcile->add_option("--interval", flags->interval,
                        "Time between passes without a push, e.g. 30s, 5m (default: the repository's "
                        "reconciler spec, else 5m)");
  reconcile->add_option("--listen", flags->listen,
                        "Serve webhooks and the status API on HOST:PORT (e.g. 127.0.0.1:8787; port 0 picks one)");
  reconcile->add_option("--webhook-secret-env", flags->webhook_secret_env,
                        "Environment variable holding the webhooks' HMAC secret")->capture_default_str();
  reconcile->add_option("--api-token-file", flags->api_token_file,
                        "File holding the bearer token the status API requires (default: $AMLC_RECONCILER_TOKEN; "
                        "needed to listen beyond loopback)");
  reconcile->add_option("--tls-cert", flags->tls_cert, "PEM certificate (chain) to serve HTTPS with");
  reconcile->add_option("--tls-key", flags->tls_key, "PEM private key of --tls-cert");
  reconcile->add_flag("--no-self-heal", flags->no_self_heal, "Report drift as OutOfSync instead of correcting it");
  reconcile->add_flag("--no-auto-sync", flags->no_auto_sync, "Plan and report only; apply nothing");
  reconcile->add_flag("--prune", flags->prune, "Destroy resources removed from git (default: report them)");
  reconcile->add_option("--protect", options.protected_resources,
                        "Never destroy KIND/NAME, even with --prune (repeatable)");
  reconcile->add_option("--forge-url", options.forge_url,
                        "GitHub-compatible REST API to post previews on (e.g. https://HOST/api/v3)");
  reconcile->add_option("--forge-token-secret", flags->forge_token_secret,
                        "Name of the workspace secret holding the forge token (amlc secrets set NAME)");
  reconcile->add_flag("--once", flags->once, "One pass, then exit: 0 when Synced");
  reconcile->add_flag("--json", flags->json,
                      "With --once: print the pass's result, commit, sync id and duration as JSON (the log goes "
                      "to stderr)");
  reconcile->add_option("-j,--parallelism", options.parallelism, "Actions at once")->capture_default_str();
  reconcile->footer(
      "Each pass fetches the branch, compiles its head from the commit's tree, plans against the live\n"
      "state and applies (auto-sync). A push webhook starts a pass at once; a pull_request webhook a\n"
      "preview. SIGTERM stops after the pass in flight. Settings not given here come from a\n"
      "`reconciler` spec in the repository. --listen serves on loopback as given; any other address\n"
      "needs an API token and TLS. A delivery seen before (same id or payload) is answered as a replay.");
  reconcile->callback([flags, &exit_code] { RunReconcile(*flags, exit_code); });

  auto status_flags = std::make_shared<ServerFlags>();
  CLI::App* status = app.add_subcommand("status", "Show what a running reconciler reports: commit, last sync, "
                                                  "each resource's sync status and health");
  AddServerOptions(status, *status_flags);
  status->footer(kReconcilerOrWorkspaceServer);
  status->callback([status_flags, &exit_code] { RunStatus(*status_flags, exit_code); });

  auto preview_flags = std::make_shared<PreviewFlags>();
  CLI::App* preview = app.add_subcommand(
      "preview", "Plan a branch or pull request against the live state and render it as a markdown comment");
  AddSourceOptions(preview, preview_flags->repository, preview_flags->path, preview_flags->data_dir,
                   preview_flags->workspace);
  preview->add_option("--base", preview_flags->base, "Branch the head merges into")->capture_default_str();
  preview->add_option("--head", preview_flags->head, "Branch, tag or commit to plan")->required();
  preview->add_option("--format", preview_flags->format, "markdown or json")->capture_default_str();
  preview->add_option("--pr", preview_flags->pull_request, "Pull request number shown in the comment");
  preview->add_option("--name", preview_flags->name, "Repository name shown in the comment (owner/name)");
  preview->footer("The workspace is the reconciler's for the same repository and base (same --data-dir), so\n"
                  "the plan is against what `amlc reconcile` keeps live.\n"
                  "Exit status (as `argocd app diff` and `terraform plan --detailed-exitcode`):\n"
                  "  0  the head compiles and changes nothing\n"
                  "  1  any error: the head does not compile, git or the workspace failed, usage errors\n"
                  "  2  the head compiles and its plan changes something");
  preview->callback([preview_flags, &exit_code] { RunPreview(*preview_flags, exit_code); });
}

}  // namespace amlc::cli
