#ifndef AMLC_RECONCILER_SERVER_API_SERVER_H_
#define AMLC_RECONCILER_SERVER_API_SERVER_H_

// The reconciler's HTTP front (cpp-httplib stays in api_server.cc):
//
//   POST /hooks/github, /hooks/gitea  -> forge webhooks, HMAC-SHA256 signed with the
//                                       webhook secret: a push to the tracked branch
//                                       requests a pass, a pull request a preview
//   GET  /api/status                  -> ReconcilerControl::Status()
//   GET  /api/syncs?limit=N           -> the newest N syncs (default 50, 1..1000)
//   GET  /api/syncs/ID                -> one sync with its plan and log, 404 when unknown
//
// Every answer is JSON; errors are {"message": ...}. Webhooks answer 403 when
// no secret is configured, 401 when the signature does not match (and nothing
// is queued), 400 for a payload that cannot be read, 413 over 25 MB, and 202
// {"accepted": ...} or {"ignored": why} once the delivery is handled.

#include <functional>
#include <memory>
#include <string>

#include "base/status.h"
#include "reconciler/server/reconciler_control.h"

namespace amlc::reconciler {

class ApiServer {
 public:
  /// `control` must outlive the server. An empty `webhook_secret` turns the
  /// webhook routes off (403); the status API works either way.
  ApiServer(ReconcilerControl& control, std::string webhook_secret);
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
  /// address: there is no default. kUnavailable naming host:port when the
  /// address cannot be bound; a server starts once.
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
