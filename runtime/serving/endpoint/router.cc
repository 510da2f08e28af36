// Implementation notes: the routes are a small table swapped whole by the
// supervisor; a request picks its backend and counts itself in while holding
// the table's mutex, so once the supervisor has swapped a backend out and
// sees its in-flight count at 0, no request can still be on its way to it.
// Forwarding happens outside the mutex, over keep-alive connections pooled
// per backend (one connection per concurrent request, reused afterwards).
#include "runtime/serving/endpoint/router.h"

#include <strings.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>

namespace amlc::runtime::endpoint {

namespace {

// Handler threads: each holds one request being forwarded (its body complete)
// while the replica answers; connections waiting for a head or a body hold none.
constexpr int kHandlerThreads = 64;
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


FrontResponse ErrorAnswer(int status, const std::string& code, const std::string& message) {
  nlohmann::json body = {{"error", {{"code", code}, {"message", message}}}};
  return FrontResponse::Text(status, body.dump() + "\n", "application/json");
}

// The error code of an answer the front makes itself.
std::string FrontErrorCode(int status) {
  switch (status) {
    case 400: return "BadRequest";
    case 404: return "NotFound";
    case 408: return "RequestTimeout";
    case 411: return "LengthRequired";
    case 413: return "PayloadTooLarge";
    case 431: return "RequestHeaderFieldsTooLarge";
    default: return "InternalError";
  }
}

bool Forwardable(const std::string& method) {
  return method == "POST" || method == "GET" || method == "PUT" || method == "PATCH" ||
         method == "DELETE";
}

HttpRequest Outgoing(const FrontRequest& request) {
  HttpRequest outgoing;
  outgoing.method = request.method;
  outgoing.target = request.target;
  outgoing.body = request.body;
  for (const auto& [key, value] : request.headers) {
    if (!NotForwarded(key)) outgoing.headers.emplace_back(key, value);
  }
  if (!request.remote_address.empty()) outgoing.headers.emplace_back("X-Forwarded-For", request.remote_address);
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
    // The other idle connections lead to the same process, most likely dead
    // too: a fresh connection is refused outright (safe to retry elsewhere),
    // where a stale one would fail after the request was written.
    MarkFailed();
    CloseConnections();
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

Router::Router(std::string endpoint) : endpoint_(std::move(endpoint)) {}

Router::~Router() { Stop(); }

StatusOr<int> Router::Start(const std::string& host, int port) {
  FrontLimits limits;
  limits.handler_threads = kHandlerThreads;
  front_ = std::make_unique<HttpFront>(static_cast<FrontHandler&>(*this), limits);
  StatusOr<int> bound = front_->Bind(host == "localhost" ? "127.0.0.1" : host, port);
  if (!bound.ok()) return bound.status();
  thread_ = std::thread([this] { front_->Run(); });
  return bound;
}

void Router::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  routes_changed_.notify_all();
  front_->Stop();
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
  routes_changed_.notify_all();
}

void Router::SetStatusDocument(std::string json) {
  std::lock_guard<std::mutex> lock(mutex_);
  status_document_ = std::move(json);
}

Router::Pick Router::Failed(int status, std::string error) {
  Pick pick;
  pick.error_status = status;
  pick.error = std::move(error);
  return pick;
}

const Route* Router::FindRoute(const std::string& wanted, Pick& error) {
  if (!wanted.empty()) {
    if (!known_.count(wanted)) {
      std::string names;
      for (const std::string& name : known_) names += (names.empty() ? "" : ", ") + name;
      error = Failed(404, "endpoint '" + endpoint_ + "' has no deployment '" + wanted +
                                 "' (deployments: " + (names.empty() ? "none" : names) + ")");
      return nullptr;
    }
    for (const Route& candidate : routes_) {
      if (candidate.deployment == wanted) return &candidate;
    }
    return nullptr;
  }
  // Weighted by traffic among the deployments that can answer now; when none
  // can, among those recovering (their only replica is restarting), whose
  // requests then wait in OnRequest for a replica to become ready.
  for (bool answer_now : {true, false}) {
    auto eligible = [&](const Route& route) {
      return route.traffic > 0 && (answer_now ? !route.backends.empty() : route.recovering);
    };
    int total = 0;
    for (const Route& candidate : routes_) total += eligible(candidate) ? candidate.traffic : 0;
    if (total == 0) continue;
    int ticket = std::uniform_int_distribution<int>(0, total - 1)(Random());
    for (const Route& candidate : routes_) {
      if (!eligible(candidate)) continue;
      if (ticket < candidate.traffic) return &candidate;
      ticket -= candidate.traffic;
    }
  }
  error = Failed(503, "endpoint '" + endpoint_ + "' has no deployment with traffic and a ready replica");
  return nullptr;
}

Router::Pick Router::ChooseDeployment(const std::string& pinned) {
  std::lock_guard<std::mutex> lock(mutex_);
  Pick pick;
  const Route* route = FindRoute(pinned, pick);
  if (pick.error_status != 0) return pick;
  if (!route || (route->backends.empty() && !route->recovering)) {
    return Failed(503, "deployment '" + pinned + "' of endpoint '" + endpoint_ + "' has no ready replica");
  }
  pick.deployment = route->deployment;
  pick.gate = route->gate;
  return pick;
}

Router::Pick Router::ChooseWaiting(const Backend* exclude, const std::string& deployment) {
  auto deadline = std::chrono::steady_clock::now() + kReplicaWait;
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    Pick pick = ChooseLocked(exclude, deployment);
    if (pick.backend || !pick.worth_waiting || stopping_) return pick;
    if (routes_changed_.wait_until(lock, deadline) == std::cv_status::timeout) {
      pick.error += " within " + std::to_string(kReplicaWait.count()) + " s";
      return pick;
    }
  }
}

Router::Pick Router::ChooseLocked(const Backend* exclude, const std::string& deployment) {
  Pick pick;
  const Route* route = FindRoute(deployment, pick);
  if (pick.error_status != 0) return pick;
  std::shared_ptr<Backend> backend = route ? LeastBusy(route->backends, exclude) : nullptr;
  if (!backend) {
    Pick failed = Failed(503, "deployment '" + deployment + "' of endpoint '" + endpoint_ +
                                  "' has no " + (exclude ? "other " : "") + "ready replica");
    failed.worth_waiting = route && route->recovering;
    return failed;
  }
  backend->Enter();
  pick.backend = std::move(backend);
  pick.deployment = deployment;
  return pick;
}

HeadDecision Router::OnHead(FrontRequest& head) {
  if (head.method == "GET" && head.path == "/") return {FrontResponse::Text(200, "Healthy", "text/plain")};
  if (head.method == "GET" && head.path == "/health/ready") return {Ready()};
  if (head.method == "GET" && head.path == "/amlc/status") {
    std::lock_guard<std::mutex> lock(mutex_);
    return {FrontResponse::Text(200, status_document_, "application/json")};
  }
  if (!Forwardable(head.method)) {
    return {ErrorAnswer(405, "MethodNotAllowed", "the endpoint does not forward " + head.method + " requests")};
  }
  std::string pin_header;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pin_header = pin_header_;
  }
  Pick pick = ChooseDeployment(head.Header(pin_header));
  if (pick.error_status != 0) {
    return {ErrorAnswer(pick.error_status, pick.error_status == 404 ? "DeploymentNotFound" : "NoReadyReplica",
                        pick.error)};
  }
  head.note = pick.deployment;
  // The replica's own answer, given here so that the body never crosses the host.
  if (pick.gate.keys && head.method == "POST" && head.path == "/score" &&
      !pick.gate.keys->Accepts(head.Header("Authorization"))) {
    nlohmann::json body = {{"message", "a valid key is required: send the header 'Authorization: Bearer KEY' "
                                       "with the endpoint's primary or secondary key"}};
    FrontResponse refused = FrontResponse::Text(401, body.dump(), "application/json");
    refused.Set("WWW-Authenticate", "Bearer");
    return {std::move(refused)};
  }
  return {std::nullopt, pick.gate.max_body_bytes};
}

