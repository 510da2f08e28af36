// `amlc server --listen HOST:PORT --workspace DIR`: serves the workspace's
// API until SIGINT or SIGTERM, then stops accepting and lets the calls in
// progress finish.
#include "cli/server_command.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "base/http_listener.h"
#include "cli/output.h"
#include "runtime/workspace/workspace.h"
#include "server/workspace_server.h"

namespace amlc::cli {

namespace {

struct ServerFlags {
  std::string listen;
  std::string workspace;
  std::string tls_cert;
  std::string tls_key;
  size_t threads = 16;
};

// The handler only writes to a pipe (async-signal-safe); the main thread
// waits on it. A handler, unlike a blocked mask, is reset when a child execs.
int g_stop_pipe[2] = {-1, -1};

void OnStopSignal(int) {
  char byte = 's';
  ssize_t ignored = write(g_stop_pipe[1], &byte, 1);
  (void)ignored;
}

void WaitForStopSignal() {
  if (pipe(g_stop_pipe) != 0) return;
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  char byte = 0;
  while (read(g_stop_pipe[0], &byte, 1) != 1) {
  }
}

void RunServer(const ServerFlags& flags, int& exit_code) {
  std::string host;
  int port = 0;
  if (Status parsed = server::ParseListenAddress(flags.listen, host, port); !parsed.ok()) {
    std::fprintf(stderr, "amlc: error: %s\n", parsed.message().c_str());
    exit_code = kExitUsage;
    return;
  }
  server::ServerOptions options;
  options.workspace_home = runtime::DefaultWorkspaceHome(".", flags.workspace);
  options.tls_cert_file = flags.tls_cert;
  options.tls_key_file = flags.tls_key;
  options.threads = flags.threads;
  server::WorkspaceServer workspace_server(options);
  workspace_server.set_log([](const std::string& line) { std::fprintf(stderr, "amlc server: %s\n", line.c_str()); });
  if (Status started = workspace_server.Start(host, port); !started.ok()) {
    std::fprintf(stderr, "amlc: error: %s\n", started.message().c_str());
    exit_code = started.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitSpecErrors;
    return;
  }
  bool tls = !flags.tls_cert.empty();
  std::printf("amlc server: workspace %s on %s://%s (API under /api/v1, described at /api/v1/openapi.json)\n",
              options.workspace_home.c_str(), tls ? "https" : "http",
              HostPort(host, workspace_server.port()).c_str());
  std::fflush(stdout);
  WaitForStopSignal();
  std::fprintf(stderr, "amlc server: stopping\n");
  workspace_server.Stop();
  exit_code = kExitOk;
}

}  // namespace

void AddServerCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ServerFlags>();
  CLI::App* command = app.add_subcommand(
      "server", "Serve the workspace's HTTP API to a team: users, tokens, roles, audit (see README, 'amlc server')");
  command->add_option("--listen", flags->listen, "HOST:PORT to listen on (port 0: any free one, printed)")->required();
  command->add_option("--workspace", flags->workspace, "The workspace's home folder (default $AMLC_WORKSPACE, else ./.amlc)");
  command->add_option("--tls-cert", flags->tls_cert, "PEM certificate (chain): serve HTTPS; needed off loopback");
  command->add_option("--tls-key", flags->tls_key, "PEM private key of --tls-cert");
  command->add_option("--threads", flags->threads, "Requests handled at once (a followed log holds one)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  command->callback([flags, &exit_code] { RunServer(*flags, exit_code); });
}

}  // namespace amlc::cli
