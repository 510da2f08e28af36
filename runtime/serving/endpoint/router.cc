// Implementation notes: the routes are a small table swapped whole by the
// supervisor; a request picks its backend and counts itself in while holding
// the table's mutex, so once the supervisor has swapped a backend out and
// sees its in-flight count at 0, no request can still be on its way to it.
// Forwarding happens outside the mutex, over keep-alive connections pooled
// per backend (one connection per concurrent request, reused afterwards).
#include "runtime/serving/endpoint/router.h"

#include <httplib.h>
#include <strings.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>

namespace amlc::runtime::endpoint {

namespace {

// Threads serving the router's connections: each keep-alive client holds one
// while connected, and a slow replica holds one per request in flight.
constexpr size_t kServerThreads = 64;
constexpr size_t kMaxIdleConnections = 32;  // per backend
constexpr int64_t kSuspectMs = 1000;         // avoid a backend this long after a failure
// A pooled connection idle longer than this is closed rather than reused:
// servers close idle keep-alive connections (amlc serve after 5 s), and a
// request written just as the server closes is lost in an ambiguous way.
constexpr int64_t kMaxIdleMs = 2000;

int64_t SteadyMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::mt19937& Random() {
  thread_local std::mt19937 generator(std::random_device{}());
  return generator;
}

// Headers that belong to one connection, not to the request or response
// (RFC 9110 7.6.1), plus the ones the forwarding client sets itself and the
// pseudo-headers cpp-httplib adds to a received request.
bool NotForwarded(const std::string& name) {
  static const char* const kSkipped[] = {
      "Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "TE", "Trailer",
      "Upgrade", "Host", "Content-Length", "Accept-Encoding", "Content-Encoding",
      "REMOTE_ADDR", "REMOTE_PORT", "LOCAL_ADDR", "LOCAL_PORT"};
  for (const char* skipped : kSkipped) {
    if (strcasecmp(name.c_str(), skipped) == 0) return true;
  }
  return false;
}

void ErrorResponse(httplib::Response& response, int status, const std::string& code,
                   const std::string& message) {
  response.status = status;
  nlohmann::json body = {{"error", {{"code", code}, {"message", message}}}};
  response.set_content(body.dump() + "\n", "application/json");
}

HttpRequest Outgoing(const httplib::Request& request) {
  HttpRequest outgoing;
  outgoing.method = request.method;
  outgoing.target = request.target.empty() ? request.path : request.target;
  outgoing.body = request.body;
  for (const auto& [key, value] : request.headers) {
    if (!NotForwarded(key)) outgoing.headers.emplace_back(key, value);
  }
  std::string client = request.get_header_value("REMOTE_ADDR");
  if (!client.empty()) outgoing.headers.emplace_back("X-Forwarded-For", client);
  return outgoing;
}

// The backend with the fewest requests in flight; ties are broken at random
// so that sequential traffic still spreads over every replica. Suspect
// backends only when there is nothing else.
std::shared_ptr<Backend> LeastBusy(const std::vector<std::shared_ptr<Backend>>& backends,
                                   const Backend* exclude, bool allow_suspect = false) {
  std::vector<const std::shared_ptr<Backend>*> best;
  int fewest = 0;
  for (const auto& backend : backends) {
    if (backend.get() == exclude || (!allow_suspect && backend->Suspect())) continue;
    int load = backend->in_flight();
    if (best.empty() || load < fewest) {
      best.clear();
      fewest = load;
    }
    if (load == fewest) best.push_back(&backend);
  }
  if (best.empty()) return allow_suspect ? nullptr : LeastBusy(backends, exclude, true);
  std::uniform_int_distribution<size_t> pick(0, best.size() - 1);
  return *best[pick(Random())];
}

}  // namespace

void LoadMeter::Advance(std::chrono::steady_clock::time_point now) {
  integral_ += in_flight_ * std::chrono::duration<double>(now - last_).count();
  last_ = now;
}

void LoadMeter::Add(int delta) {
  std::lock_guard<std::mutex> lock(mutex_);
  Advance(std::chrono::steady_clock::now());
  in_flight_ += delta;
}

double LoadMeter::Integral() {
  std::lock_guard<std::mutex> lock(mutex_);
  Advance(std::chrono::steady_clock::now());
  return integral_;
}

void Backend::Enter() {
  ++in_flight_;
  if (meter_) meter_->Add(1);
}

void Backend::Leave() {
  if (meter_) meter_->Add(-1);
  --in_flight_;
}

StatusOr<HttpResponse> Backend::Send(const HttpRequest& request) {
  std::unique_ptr<HttpClient> client;
  {
    std::lock_guard<std::mutex> lock(pool_mutex_);
    int64_t now = SteadyMillis();
    std::erase_if(idle_, [&](const Idle& idle) { return now - idle.since_ms > kMaxIdleMs; });
    if (!idle_.empty()) {
      client = std::move(idle_.back().client);
      idle_.pop_back();
    }
  }
  if (!client) client = std::make_unique<HttpClient>("127.0.0.1", port_);
  StatusOr<HttpResponse> response = client->Send(request);
  if (response.ok()) {
    std::lock_guard<std::mutex> lock(pool_mutex_);
    if (idle_.size() < kMaxIdleConnections) idle_.push_back({std::move(client), SteadyMillis()});
  } else {
    MarkFailed();
  }
  return response;
}

void Backend::MarkFailed() { failed_at_ms_ = SteadyMillis(); }

bool Backend::Suspect() const {
  int64_t failed = failed_at_ms_.load();
  return failed != 0 && SteadyMillis() - failed < kSuspectMs;
}

void Backend::CloseConnections() {
  std::lock_guard<std::mutex> lock(pool_mutex_);
  idle_.clear();
}

Router::Router(std::string endpoint)
    : endpoint_(std::move(endpoint)), server_(std::make_unique<httplib::Server>()) {}

Router::~Router() { Stop(); }

StatusOr<int> Router::Start(const std::string& host, int port) {
  server_->new_task_queue = [] { return new httplib::ThreadPool(kServerThreads); };
  server_->set_tcp_nodelay(true);
  // A client's keep-alive connection is never closed after N requests (that
  // would race with its next request), only after 3 s idle, which also bounds
  // how long Stop waits for idle connections.
  server_->set_keep_alive_max_count(1000000);
  server_->set_keep_alive_timeout(3);
  server_->Get("/", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("Healthy", "text/plain");
  });
  server_->Get("/health/ready",
               [this](const httplib::Request&, httplib::Response& response) { Ready(response); });
  server_->Get("/amlc/status", [this](const httplib::Request&, httplib::Response& response) {
    std::lock_guard<std::mutex> lock(mutex_);
    response.set_content(status_document_, "application/json");
  });
  auto forward = [this](const httplib::Request& request, httplib::Response& response) {
    Forward(request, response);
  };
  server_->Post(".*", forward);
  server_->Get(".*", forward);
  server_->Put(".*", forward);
  server_->Patch(".*", forward);
  server_->Delete(".*", forward);
  int bound = port == 0 ? server_->bind_to_any_port(host)
                        : (server_->bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    return Status(StatusCode::kUnavailable,
                  "cannot listen on " + host + ":" + std::to_string(port) + ": " + strerror(errno));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return bound;
}

void Router::Stop() {
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

void Router::SetRoutes(std::vector<Route> routes, std::set<std::string> known,
                       std::string pin_header) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const Route& route : routes_) {
    for (const auto& backend : route.backends) backend->routed_ = false;
  }
  for (const Route& route : routes) {
    for (const auto& backend : route.backends) backend->routed_ = true;
  }
  routes_ = std::move(routes);
  known_ = std::move(known);
  pin_header_ = std::move(pin_header);
}

