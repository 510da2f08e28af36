// Notes: per-request bookkeeping (start time, request id, the body kept for
// telemetry) lives in a thread_local: cpp-httplib runs the pre-routing
// handler, the route and the logger of one request on the same thread, and
// the logger is the one place every answer passes through (also the 413s
// cpp-httplib makes itself), so metrics and telemetry are recorded there.
#include "runtime/serving/scoring/scoring_server.h"

#include <httplib.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>

#include "base/clock.h"

namespace amlc::runtime::serving {

namespace {

struct RequestContext {
  Clock::time_point started;
  bool scoring = false;  // a POST /score, counted in metrics and telemetry
  std::string request_id;
  std::string body;
};
thread_local RequestContext t_request;

std::string MessageBody(const std::string& message) {
  return nlohmann::json{{"message", message}}.dump(-1, ' ', false,
                                                   nlohmann::json::error_handler_t::replace);
}

void Answer(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(MessageBody(message), "application/json");
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
      limits_(limits),
      server_(std::make_unique<httplib::Server>()) {
  // A connection keeps its thread while it is kept alive, so there are many
  // more threads than workers: the threads mostly wait, and clients that
  // reuse connections (wrk, load balancers) must not queue behind each other.
  size_t threads = 64 + 8 * static_cast<size_t>(pool.size());
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_->set_keep_alive_max_count(10000);
  // Headers and body go out in separate writes; with Nagle on, a kept-alive
  // connection waits for the client's delayed ACK (about 40 ms) per answer.
  server_->set_tcp_nodelay(true);
  server_->set_payload_max_length(static_cast<size_t>(limits_.max_body_bytes));
  Routes();
}

ScoringServer::~ScoringServer() = default;

namespace {

using httplib::Request;
using httplib::Response;
using Handled = httplib::Server::HandlerResponse;

// A scoring request's body, read to its end (or to the limit).
struct Body {
  std::string text;       // empty when the caller was not authorized
  bool complete = false;  // false: the connection cannot be reused
  bool too_big = false;
};

// Reads the body even when the key is wrong: leaving it unread would make
// the rest of a kept-alive connection unparseable.
Body ReadBody(const Request& req, const httplib::ContentReader& reader, bool keep, size_t limit) {
  Body body;
  size_t seen = 0;
  // HTTP/1.1: without Content-Length or Transfer-Encoding there is no body
  // (cpp-httplib would wait for the client to close the connection).
  bool has_body = req.has_header("Content-Length") || req.has_header("Transfer-Encoding");
  body.complete = !has_body || reader([&](const char* data, size_t size) {
    seen += size;
    if (seen > limit) {
      body.too_big = true;
      return false;  // a chunked body over the limit: stop reading it
    }
    if (keep) body.text.append(data, size);
    return true;
  });
  return body;
}

void AnswerScore(Response& res, ScoreResult result) {
  res.status = result.status;
  res.body = std::move(result.body);
  res.set_header("Content-Type", ContentTypeOf(result.content));
  if (result.ran) {
    char exec_ms[32];
    std::snprintf(exec_ms, sizeof exec_ms, "%.3f", result.exec_us / 1000.0);
    res.set_header("x-ms-run-fn-exec-ms", exec_ms);
  }
}

void AnswerLive(const Request&, Response& res) { res.set_content("Healthy", "text/plain; charset=utf-8"); }

// Answers cpp-httplib makes itself (404, 413 for a Content-Length over the
// limit, 400 for a malformed request) get a JSON message like ours.
Handled AnswerError(const Request& req, Response& res) {
  if (!res.body.empty()) return Handled::Unhandled;
  std::string message;
  switch (res.status) {
    case 404:
      message = "no route " + req.method + " " + req.path;
      break;
    case 413:
      message = "the request body is larger than the limit";
      break;
    case 400:
      message = "the request could not be parsed as HTTP";
      break;
    default:
      message = "HTTP status " + std::to_string(res.status);
  }
  res.set_content(MessageBody(message), "application/json");
  return Handled::Handled;
}

}  // namespace

void ScoringServer::Routes() {
  server_->set_pre_routing_handler([this](const Request& req, Response& res) {
    StartRequest(req, res);
    return Handled::Unhandled;
  });
  server_->Post("/score", [this](const Request& req, Response& res, const httplib::ContentReader& reader) {
    Score(req, res, reader);
  });
  server_->Get("/score", [](const Request&, Response& res) {
    res.set_header("Allow", "POST");
    Answer(res, 405, "send scoring requests with POST /score");
  });
  server_->Get("/", AnswerLive);
  server_->Get("/v2/health/live", AnswerLive);
  auto ready = [this](const Request&, Response& res) { AnswerReady(res); };
  server_->Get("/health/ready", ready);
  server_->Get("/v2/health/ready", ready);
  server_->Get("/metrics", [this](const Request&, Response& res) {
    res.set_content(metrics_.Render(pool_.restarts(), pool_.ready_workers(), pool_.size()),
                    "text/plain; version=0.0.4; charset=utf-8");
  });
  server_->set_error_handler(httplib::Server::HandlerWithResponse(AnswerError));
  server_->set_logger([this](const Request&, const Response& res) { FinishRequest(res); });
}

void ScoringServer::StartRequest(const Request& req, Response& res) {
  t_request.started = Clock::now();
  t_request.body.clear();
  std::string id = req.get_header_value("x-request-id");
  t_request.request_id = UsableRequestId(id) ? id : NewRequestId();
  res.set_header("x-request-id", t_request.request_id);
  res.set_header("x-ms-request-id", t_request.request_id);
  t_request.scoring = req.method == "POST" && req.path == "/score";
  if (t_request.scoring) metrics_.RequestStarted();
}

void ScoringServer::Score(const Request& req, Response& res, const httplib::ContentReader& reader) {
  bool authorized = keys_ == nullptr || keys_->Accepts(req.get_header_value("Authorization"));
  size_t limit = static_cast<size_t>(limits_.max_body_bytes);
  Body body = ReadBody(req, reader, authorized, limit);
  if (!body.complete) res.set_header("Connection", "close");
  if (!authorized) {
    res.set_header("WWW-Authenticate", "Bearer");
    Answer(res, 401,
           "a valid key is required: send the header 'Authorization: Bearer KEY' with the "
           "endpoint's primary or secondary key");
    return;
  }
  if (body.too_big || res.status == 413) {
    Answer(res, 413, "the request body is larger than the limit of " + std::to_string(limit) + " bytes");
    return;
  }
  if (!body.complete) {
    Answer(res, 400, "the request body could not be read");
    return;
  }
  AnswerScore(res, pool_.Score(t_request.request_id, body.text, limits_.queue_wait, limits_.request_timeout));
  t_request.body = std::move(body.text);
}

void ScoringServer::AnswerReady(Response& res) {
  PoolReadiness readiness = pool_.Readiness();
  nlohmann::json body = {{"ready", readiness.ready},
                         {"workers", readiness.workers},
                         {"workers_ready", readiness.ready_workers}};
  if (!readiness.ready) body["reason"] = readiness.reason;
  res.status = readiness.ready ? 200 : 503;
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

// The logger is the one place every answer passes through, also the 413s
// cpp-httplib makes itself: scoring requests are counted here.
void ScoringServer::FinishRequest(const Response& res) {
  if (!t_request.scoring) return;
  t_request.scoring = false;
  double seconds = std::chrono::duration<double>(Clock::now() - t_request.started).count();
  metrics_.RequestFinished(res.status, seconds);
  if (telemetry_ != nullptr) {
    telemetry_->Record(NowMillis(), t_request.request_id, res.status, seconds * 1000, t_request.body, res.body);
  }
  t_request.body.clear();
}

StatusOr<int> ScoringServer::Bind(const std::string& host, int port) {
  int bound = -1;
  if (port == 0) {
    bound = server_->bind_to_any_port(host);
  } else if (server_->bind_to_port(host, port)) {
    bound = port;
  }
  if (bound <= 0) {
    return Status(StatusCode::kUnavailable,
                  "cannot listen on " + host + ":" + std::to_string(port) +
                      " (address in use, or not an address of this machine)");
  }
  return bound;
}

void ScoringServer::Listen() { server_->listen_after_bind(); }

void ScoringServer::Stop() { server_->stop(); }

}  // namespace amlc::runtime::serving