FrontResponse Router::OnRequest(FrontRequest& request) {
  ++in_flight_;
  Pick pick = ChooseWaiting(nullptr, request.note);
  if (!pick.backend) {
    --in_flight_;
    return ErrorAnswer(pick.error_status, pick.error_status == 404 ? "DeploymentNotFound" : "NoReadyReplica",
                       pick.error);
  }
  HttpRequest outgoing = Outgoing(request);
  StatusOr<HttpResponse> answer = pick.backend->Send(outgoing);
  pick.backend->Leave();
  // Refused before anything was sent (the replica just died): one more try on
  // another replica of the same deployment (or its replacement, once ready)
  // cannot run the request twice.
  if (!answer.ok() && answer.status().code() == StatusCode::kUnavailable) {
    Pick retry = ChooseWaiting(pick.backend.get(), pick.backend->deployment());
    if (retry.backend) {
      pick = retry;
      answer = pick.backend->Send(outgoing);
      pick.backend->Leave();
    }
  }
  FrontResponse response;
  if (!answer.ok()) {
    response = ErrorAnswer(502, "ReplicaUnavailable",
                           "deployment '" + pick.backend->deployment() + "': " + answer.status().message());
  } else {
    response.status = answer->status;
    for (auto& [key, value] : answer->headers) {
      if (!NotForwarded(key)) response.headers.emplace_back(key, std::move(value));
    }
    response.body = std::move(answer->body);
  }
  --in_flight_;
  return response;
}

FrontResponse Router::ErrorResponse(int status, const std::string& message, const FrontRequest*) {
  return ErrorAnswer(status, FrontErrorCode(status), message);
}

void Router::OnAnswered(const FrontRequest& request, FrontResponse& response) {
  if (!request.note.empty()) response.Set("azureml-model-deployment", request.note);
}

FrontResponse Router::Ready() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string missing;
  bool any = false;
  for (const Route& route : routes_) {
    if (route.traffic <= 0) continue;
    any = true;
    if (route.backends.empty()) missing += (missing.empty() ? "" : ", ") + route.deployment;
  }
  if (any && missing.empty()) return FrontResponse::Text(200, "Ready", "text/plain");
  return FrontResponse::Text(503,
                             any ? "not ready: no ready replica in " + missing
                                 : "not ready: no deployment has traffic",
                             "text/plain");
}

}  // namespace amlc::runtime::endpoint
