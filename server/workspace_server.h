#ifndef AMLC_SERVER_WORKSPACE_SERVER_H_
#define AMLC_SERVER_WORKSPACE_SERVER_H_

// The workspace server (`amlc server`): one workspace's HTTP API under
// /api/v1, for a team. Every call is authenticated by an API token
// ("Authorization: Bearer amlc_…"; a token in the query string is refused
// with 400), checked against the route's role (403 naming the role needed and
// the one held) and recorded in the audit log, refusals included. The API is
// described by server/openapi.json, served at /api/v1/openapi.json.
//
// Plain HTTP is served only on a loopback address (127.0.0.0/8, ::1);
// anywhere else the server needs TLS (a certificate and its key). Clients
// reach the routes through base/http_listener.h's FrontedHttpServer, the
// event-driven front: deadlines for the whole head (10 s) and body (300 s),
// 100 headers and 16 KiB of head (431), Content-Length required on
// POST/PUT/PATCH (411), bodies over 256 MiB refused from the head (413),
// TLS terminated there; a slow client costs a buffer, not a thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/status.h"

namespace amlc::server {

struct ServerOptions {
  std::string workspace_home;  // the workspace's home folder (created on first use)
  /// PEM certificate (chain) and private key: serve HTTPS. Both or neither.
  std::string tls_cert_file;
  std::string tls_key_file;
  /// Requests the routes handle at once (streams of logs hold one each);
  /// clients still reading or sending wait in the front, not here.
  size_t threads = 16;
};

class WorkspaceServer {
 public:
  explicit WorkspaceServer(ServerOptions options);
  ~WorkspaceServer();
  WorkspaceServer(const WorkspaceServer&) = delete;
  WorkspaceServer& operator=(const WorkspaceServer&) = delete;

  /// One line per refused or failed call and per audit write that failed;
  /// called from the server's threads. Set before Start().
  void set_log(std::function<void(const std::string&)> log);

  /// Opens the workspace, binds host:port (0: any free port) and serves on
  /// a thread of its own; returns once connections are accepted.
  /// kFailedPrecondition, before binding, for a non-loopback address without
  /// TLS; kInvalidArgument for a certificate or key that does not load;
  /// kUnavailable when the address cannot be bound.
  Status Start(const std::string& host, int port);
  int port() const;
  /// Stops accepting and waits for requests in progress; safe twice.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Splits "HOST:PORT" ("127.0.0.1:8080", "[::1]:8080"); kInvalidArgument
/// saying what is wrong.
Status ParseListenAddress(const std::string& text, std::string& host, int& port);

}  // namespace amlc::server

#endif  // AMLC_SERVER_WORKSPACE_SERVER_H_
