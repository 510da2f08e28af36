#ifndef AMLC_RUNTIME_SERVING_SCORING_SCORING_SERVER_H_
#define AMLC_RUNTIME_SERVING_SCORING_SCORING_SERVER_H_

// The routes of the scoring host, served by the shared event-driven front
// (base/http_front.h, whose limits and deadlines apply):
//
//   POST /score                 -> a worker's run(); needs a key when keys are configured
//   GET  /, /v2/health/live     -> 200 "Healthy" while the process runs
//   GET  /health/ready,
//        /v2/health/ready       -> 200 once every worker's init() succeeded, else 503 + why
//   GET  /metrics               -> Prometheus text
//
// Every answer carries x-request-id (the client's, or a new UUID) and, when
// run() was called, x-ms-run-fn-exec-ms. Errors are JSON {"message": ...}.
// The key is checked on the head: a request without a valid key is answered
// 401 before its body is read, and a Content-Length over max_body_bytes 413.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "base/http_front.h"
#include "runtime/serving/scoring/keys.h"
#include "runtime/serving/scoring/log_pump.h"
#include "runtime/serving/scoring/serving_metrics.h"
#include "runtime/serving/scoring/telemetry_writer.h"
#include "runtime/serving/scoring/worker_pool.h"

namespace amlc::runtime::serving {

struct ServerLimits {
  int64_t max_body_bytes = 10 * 1024 * 1024;
  std::chrono::milliseconds request_timeout{5000};
  std::chrono::milliseconds queue_wait{1000};
  FrontLimits front;  // deadlines, connection cap, header limits (max_body_bytes is set from above)
};

class ScoringServer : private FrontHandler {
 public:
  /// `keys` and `telemetry` may be null (auth off, no telemetry).
  ScoringServer(WorkerPool& pool, ServingMetrics& metrics, KeyStore* keys,
                TelemetryWriter* telemetry, LogSink& log, ServerLimits limits);
  ~ScoringServer();
  ScoringServer(const ScoringServer&) = delete;
  ScoringServer& operator=(const ScoringServer&) = delete;

  /// Binds host:port (0 = a free port) and returns the port.
  StatusOr<int> Bind(const std::string& host, int port);
  /// Serves until Stop(); returns once every request in progress is answered.
  void Listen();
  /// Stops accepting connections (safe from any thread).
  void Stop();
  /// Headers sent with every answer (the deployment's lineage); set before Listen.
  void set_answer_headers(std::map<std::string, std::string> headers) { answer_headers_ = std::move(headers); }

 private:
  HeadDecision OnHead(FrontRequest& head) override;
  FrontResponse OnRequest(FrontRequest& request) override;
  FrontResponse ErrorResponse(int status, const std::string& message,
                              const FrontRequest* head) override;
  void OnAnswered(const FrontRequest& request, FrontResponse& response) override;
  std::optional<FrontResponse> AnswerWithoutBody(const FrontRequest& head);
  FrontResponse AnswerReady();

  WorkerPool& pool_;
  ServingMetrics& metrics_;
  KeyStore* keys_;
  TelemetryWriter* telemetry_;
  LogSink& log_;
  ServerLimits limits_;
  std::map<std::string, std::string> answer_headers_;
  std::unique_ptr<HttpFront> front_;
};

}  // namespace amlc::runtime::serving

#endif  // AMLC_RUNTIME_SERVING_SCORING_SCORING_SERVER_H_
