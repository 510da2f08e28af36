// Notes: webhook handling is a plain function from a delivery (forge,
// headers, body) to a reply, so the order of the checks reads top to bottom:
// secret configured (403), signature (401, before the JSON is even parsed,
// so an unsigned request can make the reconciler do nothing at all), payload
// (400), replay (200, nothing done), then what the event asks for (202).
// The API token is checked on the request head, before any route runs.
#include "reconciler/server/api_server.h"
#include "runtime/tracking/mlflow_rest.h"
#include "runtime/views/workspace_metrics.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <openssl/crypto.h>
#include <sys/socket.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <exception>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "base/clock.h"
#include "base/digest.h"
#include "base/http_listener.h"
#include "base/prometheus_text.h"
#include "reconciler/server/delivery_log.h"
#include "reconciler/server/webhook.h"

namespace amlc::reconciler {

namespace {

using nlohmann::json;
using LogLine = std::function<void(const std::string&)>;

constexpr size_t kMaxBodyBytes = kMaxWebhookBodyBytes;
constexpr size_t kRouteThreads = 8;  // requests the routes handle at once
constexpr int kDefaultSyncLimit = 50;
constexpr int kMaxSyncLimit = 1000;

struct Reply {
  int status = 200;
  json body;
};

Reply Message(int status, const std::string& message) { return {status, {{"message", message}}}; }

Reply Ignored(const std::string& why) { return {202, {{"ignored", why}}}; }

// Commit messages and titles come from users: invalid UTF-8 is replaced, not
// thrown on.
std::string ReplyText(const Reply& reply) {
  return reply.body.dump(-1, ' ', false, json::error_handler_t::replace);
}

void Send(httplib::Response& res, const Reply& reply) {
  res.status = reply.status;
  res.set_content(ReplyText(reply), "application/json");
}

/// One webhook request, reduced to what the checks read.
struct Delivery {
  std::string forge;  // "github" or "gitea"
  std::string event;
  std::string id;  // X-GitHub-Delivery, X-Gitea-Delivery, ...: "" when absent
  std::string signature;
  SignatureForm signature_form = SignatureForm::kPrefixed;
  std::string content_type;
  const std::string& body;
};

// The first header present among `names`: Gitea (and Forgejo) also send
// GitHub's headers, and older Gitea versions only some of their own.
std::string FirstHeader(const httplib::Request& req, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (req.has_header(name)) return req.get_header_value(name);
  }
  return "";
}

// Each forge's signature header in the form it sends it: GitHub only
// "sha256=<hex>"; Gitea and Forgejo bare hex in their own header, and
// "sha256=<hex>" in GitHub's, which is read only when theirs is absent.
Delivery DeliveryOf(const std::string& forge, const httplib::Request& req,
                    const std::string& body) {
  Delivery delivery{forge, "", "", "", SignatureForm::kPrefixed,
                    req.get_header_value("Content-Type"), body};
  if (forge == "gitea") {
    delivery.event = FirstHeader(req, {"X-Gitea-Event", "X-Forgejo-Event", "X-GitHub-Event"});
    delivery.id = FirstHeader(req, {"X-Gitea-Delivery", "X-Forgejo-Delivery", "X-GitHub-Delivery"});
    if (req.has_header("X-Gitea-Signature") || req.has_header("X-Forgejo-Signature")) {
      delivery.signature = FirstHeader(req, {"X-Gitea-Signature", "X-Forgejo-Signature"});
      delivery.signature_form = SignatureForm::kBareHex;
    } else {
      delivery.signature = FirstHeader(req, {"X-Hub-Signature-256"});
    }
    return delivery;
  }
  delivery.event = FirstHeader(req, {"X-GitHub-Event"});
  delivery.id = FirstHeader(req, {"X-GitHub-Delivery"});
  delivery.signature = FirstHeader(req, {"X-Hub-Signature-256"});
  return delivery;
}

// What the signature covers: GitHub signs the body as sent (form-encoded or
// not), Gitea and Forgejo the JSON payload even inside a form.
const std::string& SignedBytes(const Delivery& delivery, const std::string& payload_text) {
  return delivery.forge == "gitea" ? payload_text : delivery.body;
}

bool IsZeroSha(const std::string& sha) {
  return !sha.empty() && sha.find_first_not_of('0') == std::string::npos;
}

std::string PushReason(const WebhookEvent& push) {
  std::string reason = "push " + push.after.substr(0, 7);
  if (!push.pusher.empty()) reason += " by " + push.pusher;
  return reason;
}

Reply AnswerPush(const WebhookEvent& push, ReconcilerControl& control, const LogLine& log) {
  std::string branch = control.Branch();
  std::string tracked_ref = "refs/heads/" + branch;
  if (push.ref != tracked_ref) {
    log("webhook: push to " + push.ref + " ignored, tracking " + branch);
    return Ignored("push to " + push.ref + ", tracking " + branch);
  }
  // A deletion points the ref at the zero commit: there is nothing to apply.
  if (IsZeroSha(push.after)) {
    log("webhook: deletion of " + push.ref + " ignored");
    return Ignored(push.ref + " was deleted; nothing to apply");
  }
  std::string reason = PushReason(push);
  control.RequestPass(reason);
  log("webhook: push to " + branch + " accepted (" + reason + ")");
  return {202, {{"accepted", "pass"}, {"reason", reason}}};
}

bool AsksForPreview(const std::string& action) {
  return action == "opened" || action == "synchronize" || action == "reopened" ||
         action == "edited" || action == "ready_for_review";
}

Reply AnswerPullRequest(const PullRequestEvent& pr, ReconcilerControl& control,
                        const LogLine& log) {
  std::string name = "pull request #" + std::to_string(pr.number);
  if (!AsksForPreview(pr.action)) {
    log("webhook: " + name + " " + pr.action + " ignored");
    return Ignored(name + " " + pr.action + ": no preview needed");
  }
  // Merging into another branch applies nothing, so a plan would mislead.
  std::string branch = control.Branch();
  if (pr.base_ref != branch) {
    log("webhook: " + name + " into " + pr.base_ref + " ignored, tracking " + branch);
    return Ignored(name + " merges into " + pr.base_ref + ", tracking " + branch);
  }
  control.RequestPreview(pr);
  log("webhook: " + name + " " + pr.action + ": preview queued");
  return {202, {{"accepted", "preview"}, {"pull_request", pr.number}}};
}

Reply AnswerEvent(const std::string& from, const WebhookEvent& event, ReconcilerControl& control,
                  const LogLine& log) {
  switch (event.kind) {
    case WebhookEvent::kPing:
      log(from + ": ping");
      return Message(200, "pong");
    case WebhookEvent::kPush:
      return AnswerPush(event, control, log);
    case WebhookEvent::kPullRequest:
      return AnswerPullRequest(event.pull_request, control, log);
    case WebhookEvent::kOther:
      break;
  }
  log(from + ": event " + event.event + " ignored");
  return Ignored("event " + event.event + " starts nothing");
}

// A delivery is known by its id and by its payload: the signature covers
// the payload but not the id, so a captured body resent under a new id is
// a replay too.
bool IsReplay(const Delivery& delivery, const std::string& payload_text, DeliveryLog& seen) {
  std::vector<std::string> keys = {"payload:" + payload_text};
  if (!delivery.id.empty()) keys.push_back("delivery:" + delivery.id);
  int64_t now_seconds = NowMillis() / 1000;
  return seen.SeenOrRecord(keys, now_seconds);
}

Reply Replay(const std::string& from, const Delivery& delivery, const LogLine& log) {
  std::string what = delivery.id.empty() ? "this payload" : "delivery " + delivery.id;
  log(from + " " + delivery.id + " is a replay: nothing started");
  return {200, {{"replay", what + " was handled already; nothing is started again"}}};
}

Reply AnswerWebhook(const Delivery& delivery, const std::string& secret, ReconcilerControl& control,
                    DeliveryLog& seen, const LogLine& log) {
  std::string from = "webhook: " + delivery.forge + " delivery";
  if (secret.empty()) {
    log(from + " refused: no webhook secret is configured");
    return Message(403,
                   "no webhook secret is configured; start amlc reconcile with "
                   "--webhook-secret-env VAR");
  }
  StatusOr<std::string> payload = WebhookPayloadText(delivery.content_type, delivery.body);
  if (!payload.ok()) {
    log(from + " rejected: " + payload.status().message());
    return Message(400, payload.status().message());
  }
  if (!VerifySignature(secret, SignedBytes(delivery, *payload), delivery.signature,
                       delivery.signature_form)) {
    log(from + " rejected: signature does not match (is the forge's secret the one amlc has?)");
    return Message(401, "signature does not match");
  }
  StatusOr<WebhookEvent> event = ParseWebhook(delivery.forge, delivery.event, *payload);
  if (!event.ok()) {
    log(from + " rejected: " + event.status().message());
    return Message(400, event.status().message());
  }
  if (IsReplay(delivery, *payload, seen)) return Replay(from, delivery, log);
  return AnswerEvent(from, *event, control, log);
}

// A whole number in [min, max] and nothing else ("12abc" and "" are not).
template <typename Int>
std::optional<Int> ParseWhole(const std::string& text, Int min, Int max) {
  Int value{};
  const char* end = text.data() + text.size();
  auto [stop, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || stop != end || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

// POST /api/sync (amlc sync): a pass as soon as the loop is free. Only a JSON
// body is taken, so a web page cannot start one with a plain form post.
Reply AnswerSyncNow(const httplib::Request& req, ReconcilerControl& control) {
  if (req.get_header_value("Content-Type").rfind("application/json", 0) != 0) {
    return Message(415, "POST /api/sync takes Content-Type: application/json");
  }
  json body = json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
  std::string by = body.is_object() && body.contains("by") && body["by"].is_string() ? body["by"].get<std::string>()
                                                                                     : "the API";
  control.RequestPass("requested by " + by);
  return {202, {{"requested", true}, {"message", "a pass starts as soon as the reconciler is free"}}};
}

// POST /api/rollback {"sync": N} (amlc rollback): apply sync N's commit and
// pause auto-sync until the next push. JSON bodies only, as /api/sync.
Reply AnswerRollback(const httplib::Request& req, ReconcilerControl& control) {
  if (req.get_header_value("Content-Type").rfind("application/json", 0) != 0) {
    return Message(415, "POST /api/rollback takes Content-Type: application/json");
  }
  json body = json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
  if (!body.is_object() || !body.contains("sync") || !body["sync"].is_number_integer() ||
      body["sync"].get<int64_t>() < 1) {
    return Message(400, "POST /api/rollback takes {\"sync\": ID}, ID a sync's number (amlc syncs list)");
  }
  std::string by = body.contains("by") && body["by"].is_string() ? body["by"].get<std::string>() : "the API";
  StatusOr<json> queued = control.RequestRollback(body["sync"].get<int64_t>(), by);
  if (queued.ok()) return {202, std::move(*queued)};
  return Message(queued.status().code() == StatusCode::kNotFound ? 404 : 409, queued.status().message());
}

Reply AnswerSyncs(const httplib::Request& req, ReconcilerControl& control) {
  int limit = kDefaultSyncLimit;
  if (req.has_param("limit")) {
    std::string text = req.get_param_value("limit");
    std::optional<int> parsed = ParseWhole(text, 1, kMaxSyncLimit);
    if (!parsed) {
      return Message(400, "limit must be a whole number from 1 to " +
                              std::to_string(kMaxSyncLimit) + ", got '" + text + "'");
    }
    limit = *parsed;
  }
  return {200, control.Syncs(limit)};
}

Reply AnswerSync(const std::string& id_text, ReconcilerControl& control) {
  std::optional<int64_t> id = ParseWhole<int64_t>(id_text, 1, INT64_MAX);
  if (!id) return Message(400, "a sync id is a positive whole number, got '" + id_text + "'");
  std::optional<json> sync = control.Sync(*id);
  if (!sync) return Message(404, "no sync " + std::to_string(*id));
  return {200, std::move(*sync)};
}

std::string ErrorMessage(const httplib::Request& req, int status) {
  switch (status) {
    case 404:
      return "no route " + req.method + " " + req.path;
    case 413:
      return "the request body is larger than the limit of " + std::to_string(kMaxBodyBytes) +
             " bytes";
    case 400:
      return "the request could not be parsed as HTTP";
    default:
      return "HTTP status " + std::to_string(status);
  }
}

std::string ExceptionText(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

// Whether the request carries "Authorization: Bearer <token>". The digests
// are compared, in constant time, so neither the token's length nor its
// prefix shows in how long a refusal takes.
bool HasToken(const httplib::Request& req, const std::string& token) {
  std::string credential = BearerCredential(req.get_header_value("Authorization"));
  if (credential.empty()) return false;
  std::string given = Sha256Hex(credential);
  std::string expected = Sha256Hex(token);
  return CRYPTO_memcmp(given.data(), expected.data(), expected.size()) == 0;
}

// The route template a path was answered by, for the metrics' labels; paths
// no route serves are one label, so a client cannot grow the label set.
std::string RouteOf(const std::string& path) {
  for (const char* fixed : {"/hooks/github", "/hooks/gitea", "/api/status", "/api/sync", "/api/rollback", "/api/syncs",
                            "/metrics"}) {
    if (path == fixed) return fixed;
  }
  if (path.rfind("/api/syncs/", 0) == 0) return "/api/syncs/{id}";
  if (path.rfind("/api/2.0/mlflow/", 0) == 0) return "/api/2.0/mlflow/{method}";
  return "unmatched";
}

bool IsWebhookPath(const std::string& path) {
  return path == "/hooks/github" || path == "/hooks/gitea";
}

}  // namespace

std::vector<std::string> MissingForNetwork(const std::string& host,
                                           const ApiServerOptions& options) {
  std::vector<std::string> missing;
  if (IsLoopbackAddress(host)) return missing;
  if (options.api_token.empty()) missing.push_back("an API token");
  if (options.tls_cert_file.empty() || options.tls_key_file.empty()) missing.push_back("TLS");
  return missing;
}

struct ApiServer::Impl {
  Impl(ReconcilerControl& control, ApiServerOptions options)
      : control(control), options(std::move(options)), deliveries(this->options.delivery_log_file) {}

  void Routes();
  void Log(const std::string& line) const {
    if (log) log(line);
  }
  void AnswerHook(const std::string& forge, const httplib::Request& req, httplib::Response& res,
                  const httplib::ContentReader& read);
  bool CheckHead(const httplib::Request& req, httplib::Response& res);

  ReconcilerControl& control;
  const ApiServerOptions options;
  DeliveryLog deliveries;
  HttpRequestCounter requests;
  std::unique_ptr<runtime::ServerRecords> records;  // for /metrics, when options.state_db is set
  LogLine log;
  std::unique_ptr<FrontedHttpServer> front;
  httplib::Server* server = nullptr;  // front's routes
  int port = 0;
};

// Runs on the request head, before any route (the front has read the body).
bool ApiServer::Impl::CheckHead(const httplib::Request& req, httplib::Response& res) {
  if (options.api_token.empty() || IsWebhookPath(req.path) || HasToken(req, options.api_token)) {
    return false;
  }
  Log("api: " + req.method + " " + req.path + " from " + ClientAddress(req) +
      " refused: no valid bearer token");
  res.set_header("WWW-Authenticate", R"(Bearer realm="amlc reconciler")");
  Send(res, Message(401, "this reconciler's API needs \"Authorization: Bearer TOKEN\" with its "
                         "API token (amlc status reads it from $AMLC_RECONCILER_TOKEN)"));
  return true;
}

// The body goes through a content reader, bounded here: read into req.body,
// a form-encoded one would be refused by cpp-httplib over 8 KiB.
void ApiServer::Impl::AnswerHook(const std::string& forge, const httplib::Request& req,
                                 httplib::Response& res, const httplib::ContentReader& read) {
  std::string body;
  bool too_large = false;
  bool complete = read([&](const char* data, size_t length) {
    too_large = body.size() + length > kMaxBodyBytes;
    if (!too_large) body.append(data, length);
    return !too_large;
  });
  if (too_large || res.status == 413) {
    res.set_header("Connection", "close");
    return Send(res, Message(413, ErrorMessage(req, 413)));
  }
  if (!complete) return Send(res, Message(400, "the request body could not be read"));
  LogLine logger = [this](const std::string& line) { Log(line); };
  Send(res, AnswerWebhook(DeliveryOf(forge, req, body), options.webhook_secret, control,
                          deliveries, logger));
}

void ApiServer::Impl::Routes() {
  using httplib::Request;
  using httplib::Response;
  using Handled = httplib::Server::HandlerResponse;

  front->set_gate([this](const Request& req, Response& res) { return CheckHead(req, res); });
  for (std::string forge : {"github", "gitea"}) {
    server->Post("/hooks/" + forge,
                 [this, forge](const Request& req, Response& res,
                               const httplib::ContentReader& read) { AnswerHook(forge, req, res, read); });
    server->Get("/hooks/" + forge, [forge](const Request&, Response& res) {
      res.set_header("Allow", "POST");
      Send(res, Message(405, "the " + forge + " webhook is POSTed by the forge"));
    });
  }

  server->Get("/api/status",
              [this](const Request&, Response& res) { Send(res, {200, control.Status()}); });
  server->Post("/api/sync",
               [this](const Request& req, Response& res) { Send(res, AnswerSyncNow(req, control)); });
  server->Post("/api/rollback",
               [this](const Request& req, Response& res) { Send(res, AnswerRollback(req, control)); });
  server->Get("/api/syncs",
              [this](const Request& req, Response& res) { Send(res, AnswerSyncs(req, control)); });
  server->Get(R"(/api/syncs/([^/]+))", [this](const Request& req, Response& res) {
    Send(res, AnswerSync(req.matches[1].str(), control));
  });

  // Prometheus: this API's requests, and the workspace's runs and syncs.
  server->set_logger([this](const Request& req, const Response& res) {
    requests.Add(req.method, RouteOf(req.path), res.status);
  });
  server->Get("/metrics", [this](const Request&, Response& res) {
    PrometheusText out;
    requests.Render(out);
    if (options.tracking_store != nullptr && records != nullptr) {
      if (Status read = runtime::AppendWorkspaceMetrics(*options.tracking_store, *records, out); !read.ok()) {
        return Send(res, Message(503, read.message()));
      }
    }
    res.set_content(out.text(), "text/plain; version=0.0.4; charset=utf-8");
  });

  if (options.tracking_store != nullptr) {
    auto mlflow = [this](const Request& req, Response& res) {
      std::map<std::string, std::string> query(req.params.begin(), req.params.end());
      runtime::MlflowRestAnswer answer =
          runtime::HandleMlflowRest(*options.tracking_store, req.method, req.matches[1].str(), query, req.body);
      res.status = answer.status;
      res.set_content(answer.body, "application/json");
    };
    server->Get(R"(/api/2\.0/mlflow/(.+))", mlflow);
    server->Post(R"(/api/2\.0/mlflow/(.+))", mlflow);
  }

  // Answers cpp-httplib makes itself (404, 413, 400) get a JSON message too.
  server->set_error_handler(
      httplib::Server::HandlerWithResponse([](const Request& req, Response& res) {
        if (!res.body.empty()) return Handled::Unhandled;
        Send(res, Message(res.status, ErrorMessage(req, res.status)));
        return Handled::Handled;
      }));
  server->set_exception_handler([](const Request&, Response& res, std::exception_ptr error) {
    Send(res, Message(500, "internal error: " + ExceptionText(error)));
  });
}

namespace {

ApiServerOptions WithSecret(std::string webhook_secret) {
  ApiServerOptions options;
  options.webhook_secret = std::move(webhook_secret);
  return options;
}

}  // namespace

ApiServer::ApiServer(ReconcilerControl& control, std::string webhook_secret)
    : ApiServer(control, WithSecret(std::move(webhook_secret))) {}

ApiServer::ApiServer(ReconcilerControl& control, ApiServerOptions options)
    : impl_(std::make_unique<Impl>(control, std::move(options))) {}

ApiServer::~ApiServer() { Stop(); }

void ApiServer::set_log(std::function<void(const std::string&)> log) {
  impl_->log = std::move(log);
}

namespace {

Status CheckAddress(const std::string& host, int port, const ApiServerOptions& options) {
  if (host.empty()) {
    return Status(StatusCode::kInvalidArgument,
                  "no address to listen on was given (127.0.0.1 keeps the API on this machine)");
  }
  if (port < 0 || port > 65535) {
    return Status(StatusCode::kInvalidArgument,
                  "port " + std::to_string(port) + " is not a TCP port (0 to 65535)");
  }
  std::vector<std::string> missing = MissingForNetwork(host, options);
  if (missing.empty()) return Status::Ok();
  std::string lacking = missing[0];
  if (missing.size() > 1) lacking += " and " + missing[1];
  return Status(StatusCode::kFailedPrecondition,
                "refusing to listen on " + HostPort(host, port) +
                    ": it is not a loopback address, and the reconciler's API (plans, apply "
                    "logs, authors, scoring URLs) would be open to the network without " +
                    lacking);
}

}  // namespace

Status ApiServer::Start(const std::string& host, int port) {
  if (impl_->front) {
    return Status(StatusCode::kFailedPrecondition, "the API server was started already");
  }
  if (Status address = CheckAddress(host, port, impl_->options); !address.ok()) return address;
  if (Status loaded = impl_->deliveries.Load(NowMillis() / 1000); !loaded.ok()) return loaded;
  if (!impl_->options.state_db.empty()) {
    auto records = runtime::ServerRecords::Open(impl_->options.state_db);
    if (!records.ok()) return records.status();
    impl_->records = std::move(records.value());
  }
  FrontedHttpServer::Options front;
  front.limits.max_body_bytes = static_cast<int64_t>(kMaxBodyBytes);
  front.tls_cert_file = impl_->options.tls_cert_file;
  front.tls_key_file = impl_->options.tls_key_file;
  front.threads = kRouteThreads;
  front.error_response = [](int status, const std::string& message, const FrontRequest*) {
    return FrontResponse::Text(status, ReplyText(Message(status, message)), "application/json");
  };
  impl_->front = std::make_unique<FrontedHttpServer>(std::move(front));
  impl_->server = &impl_->front->routes();
  impl_->Routes();
  if (Status started = impl_->front->Start(host, port); !started.ok()) return started;
  impl_->port = impl_->front->port();
  return Status::Ok();
}

int ApiServer::port() const { return impl_->port; }

void ApiServer::Stop() {
  if (impl_->front) impl_->front->Stop();
}

}  // namespace amlc::reconciler
