// Notes: the front (base/http_front.h) calls OnHead on its event
// loop, OnRequest on a handler thread, and OnAnswered for every answer to a
// request whose head it parsed, also its own 408s and 413s: metrics and
// telemetry are recorded there. The request id travels in the request's note.
#include "runtime/serving/scoring/scoring_server.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>

#include "base/clock.h"

namespace amlc::runtime::serving {

namespace {

std::string MessageBody(const std::string& message) {
  return nlohmann::json{{"message", message}}.dump(-1, ' ', false,
                                                   nlohmann::json::error_handler_t::replace);
}

FrontResponse Answer(int status, const std::string& message) {
  return FrontResponse::Text(status, MessageBody(message), "application/json");
}

bool IsScoring(const FrontRequest& request) {
  return request.method == "POST" && request.path == "/score";
}

// The routes of Azure ML's inference server and KServe v2 beyond POST /score,
// answered by the worker (python/amlc/inference.py); keyed like /score.
bool IsOtherWorkerRoute(const FrontRequest& request) {
  const std::string& path = request.path;
  bool v2_model = path.rfind("/v2/models/", 0) == 0;
  if (request.method == "GET") return path == "/score" || path == "/swagger.json" || path == "/v2" || v2_model;
  return request.method == "POST" && v2_model && path.size() > 6 && path.ends_with("/infer");
}

// A request the worker answers whole: u32 meta_len, JSON {method, path, query, headers}, body.
std::string HttpEnvelope(const FrontRequest& request) {
  nlohmann::json headers = nlohmann::json::object();
  for (const auto& [name, value] : request.headers) headers[name] = value;
  size_t question = request.target.find('?');
  nlohmann::json meta = {{"method", request.method},
                         {"path", request.path},
                         {"query", question == std::string::npos ? "" : request.target.substr(question + 1)},
                         {"headers", headers}};
  std::string text = meta.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string envelope(4, '\0');
  auto size = static_cast<uint32_t>(text.size());
  for (int i = 0; i < 4; ++i) envelope[i] = static_cast<char>((size >> (8 * i)) & 0xff);
  return envelope + text + request.body;
}

std::string NewRequestId() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  uint64_t high = random(), low = random();
  high = (high & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  low = (low & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;    // RFC 4122 variant
  char text[40];
  std::snprintf(text, sizeof text, "%08llx-%04llx-%04llx-%04llx-%012llx",
                static_cast<unsigned long long>(high >> 32),
                static_cast<unsigned long long>((high >> 16) & 0xffff),
                static_cast<unsigned long long>(high & 0xffff),
                static_cast<unsigned long long>(low >> 48),
                static_cast<unsigned long long>(low & 0xffffffffffffULL));
  return text;
}

// A client's id is echoed only if it is short printable ASCII: it goes into
// response headers, telemetry and the worker's frame.
bool UsableRequestId(const std::string& id) {
  if (id.empty() || id.size() > 256) return false;
  for (unsigned char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

ScoringServer::ScoringServer(WorkerPool& pool, ServingMetrics& metrics, KeyStore* keys,
                             TelemetryWriter* telemetry, LogSink& log, ServerLimits limits)
    : pool_(pool),
      metrics_(metrics),
      keys_(keys),
      telemetry_(telemetry),
      log_(log),
      limits_(limits) {
  FrontLimits front = limits_.front;
  front.max_body_bytes = limits_.max_body_bytes;
  // Handler threads hold complete requests only (a slow client holds none),
  // blocked in the pool for up to the queue wait and the request timeout;
  // more of them than workers, so that the queue wait decides, not the threads.
  front.handler_threads = 64 + 8 * pool.size();
  front_ = std::make_unique<HttpFront>(static_cast<FrontHandler&>(*this), front);
}

ScoringServer::~ScoringServer() = default;

namespace {

// A worker's envelope answer: its content type and headers, then the body.
FrontResponse OpenEnvelope(int status, const std::string& envelope) {
  uint32_t size = 0;
  for (int i = 0; i < 4 && i < static_cast<int>(envelope.size()); ++i) {
    size |= static_cast<uint32_t>(static_cast<unsigned char>(envelope[i])) << (8 * i);
  }
  if (envelope.size() < 4 || envelope.size() - 4 < size) {
    return FrontResponse::Text(502, MessageBody("the scoring worker sent a malformed answer"), "application/json");
  }
  nlohmann::json meta = nlohmann::json::parse(envelope.substr(4, size), nullptr, false);
  if (!meta.is_object()) meta = nlohmann::json::object();
  FrontResponse res = FrontResponse::Text(status, envelope.substr(4 + size),
                                          meta.value("content_type", std::string("application/octet-stream")));
  if (meta.contains("headers") && meta["headers"].is_object()) {
    for (auto& [name, value] : meta["headers"].items()) {
      if (value.is_string()) res.Set(name, value.get<std::string>());
    }
  }
  return res;
}

FrontResponse AnswerScore(ScoreResult result) {
  FrontResponse res = result.content == ContentKind::kEnvelope
                          ? OpenEnvelope(result.status, result.body)
                          : FrontResponse::Text(result.status, std::move(result.body), ContentTypeOf(result.content));
  if (result.ran) {
    char exec_ms[32];
    std::snprintf(exec_ms, sizeof exec_ms, "%.3f", result.exec_us / 1000.0);
    res.Set("x-ms-run-fn-exec-ms", exec_ms);
  }
  return res;
}

FrontResponse AnswerLive() { return FrontResponse::Text(200, "Healthy", "text/plain; charset=utf-8"); }

}  // namespace

HeadDecision ScoringServer::OnHead(FrontRequest& head) {
  std::string id = head.Header("x-request-id");
  head.note = UsableRequestId(id) ? id : NewRequestId();
  if (!IsScoring(head) && !IsOtherWorkerRoute(head)) return {AnswerWithoutBody(head)};
  if (IsScoring(head)) metrics_.RequestStarted();
  if (keys_ != nullptr && !keys_->Accepts(head.Header("Authorization"))) {
    FrontResponse refused = Answer(401,
                                   "a valid key is required: send the header 'Authorization: Bearer KEY' "
                                   "with the endpoint's primary or secondary key");
    refused.Set("WWW-Authenticate", "Bearer");
    return {std::move(refused)};
  }
  return {std::nullopt, limits_.max_body_bytes};
}

// Every route but POST /score: answered from the head.
std::optional<FrontResponse> ScoringServer::AnswerWithoutBody(const FrontRequest& head) {
  if (head.method == "GET") {
    const std::string& path = head.path;
    if (path == "/" || path == "/v2/health/live") return AnswerLive();
    if (path == "/health/ready" || path == "/v2/health/ready") return AnswerReady();
    if (path == "/metrics") {
      return FrontResponse::Text(200, metrics_.Render(pool_.restarts(), pool_.ready_workers(), pool_.size()),
                                 "text/plain; version=0.0.4; charset=utf-8");
    }
  }
  return Answer(404, "no route " + head.method + " " + head.path);
}

FrontResponse ScoringServer::OnRequest(FrontRequest& request) {
  // POST /score without a query goes as it is (the fast path), unless the
  // script takes the whole request (@rawhttp); the rest whole, in an envelope.
  if (IsScoring(request) && request.target == request.path && !pool_.wants_http()) {
    return AnswerScore(pool_.Score(request.note, request.body, limits_.queue_wait, limits_.request_timeout));
  }
  return AnswerScore(pool_.Score(request.note, HttpEnvelope(request), limits_.queue_wait, limits_.request_timeout,
                                 kRequestHttp));
}

FrontResponse ScoringServer::ErrorResponse(int status, const std::string& message, const FrontRequest*) {
  return Answer(status, message);
}

FrontResponse ScoringServer::AnswerReady() {
  PoolReadiness readiness = pool_.Readiness();
  nlohmann::json body = {{"ready", readiness.ready},
                         {"workers", readiness.workers},
                         {"workers_ready", readiness.ready_workers}};
  if (!readiness.ready) body["reason"] = readiness.reason;
  return FrontResponse::Text(readiness.ready ? 200 : 503,
                             body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                             "application/json");
}

// Every answer to a parsed head passes here, also the front's own 408s and
// 413s: scoring requests are counted and recorded here.
void ScoringServer::OnAnswered(const FrontRequest& request, FrontResponse& response) {
  if (!request.note.empty()) {
    response.Set("x-request-id", request.note);
    response.Set("x-ms-request-id", request.note);
  }
  for (const auto& [name, value] : answer_headers_) response.Set(name, value);
  if (!IsScoring(request)) return;
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - request.started).count();
  metrics_.RequestFinished(response.status, seconds);
  if (telemetry_ != nullptr) {
    telemetry_->Record(NowMillis(), request.note, response.status, seconds * 1000, request.body, response.body);
  }
}

StatusOr<int> ScoringServer::Bind(const std::string& host, int port) {
  std::string name = host == "localhost" ? "127.0.0.1" : host;
  StatusOr<int> bound = front_->Bind(name, port);
  if (!bound.ok()) {
    return Status(StatusCode::kUnavailable, bound.status().message() +
                                                " (address in use, or not an address of this machine)");
  }
  return bound;
}

void ScoringServer::Listen() { front_->Run(); }

void ScoringServer::Stop() { front_->Stop(); }

}  // namespace amlc::runtime::serving
