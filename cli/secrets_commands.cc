// The workspace's secret store from the command line. Values go in (stdin or
// an environment variable) and never come out: there is deliberately no
// `get`, and no message or listing shows a value.
#include "cli/secrets_commands.h"

#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/list_output.h"
#include "cli/output.h"
#include "cli/workspace_access.h"
#include "runtime/views/record_json.h"
#include "runtime/workspace/secret_store.h"
#include "runtime/workspace/workspace.h"

namespace amlc::cli {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct SecretsOptions {
  std::string workspace;
  bool json_output = false;
  std::string format = "table";  // -o of list
  std::string name;
  std::string from_env;
};

void Fail(const Status& status, int& exit_code) {
  std::fprintf(stderr, "amlc: error: %s\n", status.message().c_str());
  exit_code = status.code() == StatusCode::kNotFound || status.code() == StatusCode::kInvalidArgument
                  ? kExitUsage
                  : kExitSpecErrors;
}

void FailUsage(const std::string& message, int& exit_code) {
  std::fprintf(stderr, "amlc: error: %s\n", message.c_str());
  exit_code = kExitUsage;
}

// Unlike the other commands, secrets work on a workspace home nothing was
// applied to yet: a reconciler's forge token is set before its first pass.
// Once specs were applied, their workspace's roles apply.
bool MayChangeSecrets(const std::string& home, int& exit_code) {
  if (!fs::exists(home + "/state.db")) return true;  // no workspace spec, so no roles declared
  auto workspace = runtime::Workspace::Open(home);
  if (!workspace.ok()) {
    Fail(workspace.status(), exit_code);
    return false;
  }
  return RequireRole(*workspace.value(), WorkspaceRole::kOwner, "changing secrets", exit_code);
}

// ---- reading a value without echoing it ----------------------------------------

// The terminal's settings while echo is off, restored by a signal handler
// too: a Ctrl-C at the prompt must not leave the user's terminal silent.
struct termios saved_terminal;

void RestoreTerminalAndDie(int signal_number) {
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_terminal);
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);
}

class EchoOff {
 public:
  EchoOff() {
    if (tcgetattr(STDIN_FILENO, &saved_terminal) != 0) return;
    active_ = true;
    previous_int_ = ::signal(SIGINT, RestoreTerminalAndDie);
    previous_term_ = ::signal(SIGTERM, RestoreTerminalAndDie);
    struct termios silent = saved_terminal;
    silent.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent);
  }
  ~EchoOff() {
    if (!active_) return;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_terminal);
    ::signal(SIGINT, previous_int_);
    ::signal(SIGTERM, previous_term_);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  bool active_ = false;
  void (*previous_int_)(int) = SIG_DFL;
  void (*previous_term_)(int) = SIG_DFL;
};

// One line of stdin without its line ending; on a terminal, prompted and
// not echoed.
StatusOr<std::string> ReadValueFromStdin(const std::string& name) {
  bool terminal = isatty(STDIN_FILENO) == 1;
  std::string line;
  bool got = false;
  if (terminal) {
    std::fprintf(stderr, "Value of secret '%s' (not shown): ", name.c_str());
    std::fflush(stderr);
    EchoOff echo_off;
    got = static_cast<bool>(std::getline(std::cin, line));
    std::fprintf(stderr, "\n");
  } else {
    got = static_cast<bool>(std::getline(std::cin, line));
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (!got && line.empty()) {
    return Status{StatusCode::kInvalidArgument,
                  "no value for secret '" + name + "' on standard input (pipe it in, or use --from-env VAR)"};
  }
  return line;
}

// ---- commands ------------------------------------------------------------------

void Set(const SecretsOptions& options, int& exit_code) {
  std::string home = runtime::DefaultWorkspaceHome(".", options.workspace);
  // Checked before a value is asked for, so no one types a secret in vain.
  if (std::string error = SecretNameError(options.name); !error.empty()) return FailUsage(error, exit_code);
  if (!MayChangeSecrets(home, exit_code)) return;
  auto value = ReadSecretValue(options.name, options.from_env);
  if (!value.ok()) return Fail(value.status(), exit_code);
  if (value->empty()) return FailUsage("the value of secret '" + options.name + "' is empty; nothing was set", exit_code);
  auto store = runtime::SecretStore::Open(home);
  if (!store.ok()) return Fail(store.status(), exit_code);
  Status set = store->Set(options.name, value.value(), CurrentUser());
  if (!set.ok()) return Fail(set, exit_code);
  exit_code = kExitOk;
  PrintSecretChange(options.name, "set", home, options.json_output);
}

void List(const SecretsOptions& options, int& exit_code) {
  std::string home = runtime::DefaultWorkspaceHome(".", options.workspace);
  std::vector<runtime::SecretInfo> secrets;
  if (fs::exists(home + "/secrets")) {  // listing never creates a store
    auto store = runtime::SecretStore::Open(home);
    if (!store.ok()) return Fail(store.status(), exit_code);
    auto listed = store->List();
    if (!listed.ok()) return Fail(listed.status(), exit_code);
    secrets = std::move(listed.value());
  }
  exit_code = kExitOk;
  json rows = json::array();
  for (const runtime::SecretInfo& secret : secrets) rows.push_back(runtime::SecretJson(secret));
  PrintSecretRows(rows, ListFormat(options.format, options.json_output));
}

void Delete(const SecretsOptions& options, int& exit_code) {
  std::string home = runtime::DefaultWorkspaceHome(".", options.workspace);
  if (!MayChangeSecrets(home, exit_code)) return;
  if (!fs::exists(home + "/secrets")) {
    return Fail({StatusCode::kNotFound, "no secret '" + options.name + "' in the workspace"}, exit_code);
  }
  auto store = runtime::SecretStore::Open(home);
  if (!store.ok()) return Fail(store.status(), exit_code);
  Status deleted = store->Delete(options.name);
  if (!deleted.ok()) return Fail(deleted, exit_code);
  exit_code = kExitOk;
  PrintSecretChange(options.name, "deleted", home, options.json_output);
}

}  // namespace

