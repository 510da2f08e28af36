#ifndef AMLC_RECONCILER_SERVER_API_SERVER_H_
#define AMLC_RECONCILER_SERVER_API_SERVER_H_

// The reconciler's HTTP API (cpp-httplib routes stay in api_server.cc; clients
// reach them through base/http_listener.h's FrontedHttpServer, the
// event-driven front with the deadlines and limits of README "Reliability"):
//
//   POST /hooks/github, /hooks/gitea  -> forge webhooks, HMAC-SHA256 signed with the
//                                       webhook secret: a push to the tracked branch
//                                       requests a pass, a pull request a preview
//   GET  /api/status                  -> ReconcilerControl::Status()
//   POST /api/sync                    -> a pass now (JSON body {"by": WHO})
//   POST /api/rollback                -> {"sync": ID}: apply that sync's commit, pause
//                                       auto-sync until the next push (202; 404 unknown
//                                       sync, 409 when it has no commit)
//   GET  /api/syncs?limit=N           -> the newest N syncs (default 50, 1..1000)
//   GET  /api/syncs/ID                -> one sync with its plan and log, 404 when unknown
//   GET  /metrics                     -> Prometheus text: requests by route and code,
//                                       runs by status, run queue depth, syncs by
//                                       result, reconcile duration histogram
//   GET|POST /api/2.0/mlflow/...      -> MLflow's tracking REST API over the workspace
//                                       (runtime/tracking/mlflow_rest.h), when a
//                                       tracking store is given
//
// Every answer is JSON; errors are {"message": ...}. Webhooks answer 403 when
// no secret is configured, 401 when the signature does not match or lacks the
// form its forge sends (and nothing is queued), 400 for a payload that cannot
// be read, 413 over 25 MiB (from the Content-Length, before the body is
// read; chunked ones where they cross it), 200 {"replay": ...} for a delivery
// already handled (same delivery id or same signed payload), and 202
// {"accepted": ...} or {"ignored": why} once the delivery is handled. Bodies
// are read through a content reader, so form-encoded deliveries are not held
// to cpp-httplib's 8 KiB form limit.
//
// With an API token, every other route answers 401 (with WWW-Authenticate)
// unless the request carries "Authorization: Bearer TOKEN"; webhooks stay
// authenticated by their signature alone. A server on an address outside
// 127.0.0.0/8 and ::1 does not start without both a token and TLS.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/http_listener.h"
#include "base/status.h"
#include "reconciler/server/reconciler_control.h"
#include "runtime/state/state_store.h"

namespace amlc::reconciler {

/// The largest webhook body read (GitHub caps its payloads at 25 MB).
inline constexpr size_t kMaxWebhookBodyBytes = 25 * 1024 * 1024;

struct ApiServerOptions {
  /// The webhooks' HMAC secret; empty turns the webhook routes off (403).
  std::string webhook_secret;
  /// Bearer token every non-webhook route requires; empty: none (loopback only).
  std::string api_token;
  /// PEM certificate (chain) and private key: serve HTTPS. Both or neither.
  std::string tls_cert_file;
  std::string tls_key_file;
  /// Where handled deliveries are remembered across restarts; empty: memory only.
  std::string delivery_log_file;
  /// The state store MLflow clients log to (MLFLOW_TRACKING_URI=http://HOST:PORT);
  /// null: no /api/2.0/mlflow routes. Must outlive the server.
  runtime::StateStore* tracking_store = nullptr;
  /// The workspace's state store file (runtime::StateStorePath): /metrics
  /// counts its runs by status; empty: /metrics reports requests only.
  std::string state_db;
};

/// Whether `host` is a numeric loopback address (base/http_listener.h).
using ::amlc::IsLoopbackAddress;

/// What serving on `host` still lacks, in words ("an API token", "TLS"):
/// empty for a loopback address, or when both are configured.
std::vector<std::string> MissingForNetwork(const std::string& host,
                                           const ApiServerOptions& options);

class ApiServer {
 public:
  /// `control` must outlive the server. An empty `webhook_secret` turns the
  /// webhook routes off (403); the status API works either way.
  ApiServer(ReconcilerControl& control, std::string webhook_secret);
  ApiServer(ReconcilerControl& control, ApiServerOptions options);
  /// Stops the server if it runs.
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  /// Receives one line per webhook delivery ("webhook: push to main accepted
  /// (push abc1234 by alice)"), called from the server's threads. Set it
  /// before Start().
  void set_log(std::function<void(const std::string&)> log);

  /// Binds host:port (port 0: any free port) and serves on a thread of its
  /// own; returns once the server accepts connections. `host` is an explicit
  /// address: there is no default. kFailedPrecondition, before binding, when
  /// the address is not loopback and a token or TLS is missing;
  /// kInvalidArgument when the certificate or key cannot be loaded;
  /// kUnavailable naming host:port when the address cannot be bound, or the
  /// delivery log cannot be read. A server starts once.
  Status Start(const std::string& host, int port);
  /// The bound port, 0 before Start().
  int port() const;
  /// Stops accepting connections and waits for requests in progress; safe to
  /// call twice.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace amlc::reconciler

#endif  // AMLC_RECONCILER_SERVER_API_SERVER_H_
