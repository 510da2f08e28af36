#ifndef AMLC_CLI_SERVER_CLIENT_H_
#define AMLC_CLI_SERVER_CLIENT_H_

// The CLI's side of a workspace server's API (`amlc server`, server/): the
// address and token of the server the CLI talks to (--server / AMLC_SERVER,
// AMLC_TOKEN or the credentials file), and one HTTP(S) client that sends the
// token as a bearer token. cpp-httplib stays in server_client.cc.

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "base/status.h"

namespace amlc::cli {

/// Where the workspace server is and how to prove who we are.
struct ServerTarget {
  std::string url;      // "https://host:8443", no trailing '/'
  std::string token;    // sent as "Authorization: Bearer TOKEN"
  std::string ca_file;  // PEM CA bundle for a server with its own certificate; "": the system's
};

/// What the server answered; `status` 0 when no answer came (`error` says why).
struct ServerAnswer {
  int status = 0;
  std::string body;
  std::string error;
  std::map<std::string, std::string> headers;  // lower-case names
  bool ok() const { return status / 100 == 2; }
};

/// Receives a streamed body as it arrives; false stops the transfer.
using ChunkSink = std::function<bool(const char* data, size_t size)>;

/// One workspace server, for the commands that run against it.
class ServerClient {
 public:
  explicit ServerClient(ServerTarget target) : target_(std::move(target)) {}

  const ServerTarget& target() const { return target_; }

  /// GET `path` ("/api/v1/runs?where=..."): the whole answer.
  ServerAnswer Get(const std::string& path) const;
  /// POST a JSON body; with `sink`, the answer's body goes there as it arrives.
  ServerAnswer Post(const std::string& path, const std::string& json_body, const ChunkSink& sink = nullptr) const;
  /// PUT raw bytes (a blob).
  ServerAnswer Put(const std::string& path, const std::string& bytes) const;
  /// PUT a JSON body (a secret's value, a user's role).
  ServerAnswer PutJson(const std::string& path, const std::string& json_body) const;
  /// DELETE `path`.
  ServerAnswer Delete(const std::string& path) const;
  /// GET whose body goes to `sink` as it arrives (a followed log).
  ServerAnswer Stream(const std::string& path, const ChunkSink& sink) const;

 private:
  ServerTarget target_;
};

/// The server the CLI talks to: `server_flag`, else $AMLC_SERVER; nullopt
/// when neither names one (the CLI then works on a local folder). The token
/// is $AMLC_TOKEN, else the credentials file's (login) for that server; the
/// CA file `ca_flag`, else $AMLC_CA_FILE. kInvalidArgument for a URL that is
/// not http(s)://HOST[:PORT], kFailedPrecondition when no token is known or
/// the credentials file is unsafe.
StatusOr<std::optional<ServerTarget>> ResolveServer(const std::string& server_flag, const std::string& ca_flag);

/// "http://host:port" of what the user typed (scheme added, trailing '/'
/// dropped); kInvalidArgument when it is not an http(s) URL.
StatusOr<std::string> NormalizeServerUrl(const std::string& text);

/// Prints the CLI's error for an answer that is not 2xx (or none) and gives
/// the exit code: 401 and 403 are kExitDenied with the server's message
/// (which names the role needed), 400 and 404 kExitUsage, the rest 1.
int ReportServerFailure(const ServerTarget& target, const ServerAnswer& answer);

}  // namespace amlc::cli

#endif  // AMLC_CLI_SERVER_CLIENT_H_
