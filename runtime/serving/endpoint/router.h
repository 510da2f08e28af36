#ifndef AMLC_RUNTIME_SERVING_ENDPOINT_ROUTER_H_
#define AMLC_RUNTIME_SERVING_ENDPOINT_ROUTER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "runtime/serving/endpoint/http_client.h"
#include "runtime/serving/endpoint/request_gate.h"
#include "base/http_front.h"

namespace amlc::runtime::endpoint {

/// The in-flight requests of one deployment over time: the router counts
/// requests in and out, the autoscaler reads the time integral, so the
/// average load over any interval is exact rather than a few snapshots.
class LoadMeter {
 public:
  void Add(int delta);
  /// Request-seconds accumulated since the meter was made, up to now.
  double Integral();

 private:
  void Advance(std::chrono::steady_clock::time_point now);

  std::mutex mutex_;
  int in_flight_ = 0;
  double integral_ = 0;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

/// One ready replica as the router sees it. Shared with the supervisor, which
/// stops routing to it by leaving it out of the routes and then waits until
/// the router has dropped it (routed() false) and its in-flight count is 0
/// before it signals the process.
class Backend {
 public:
  friend class Router;  // sets routed_
  Backend(std::string deployment, std::string revision, int pid, int port,
          std::shared_ptr<LoadMeter> meter)
      : deployment_(std::move(deployment)), revision_(std::move(revision)), pid_(pid),
        port_(port), meter_(std::move(meter)) {}

  const std::string& deployment() const { return deployment_; }
  const std::string& revision() const { return revision_; }
  int pid() const { return pid_; }
  int port() const { return port_; }
  int in_flight() const { return in_flight_.load(); }
  /// Whether the router's current table holds it. Once false (set under the
  /// router's mutex, which also covers picking a backend and counting a
  /// request in), no new request can reach it: with in_flight() == 0 it is
  /// idle for good and may be signalled.
  bool routed() const { return routed_.load(); }

  /// Counts a request in (the router does this while it holds the routes,
  /// so a request is never on a backend the supervisor believes idle).
  void Enter();
  void Leave();
  /// Sends one request over a pooled keep-alive connection.
  StatusOr<HttpResponse> Send(const HttpRequest& request);
  /// Drops the idle connections (when the replica is being stopped).
  void CloseConnections();
  /// Whether a request to it failed in the transport lately: a replica that
  /// was just killed can still accept a connection for a moment before its
  /// sockets close, so the router avoids it until the supervisor has looked.
  bool Suspect() const;

 private:
  void MarkFailed();

  std::string deployment_;
  std::string revision_;
  int pid_;
  int port_;
  std::shared_ptr<LoadMeter> meter_;
  std::atomic<int> in_flight_{0};
  std::atomic<bool> routed_{false};
  std::atomic<int64_t> failed_at_ms_{0};  // steady clock
  std::mutex pool_mutex_;
  struct Idle {
    std::unique_ptr<HttpClient> client;
    int64_t since_ms;  // steady clock
  };
  std::vector<Idle> idle_;
};

/// What the router may send to for one deployment.
struct Route {
  std::string deployment;
  int traffic = 0;                                // percent
  std::vector<std::shared_ptr<Backend>> backends;  // ready replicas of the serving revision
  RequestGate gate;                                // checked on the head of its requests
  bool recovering = false;  // no backend may be ready now, but one is being (re)started: wait for it
};

/// The endpoint's HTTP front: scoring requests go to a deployment (pinned by a
/// header, else weighted by traffic) and within it to the replica with the
/// fewest requests in flight. GET / and /health/ready answer for the
/// endpoint; GET /amlc/status returns the host's status document.
///
/// Served by the shared event-driven front (base/http_front.h):
/// the deployment is chosen on the head, whose key (POST /score) and
/// Content-Length are checked against the deployment's gate before the body
/// is read; the body, bounded by the gate's limit, is then forwarded from a
/// handler thread.
class Router : private FrontHandler {
 public:
  /// How long a request waits for a ready replica of its deployment before
  /// it is answered 503 (replica restarts take about a second here).
  static constexpr std::chrono::seconds kReplicaWait{10};

  explicit Router(std::string endpoint);
  ~Router();

  /// Binds host:port (0 = a free port) and serves on a thread of its own.
  /// Returns the bound port; kUnavailable when the address cannot be bound.
  StatusOr<int> Start(const std::string& host, int port);
  /// Stops accepting and returns once every request in progress is answered.
  void Stop();

  /// Replaces the routing table. `known` holds every deployment of the
  /// endpoint, routable or not, to tell "no such deployment" from "not ready".
  void SetRoutes(std::vector<Route> routes, std::set<std::string> known, std::string pin_header);
  void SetStatusDocument(std::string json);
  /// Requests being answered now, over all deployments.
  int InFlight() const { return in_flight_.load(); }

 private:
  struct Pick {
    std::shared_ptr<Backend> backend;
    int error_status = 0;  // when no backend: 404 or 503
    std::string error;
    bool worth_waiting = false;  // 503 from a recovering deployment
    std::string deployment;
    RequestGate gate;
  };
  static Pick Failed(int status, std::string error);
  // Mutex held: the route `wanted` names (pinned), else one drawn by
  // traffic; null with `error` filled when there is none.
  const Route* FindRoute(const std::string& wanted, Pick& error);
  // On the head: the deployment and its gate, without a backend.
  Pick ChooseDeployment(const std::string& pinned);
  // Mutex held, once the body is read: a backend of `deployment` other
  // than `exclude`, counted in.
  Pick ChooseLocked(const Backend* exclude, const std::string& deployment);
  // Choose, waiting up to kReplicaWait while the deployment has no ready
  // replica (its only one is restarting, or scaling up from a crash), as a
  // load balancer queues requests rather than refusing them at once.
  Pick ChooseWaiting(const Backend* exclude, const std::string& deployment);
  HeadDecision OnHead(FrontRequest& head) override;
  FrontResponse OnRequest(FrontRequest& request) override;
  FrontResponse ErrorResponse(int status, const std::string& message,
                                       const FrontRequest* head) override;
  void OnAnswered(const FrontRequest& request, FrontResponse& response) override;
  FrontResponse Ready();

  std::string endpoint_;
  std::unique_ptr<HttpFront> front_;
  std::thread thread_;
  mutable std::mutex mutex_;  // guards the fields below
  std::vector<Route> routes_;
  std::set<std::string> known_;
  std::string pin_header_ = "azureml-model-deployment";
  std::string status_document_ = "{}";
  bool stopping_ = false;
  std::condition_variable routes_changed_;  // SetRoutes and Stop notify
  std::atomic<int> in_flight_{0};
};

}  // namespace amlc::runtime::endpoint

#endif  // AMLC_RUNTIME_SERVING_ENDPOINT_ROUTER_H_