void Router::SetStatusDocument(std::string json) {
  std::lock_guard<std::mutex> lock(mutex_);
  status_document_ = std::move(json);
}

Router::Pick Router::Choose(const std::string& pinned, const Backend* exclude,
                            const std::string& deployment) {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::string& wanted = !deployment.empty() ? deployment : pinned;
  const Route* route = nullptr;
  if (!wanted.empty()) {
    if (!known_.count(wanted)) {
      std::string names;
      for (const std::string& name : known_) names += (names.empty() ? "" : ", ") + name;
      return {nullptr, 404, "endpoint '" + endpoint_ + "' has no deployment '" + wanted +
                                "' (deployments: " + (names.empty() ? "none" : names) + ")"};
    }
    for (const Route& candidate : routes_) {
      if (candidate.deployment == wanted) route = &candidate;
    }
  } else {
    // Weighted by traffic among the deployments that can answer now.
    int total = 0;
    for (const Route& candidate : routes_) {
      if (candidate.traffic > 0 && !candidate.backends.empty()) total += candidate.traffic;
    }
    if (total == 0) {
      return {nullptr, 503, "endpoint '" + endpoint_ + "' has no deployment with traffic and a "
                                                       "ready replica"};
    }
    int ticket = std::uniform_int_distribution<int>(0, total - 1)(Random());
    for (const Route& candidate : routes_) {
      if (candidate.traffic <= 0 || candidate.backends.empty()) continue;
      if (ticket < candidate.traffic) {
        route = &candidate;
        break;
      }
      ticket -= candidate.traffic;
    }
  }
  std::shared_ptr<Backend> backend = route ? LeastBusy(route->backends, exclude) : nullptr;
  if (!backend) {
    return {nullptr, 503, "deployment '" + wanted + "' of endpoint '" + endpoint_ +
                              "' has no " + (exclude ? "other " : "") + "ready replica"};
  }
  backend->Enter();
  return {backend, 0, ""};
}

