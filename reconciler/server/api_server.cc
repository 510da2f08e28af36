// Notes: webhook handling is a plain function from a delivery (forge,
// headers, body) to a reply, so the order of the checks reads top to bottom:
// secret configured (403), signature (401, before the body is even parsed,
// so an unsigned request can make the reconciler do nothing at all), payload
// (400), then what the event asks for (202).
#include "reconciler/server/api_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <exception>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "reconciler/server/webhook.h"

namespace amlc::reconciler {

namespace {

using nlohmann::json;
using LogLine = std::function<void(const std::string&)>;

constexpr size_t kMaxBodyBytes = 25 * 1024 * 1024;  // GitHub caps payloads at 25 MB
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
void Send(httplib::Response& res, const Reply& reply) {
  res.status = reply.status;
  res.set_content(reply.body.dump(-1, ' ', false, json::error_handler_t::replace),
                  "application/json");
}

/// One webhook request, reduced to what the checks read.
struct Delivery {
  std::string forge;  // "github" or "gitea"
  std::string event;
  std::string signature;
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

Delivery DeliveryOf(const std::string& forge, const httplib::Request& req) {
  if (forge == "gitea") {
    return {forge, FirstHeader(req, {"X-Gitea-Event", "X-Forgejo-Event", "X-GitHub-Event"}),
            FirstHeader(req, {"X-Gitea-Signature", "X-Forgejo-Signature", "X-Hub-Signature-256"}),
            req.body};
  }
  return {forge, FirstHeader(req, {"X-GitHub-Event"}), FirstHeader(req, {"X-Hub-Signature-256"}),
          req.body};
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

Reply AnswerWebhook(const Delivery& delivery, const std::string& secret, ReconcilerControl& control,
                    const LogLine& log) {
  std::string from = "webhook: " + delivery.forge + " delivery";
  if (secret.empty()) {
    log(from + " refused: no webhook secret is configured");
    return Message(403,
                   "no webhook secret is configured; start amlc reconcile with "
                   "--webhook-secret-env VAR");
  }
  if (!VerifySignature(secret, delivery.body, delivery.signature)) {
    log(from + " rejected: signature does not match (is the forge's secret the one amlc has?)");
    return Message(401, "signature does not match");
  }
  StatusOr<WebhookEvent> event = ParseWebhook(delivery.forge, delivery.event, delivery.body);
  if (!event.ok()) {
    log(from + " rejected: " + event.status().message());
    return Message(400, event.status().message());
  }
  switch (event->kind) {
    case WebhookEvent::kPing:
      log(from + ": ping");
      return Message(200, "pong");
    case WebhookEvent::kPush:
      return AnswerPush(*event, control, log);
    case WebhookEvent::kPullRequest:
      return AnswerPullRequest(event->pull_request, control, log);
    case WebhookEvent::kOther:
      break;
  }
  log(from + ": event " + event->event + " ignored");
  return Ignored("event " + event->event + " starts nothing");
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

std::string HostPort(const std::string& host, int port) {
  bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace

struct ApiServer::Impl {
  Impl(ReconcilerControl& control, std::string secret)
      : control(control), secret(std::move(secret)) {}

  void Routes();
  void Log(const std::string& line) const {
    if (log) log(line);
  }

  ReconcilerControl& control;
  const std::string secret;
  LogLine log;
  httplib::Server server;
  std::thread listener;
  std::atomic<bool> listen_returned{false};
  int port = 0;
};

void ApiServer::Impl::Routes() {
  using httplib::Request;
  using httplib::Response;
  using Handled = httplib::Server::HandlerResponse;

  server.set_payload_max_length(kMaxBodyBytes);
  // An idle kept-alive connection holds a server thread until this timeout,
  // and Stop() waits for those threads: keep shutdown quick.
  server.set_keep_alive_timeout(1);
  // cpp-httplib's default options add SO_REUSEPORT, with which a second
  // reconciler on the same port starts fine and takes half the webhooks.
  // SO_REUSEADDR alone still allows a restart while old connections linger.
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });

  LogLine logger = [this](const std::string& line) { Log(line); };
  for (std::string forge : {"github", "gitea"}) {
    server.Post("/hooks/" + forge, [this, forge, logger](const Request& req, Response& res) {
      Send(res, AnswerWebhook(DeliveryOf(forge, req), secret, control, logger));
    });
    server.Get("/hooks/" + forge, [forge](const Request&, Response& res) {
      res.set_header("Allow", "POST");
      Send(res, Message(405, "the " + forge + " webhook is POSTed by the forge"));
    });
  }

  server.Get("/api/status", [this](const Request&, Response& res) {
    Send(res, {200, control.Status()});
  });
  server.Get("/api/syncs",
             [this](const Request& req, Response& res) { Send(res, AnswerSyncs(req, control)); });
  server.Get(R"(/api/syncs/([^/]+))", [this](const Request& req, Response& res) {
    Send(res, AnswerSync(req.matches[1].str(), control));
  });

  // Answers cpp-httplib makes itself (404, 413, 400) get a JSON message too.
  server.set_error_handler(
      httplib::Server::HandlerWithResponse([](const Request& req, Response& res) {
        if (!res.body.empty()) return Handled::Unhandled;
        Send(res, Message(res.status, ErrorMessage(req, res.status)));
        return Handled::Handled;
      }));
  server.set_exception_handler([](const Request&, Response& res, std::exception_ptr error) {
    Send(res, Message(500, "internal error: " + ExceptionText(error)));
  });
}

ApiServer::ApiServer(ReconcilerControl& control, std::string webhook_secret)
    : impl_(std::make_unique<Impl>(control, std::move(webhook_secret))) {
  impl_->Routes();
}

ApiServer::~ApiServer() { Stop(); }

void ApiServer::set_log(std::function<void(const std::string&)> log) {
  impl_->log = std::move(log);
}

Status ApiServer::Start(const std::string& host, int port) {
  if (impl_->listener.joinable() || impl_->port != 0) {
    return Status(StatusCode::kFailedPrecondition, "the API server was started already");
  }
  if (host.empty()) {
    return Status(StatusCode::kInvalidArgument,
                  "no address to listen on was given (127.0.0.1 keeps the API on this machine)");
  }
  if (port < 0 || port > 65535) {
    return Status(StatusCode::kInvalidArgument,
                  "port " + std::to_string(port) + " is not a TCP port (0 to 65535)");
  }
  int bound = -1;
  if (port == 0) {
    bound = impl_->server.bind_to_any_port(host);
  } else if (impl_->server.bind_to_port(host, port)) {
    bound = port;
  }
  if (bound <= 0) {
    return Status(StatusCode::kUnavailable,
                  "cannot listen on " + HostPort(host, port) +
                      " (address in use, or not an address of this machine)");
  }
  impl_->port = bound;
  impl_->listener = std::thread([impl = impl_.get()] {
    impl->server.listen_after_bind();
    impl->listen_returned = true;
  });
  // cpp-httplib's stop() only acts on a running server: wait until it runs,
  // so that a Stop() right after Start() is never lost.
  while (!impl_->server.is_running() && !impl_->listen_returned) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return Status::Ok();
}

int ApiServer::port() const { return impl_->port; }

void ApiServer::Stop() {
  if (!impl_->listener.joinable()) return;
  impl_->server.stop();
  impl_->listener.join();
}

}  // namespace amlc::reconciler
