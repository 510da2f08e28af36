// `amlc login` and `amlc logout`: the credentials file (cli/credentials.h)
// that lets `--server URL` find its token without AMLC_TOKEN.

#include "cli/login_commands.h"

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/credentials.h"
#include "cli/output.h"
#include "cli/server_client.h"

namespace amlc::cli {

namespace {

struct LoginOptions {
  std::string server;
  std::string token_file;
  bool token_stdin = false;
  std::string ca_file;
  bool all = false;
};

// The first line of the file or of stdin, without surrounding blanks.
std::string ReadToken(const LoginOptions& options) {
  std::string token;
  if (options.token_stdin) {
    std::getline(std::cin, token);
  } else {
    std::ifstream in(options.token_file);
    std::getline(in, token);
  }
  size_t first = token.find_first_not_of(" \t\r\n");
  size_t last = token.find_last_not_of(" \t\r\n");
  return first == std::string::npos ? "" : token.substr(first, last - first + 1);
}

void Login(const LoginOptions& options, int& exit_code) {
  StatusOr<std::string> url = NormalizeServerUrl(options.server);
  if (!url.ok()) {
    PrintError(url.status().message());
    exit_code = kExitUsage;
    return;
  }
  if (options.token_stdin == !options.token_file.empty()) {
    PrintError("give the token with exactly one of --token-file FILE and --token-stdin");
    exit_code = kExitUsage;
    return;
  }
  std::string token = ReadToken(options);
  if (token.empty()) {
    PrintError("no token read from " + (options.token_stdin ? std::string("stdin") : options.token_file));
    exit_code = kExitUsage;
    return;
  }
  // The token is checked before it is saved, so a typo is found now.
  ServerTarget target{*url, token, options.ca_file.empty() && std::getenv("AMLC_CA_FILE") ? std::getenv("AMLC_CA_FILE")
                                                                                          : options.ca_file};
  ServerAnswer whoami = ServerClient(target).Get("/api/v1/whoami");
  if (!whoami.ok()) {
    exit_code = ReportServerFailure(target, whoami);
    return;
  }
  if (Status saved = SaveToken(*url, token); !saved.ok()) {
    PrintError(saved.message());
    exit_code = kExitSpecErrors;
    return;
  }
  nlohmann::json me = nlohmann::json::parse(whoami.body, nullptr, false);
  std::string who = me.is_object() ? me.value("user", "?") + " (" + me.value("role", "?") + ")" : "?";
  std::printf("Logged in to %s as %s; the token is saved in %s\n", url->c_str(), who.c_str(),
              CredentialsPath().c_str());
  exit_code = kExitOk;
}

void Logout(const LoginOptions& options, int& exit_code) {
  std::string url;
  if (!options.all) {
    StatusOr<std::string> normalized = NormalizeServerUrl(options.server);
    if (!normalized.ok()) {
      PrintError(normalized.status().message());
      exit_code = kExitUsage;
      return;
    }
    url = *normalized;
  }
  StatusOr<bool> forgotten = ForgetToken(url);
  if (!forgotten.ok()) {
    PrintError(forgotten.status().message());
    exit_code = kExitSpecErrors;
    return;
  }
  std::printf("%s\n", *forgotten ? ("Forgot the token of " + (url.empty() ? "every server" : url)).c_str()
                                 : ("No token saved for " + (url.empty() ? "any server" : url)).c_str());
  exit_code = kExitOk;
}

}  // namespace

void AddLoginCommands(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<LoginOptions>();
  CLI::App* login = app.add_subcommand("login", "Save an API token for a workspace server (amlc server)");
  login->add_option("--server", options->server, "The server's URL, http(s)://HOST:PORT")->required();
  login->add_option("--token-file", options->token_file, "File whose first line is the token");
  login->add_flag("--token-stdin", options->token_stdin, "Read the token from stdin");
  login->add_option("--ca-file", options->ca_file, "PEM CA bundle for an https:// server with its own certificate");
  login->footer("The token is checked with the server, then saved in $XDG_CONFIG_HOME/amlc/credentials\n"
                "(default ~/.config/amlc/credentials), mode 0600. Exit status: 0 saved, 2 usage errors,\n"
                "3 the server refused the token, 1 other errors.");
  login->callback([options, &exit_code] { Login(*options, exit_code); });

  CLI::App* logout = app.add_subcommand("logout", "Forget the API token saved for a workspace server");
  logout->add_option("--server", options->server, "The server's URL (default: $AMLC_SERVER)");
  logout->add_flag("--all", options->all, "Forget every saved token");
  logout->callback([options, &exit_code] {
    if (options->server.empty() && std::getenv("AMLC_SERVER")) options->server = std::getenv("AMLC_SERVER");
    if (options->server.empty() && !options->all) {
      PrintError("name the server (--server URL or $AMLC_SERVER), or give --all");
      exit_code = kExitUsage;
      return;
    }
    Logout(*options, exit_code);
  });
}

}  // namespace amlc::cli
