#include "cli/reconciler_client.h"

#include <cctype>
#include <cstdlib>
#include <fstream>

#include "cli/output.h"
#include "reconciler/server/api_client.h"

namespace amlc::cli {

StatusOr<std::string> ApiToken(const std::string& file) {
  std::string token, source = "$" + std::string(kApiTokenEnv);
  if (file.empty()) {
    const char* from_env = std::getenv(kApiTokenEnv);
    token = from_env ? from_env : "";
  } else {
    std::ifstream in(file);
    if (!in || !std::getline(in, token)) {
      return Status(StatusCode::kInvalidArgument, "cannot read the API token from " + file);
    }
    source = file;
  }
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  if (!token.empty() && token.size() < 16) {
    return Status(StatusCode::kInvalidArgument, "the API token in " + source +
                                                    " is shorter than 16 characters (make one with: openssl rand -hex 32)");
  }
  if (token.empty() && !file.empty()) return Status(StatusCode::kInvalidArgument, file + " holds no API token");
  return token;
}

void AddServerOptions(CLI::App* command, ServerFlags& flags) {
  if (const char* url = std::getenv("AMLC_RECONCILER_URL")) flags.server = url;
  command->add_option("--server", flags.server,
                      "The reconciler's address, http:// or https:// (default: $AMLC_RECONCILER_URL)")
      ->capture_default_str();
  command->add_option("--token-file", flags.token_file,
                      "File holding the reconciler's API token (default: $AMLC_RECONCILER_TOKEN)");
  command->add_option("--ca-cert", flags.ca_cert,
                      "PEM certificate to check an https:// reconciler against (default: the system's CAs)");
  command->add_flag("--json", flags.as_json, "Print JSON");
}

std::optional<nlohmann::json> CallReconciler(const ServerFlags& flags, const std::string& path, int& exit_code,
                                             const std::optional<std::string>& post_body) {
  auto fail = [&exit_code](int code, const std::string& message) -> std::optional<nlohmann::json> {
    PrintError(message);
    exit_code = code;
    return std::nullopt;
  };
  std::string server = flags.server;
  if (server.find("://") == std::string::npos) server = "http://" + server;
  while (!server.empty() && server.back() == '/') server.pop_back();
  StatusOr<std::string> token = ApiToken(flags.token_file);
  if (!token.ok()) return fail(kExitUsage, token.status().message());
  reconciler::ApiClientOptions options{*token, flags.ca_cert};
  auto response = post_body ? reconciler::PostToReconciler(server, path, *post_body, options)
                            : reconciler::GetFromReconciler(server, path, options);
  if (!response.ok() && response.status().code() == StatusCode::kInvalidArgument) {
    return fail(kExitUsage, "--server " + response.status().message());
  }
  if (!response.ok()) {
    return fail(kExitSpecErrors, "no reconciler answers at " + server + " (" + response.status().message() +
                                     "); start one with: amlc reconcile --repo URL --listen HOST:PORT");
  }
  if (response->status / 100 != 2) {
    std::string hint = response->status == 401
                           ? " (give its API token: $" + std::string(kApiTokenEnv) + " or --token-file FILE)"
                           : "";
    return fail(kExitSpecErrors, "the reconciler at " + server + " answered " + std::to_string(response->status) +
                                     ": " + response->body + hint);
  }
  nlohmann::json body = nlohmann::json::parse(response->body, nullptr, false);
  if (body.is_discarded()) return fail(kExitSpecErrors, "the reconciler at " + server + " sent no JSON");
  return body;
}

}  // namespace amlc::cli