StatusOr<std::string> ReadSecretValue(const std::string& name, const std::string& from_env) {
  if (from_env.empty()) return ReadValueFromStdin(name);
  const char* value = std::getenv(from_env.c_str());
  if (!value) return Status{StatusCode::kInvalidArgument, "environment variable " + from_env + " is not set"};
  return std::string(value);
}

std::string SecretNameError(const std::string& name) {
  if (runtime::IsValidSecretName(name)) return "";
  return "invalid secret name '" + name + "': use 1 to 128 letters, digits, '_', '.' or '-'";
}

void PrintSecretRows(const json& rows, const std::string& format) {
  // Names come from users: invalid UTF-8 is replaced, not thrown on.
  json list = json::parse(rows.dump(-1, ' ', false, json::error_handler_t::replace));
  if (format != "table") {
    return PrintList(list, {{"NAME", "name"}, {"UPDATED", "updated_at"}, {"UPDATED BY", "updated_by"}}, format);
  }
  if (list.empty()) {
    std::printf("No secrets in this workspace (set one with: amlc secrets set NAME).\n");
    return;
  }
  std::printf("%-32s  %-19s  %s\n", "NAME", "UPDATED", "UPDATED BY");
  for (const json& secret : list) {
    std::string by = secret.value("updated_by", "");
    std::printf("%-32s  %-19s  %s\n", secret.value("name", "").c_str(), secret.value("updated_at", "").c_str(),
                by.empty() ? "-" : by.c_str());
  }
}

void PrintSecretChange(const std::string& name, const std::string& action, const std::string& home, bool json_output) {
  if (json_output) {
    std::printf("%s\n", json({{"name", name}, {"action", action}, {"workspace", home}}).dump().c_str());
  } else if (action == "set") {
    std::printf("Secret '%s' set in workspace %s.\n", name.c_str(), home.c_str());
  } else {
    std::printf("Secret '%s' %s.\n", name.c_str(), action.c_str());
  }
}

void AddSecretsCommands(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<SecretsOptions>();
  CLI::App* secrets = app.add_subcommand("secrets", "The workspace's encrypted secrets: set, list, delete (values are never shown)");
  secrets->require_subcommand(1);
  auto common = [&](CLI::App* command) {
    command->add_option("--workspace", options->workspace, "Workspace home (default: $AMLC_WORKSPACE, else ./.amlc)");
    command->add_flag("--json", options->json_output, "Print JSON");
  };
  CLI::App* set = secrets->add_subcommand("set", "Set a secret from stdin (one line, not echoed) or --from-env VAR (owners)");
  common(set);
  set->add_option("name", options->name, "Secret name ([A-Za-z0-9_.-], up to 128)")->required();
  set->add_option("--from-env", options->from_env, "Read the value from this environment variable");
  set->callback([options, &exit_code] { Set(*options, exit_code); });
  CLI::App* list = secrets->add_subcommand("list", "Secrets' names and who set them when (never values)");
  common(list);
  AddListFormatOption(list, options->format);
  list->callback([options, &exit_code] { List(*options, exit_code); });
  CLI::App* del = secrets->add_subcommand("delete", "Delete a secret (owners)");
  common(del);
  del->add_option("name", options->name, "Secret name")->required();
  del->callback([options, &exit_code] { Delete(*options, exit_code); });
}

}  // namespace amlc::cli
