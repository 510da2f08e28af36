#ifndef AMLC_CLI_RECONCILER_CLIENT_H_
#define AMLC_CLI_RECONCILER_CLIENT_H_

// What `amlc status`, `sync` and `syncs` share: the address of a running
// reconciler, its API token and CA, and one call with its errors explained.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/status.h"

namespace amlc::cli {

inline constexpr const char* kApiTokenEnv = "AMLC_RECONCILER_TOKEN";

/// The API token: the file's first line, else $AMLC_RECONCILER_TOKEN, else none.
StatusOr<std::string> ApiToken(const std::string& file);

/// The footer of status and syncs list|show: which server they ask.
inline constexpr const char* kReconcilerOrWorkspaceServer =
    "--server URL after the command names a running reconciler's API (default $AMLC_RECONCILER_URL, else\n"
    "http://127.0.0.1:8787). With a workspace server named instead (amlc --server URL before the\n"
    "command, or $AMLC_SERVER), they read that workspace's record through `amlc server`: the syncs a\n"
    "reconciler working on it recorded, and for status the workspace's runs by status, who you are,\n"
    "and the newest sync with each resource's sync status and health. A --server after the command\n"
    "wins over $AMLC_SERVER.";

struct ServerFlags {
  std::string server = "http://127.0.0.1:8787";  // else $AMLC_RECONCILER_URL
  std::string token_file;
  std::string ca_cert;
  bool as_json = false;
};

/// --server, --token-file, --ca-cert and --json.
void AddServerOptions(CLI::App* command, ServerFlags& flags);

/// GETs `path`, or POSTs `post_body` to it when given; the answer's JSON on a
/// 2xx answer. Otherwise prints what went wrong and what to do, sets
/// `exit_code` and returns nullopt.
std::optional<nlohmann::json> CallReconciler(const ServerFlags& flags, const std::string& path, int& exit_code,
                                             const std::optional<std::string>& post_body = std::nullopt);

}  // namespace amlc::cli

#endif  // AMLC_CLI_RECONCILER_CLIENT_H_