void Router::Forward(const httplib::Request& request, httplib::Response& response) {
  ++in_flight_;
  std::string pin_header;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pin_header = pin_header_;
  }
  Pick pick = Choose(request.get_header_value(pin_header.c_str()), nullptr, "");
  if (!pick.backend) {
    ErrorResponse(response, pick.error_status,
                  pick.error_status == 404 ? "DeploymentNotFound" : "NoReadyReplica", pick.error);
    --in_flight_;
    return;
  }
  HttpRequest outgoing = Outgoing(request);
  StatusOr<HttpResponse> answer = pick.backend->Send(outgoing);
  pick.backend->Leave();
  // Refused before anything was sent (the replica just died): one more try on
  // another replica of the same deployment cannot run the request twice.
  if (!answer.ok() && answer.status().code() == StatusCode::kUnavailable) {
    Pick retry = Choose("", pick.backend.get(), pick.backend->deployment());
    if (retry.backend) {
      pick = retry;
      answer = pick.backend->Send(outgoing);
      pick.backend->Leave();
    }
  }
  if (!answer.ok()) {
    ErrorResponse(response, 502, "ReplicaUnavailable",
                  "deployment '" + pick.backend->deployment() + "': " + answer.status().message());
  } else {
    response.status = answer->status;
    for (const auto& [key, value] : answer->headers) {
      if (!NotForwarded(key)) response.headers.emplace(key, value);
    }
    response.body = std::move(answer->body);
  }
  response.set_header("azureml-model-deployment", pick.backend->deployment());
  --in_flight_;
}

void Router::Ready(httplib::Response& response) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string missing;
  bool any = false;
  for (const Route& route : routes_) {
    if (route.traffic <= 0) continue;
    any = true;
    if (route.backends.empty()) missing += (missing.empty() ? "" : ", ") + route.deployment;
  }
  if (any && missing.empty()) {
    response.set_content("Ready", "text/plain");
    return;
  }
  response.status = 503;
  response.set_content(any ? "not ready: no ready replica in " + missing
                           : "not ready: no deployment has traffic",
                       "text/plain");
}

}  // namespace amlc::runtime::endpoint
