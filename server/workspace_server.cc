// Notes: clients reach the routes through the event-driven front
// (base/http_listener.h's FrontedHttpServer), which answers bad heads and
// bodies itself (431, 411, 413, 408). Every call that gets past it passes the
// same gate, in this order: a token in the query string (400), then, on a
// matched route, the bearer token (401), the route's role (403) and the
// handler. Each answer is audited exactly once: by the front's refusal, by
// the gate that refused it, by the route wrapper after its handler, or by the
// error handler for answers cpp-httplib made itself (404, 400), which have no
// body yet.
#include "server/workspace_server.h"

#include <httplib.h>

#include <atomic>
#include <charconv>
#include <exception>
#include <thread>

#include "base/clock.h"
#include "base/http_listener.h"
#include "runtime/compute/run_reporting.h"
#include "runtime/workspace/workspace.h"
#include "server/api_route.h"
#include "server/dashboard_routes.h"
#include "server/openapi_document.h"

namespace amlc::server {

namespace {

using nlohmann::json;

constexpr int64_t kMaxBodyBytes = 256 * 1024 * 1024;  // spec folders' content blobs come in one at a time
// The whole body's deadline, long enough for kMaxBodyBytes at about 1 MB/s.
constexpr std::chrono::milliseconds kBodyTimeout{300'000};
constexpr size_t kMaxAuditedPathChars = 200;

// Query parameters that carry credentials in other APIs. A token in a URL
// ends up in proxy logs, browser history and Referer headers, so one is
// refused outright rather than ignored.
constexpr const char* kCredentialParams[] = {"token", "access_token", "api_key", "apikey", "key", "auth"};

std::string MessageJson(const std::string& message) {
  return json{{"message", message}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

void SendMessage(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(MessageJson(message), "application/json");
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

std::string CredentialParam(const httplib::Request& req) {
  for (const char* name : kCredentialParams) {
    if (req.has_param(name)) return name;
  }
  return "";
}

}  // namespace

struct WorkspaceServer::Impl {
  explicit Impl(ServerOptions options) : options(std::move(options)) {}

  void Log(const std::string& line) const {
    if (log) log(line);
  }
  void Audit(const httplib::Request& req, int status, const std::string& user, const std::string& route,
             const std::string& target);
  void Audit(const std::string& method, const std::string& path, const std::string& client, int status,
             const std::string& user, const std::string& route, const std::string& target);
  FrontResponse FrontRefusal(int status, const std::string& message, const FrontRequest* head);
  bool Gate(const httplib::Request& req, httplib::Response& res);
  void Answer(const ApiRoute& route, const httplib::Request& req, httplib::Response& res);
  void Register(const ApiRoute& route);
  void Routes();

  ServerOptions options;
  HttpRequestCounter requests;
  std::function<void(const std::string&)> log;
  std::unique_ptr<runtime::Workspace> workspace;
  std::unique_ptr<runtime::ServerRecords> records;
  std::unique_ptr<FrontedHttpServer> front;
  httplib::Server* server = nullptr;  // front's routes
  std::vector<ApiRoute> routes;
  int port = 0;
  std::string url;  // announced to the workspace's runs
};

void WorkspaceServer::Impl::Audit(const httplib::Request& req, int status, const std::string& user,
                                  const std::string& route, const std::string& target) {
  Audit(req.method, req.path, ClientAddress(req), status, user, route, target);
}

void WorkspaceServer::Impl::Audit(const std::string& method, const std::string& path, const std::string& client,
                                  int status, const std::string& user, const std::string& route,
                                  const std::string& target) {
  // Paths no route matched stay out of the metric's labels: a client could
  // otherwise grow its label set without bound.
  requests.Add(method, route.empty() ? "unmatched" : route, status);
  runtime::AuditRecord entry;
  entry.at = NowMillis();
  entry.user = user;
  entry.method = method;
  entry.route = route.empty() ? path.substr(0, kMaxAuditedPathChars) : route;
  entry.target = target;
  entry.status = status;
  entry.client = client;
  if (Status written = records->AppendAudit(entry); !written.ok()) {
    Log("audit: cannot record " + method + " " + entry.route + ": " + written.message());
  }
}

// An answer the front made itself (431, 411, 413, 408, 502): audited when a
// head was read. This runs on the front's event loop; refusals are rare
// enough that one audit row each does not hold it up.
FrontResponse WorkspaceServer::Impl::FrontRefusal(int status, const std::string& message, const FrontRequest* head) {
  if (head != nullptr) Audit(head->method, head->path, head->remote_address, status, "", "", "");
  return FrontResponse::Text(status, MessageJson(message), "application/json");
}

// Runs on the request head, before any route.
bool WorkspaceServer::Impl::Gate(const httplib::Request& req, httplib::Response& res) {
  if (std::string param = CredentialParam(req); !param.empty()) {
    SendMessage(res, 400,
                "a credential in the query string (?" + param +
                    "=) is refused: URLs are kept in logs and browser history. Send the token as "
                    "\"Authorization: Bearer TOKEN\", and revoke this one (amlc tokens revoke ID), it may have leaked");
    Log("api: " + req.method + " " + req.path + " from " + ClientAddress(req) + " refused: credential in the query string");
    Audit(req, 400, "", "", "");
    return true;
  }
  return false;
}

// A matched route: authenticate, check the role, run the handler, audit.
void WorkspaceServer::Impl::Answer(const ApiRoute& route, const httplib::Request& req, httplib::Response& res) {
  std::string credential = BearerCredential(req.get_header_value("Authorization"));
  StatusOr<runtime::Caller> caller =
      credential.empty()
          ? StatusOr<runtime::Caller>(Status(StatusCode::kFailedPrecondition, "no \"Authorization: Bearer TOKEN\" header"))
          : runtime::Authenticate(*records, credential, NowMillis());
  if (!caller.ok()) {
    bool refused = caller.status().code() == StatusCode::kFailedPrecondition;
    if (refused) {
      res.set_header("WWW-Authenticate", R"(Bearer realm="amlc workspace", error="invalid_token")");
      SendMessage(res, 401, caller.status().message() + "; this API needs \"Authorization: Bearer TOKEN\" with a token "
                                                        "from amlc tokens create");
    } else {
      SendMessage(res, 503, caller.status().message());
    }
    Log("api: " + req.method + " " + req.path + " from " + ClientAddress(req) + " refused: " + caller.status().message());
    Audit(req, res.status, "", route.path, "");
    return;
  }
  records->TouchToken(caller->token_id, NowMillis());
  if (caller->role < route.needed) {
    SendMessage(res, 403, route.action + " needs the " + runtime::RoleName(route.needed) + " role; " + caller->user +
                              " is a " + runtime::RoleName(caller->role));
    Audit(req, 403, caller->user, route.path, "");
    return;
  }
  Call call{req, res, *caller, *workspace, *records, {}, "", requests};
  for (size_t i = 1; i < req.matches.size(); ++i) call.path_params.push_back(req.matches[i].str());
  if (!RunTokenMayCall(route, call.path_params, *caller)) {
    SendMessage(res, 403, route.action + " is not allowed to the token of run " + caller->run_id +
                              ": it may only report about that run and its child runs");
    Audit(req, 403, caller->user, route.path, caller->run_id);
    return;
  }
  route.handler(call);
  Audit(req, res.status, caller->user, route.path, call.target);
}

void WorkspaceServer::Impl::Register(const ApiRoute& route) {
  httplib::Server::Handler handler = [this, &route](const httplib::Request& req, httplib::Response& res) {
    Answer(route, req, res);
  };
  std::string pattern = PathPattern(route.path);
  if (route.method == "GET") server->Get(pattern, handler);
  if (route.method == "POST") server->Post(pattern, handler);
  if (route.method == "PUT") server->Put(pattern, handler);
  if (route.method == "DELETE") server->Delete(pattern, handler);
}

void WorkspaceServer::Impl::Routes() {
  using httplib::Request;
  using httplib::Response;
  using Handled = httplib::Server::HandlerResponse;
  front->set_gate([this](const Request& req, Response& res) { return Gate(req, res); });

  // The API's description is public: it holds no workspace data, and a
  // client reads it before it has a token.
  server->Get(PathPattern(kOpenApiPath), [this](const Request& req, Response& res) {
    res.set_content(OpenApiDocument(), "application/json");
    Audit(req, 200, "", kOpenApiPath, "");
  });
  routes = AllRoutes();
  for (const ApiRoute& route : routes) Register(route);

  // ---- Dashboard (web/): its static files and page routes register here ----
  // (server/dashboard_routes.h, kept by the dashboard's authors).
  RegisterDashboard(*server, LoadDashboard(DashboardDir()));
  // ---- end of the dashboard's place ----

  // Answers cpp-httplib made itself (404, 400) have no body yet: give
  // them a JSON message, and audit them (routes audited their own).
  server->set_error_handler(httplib::Server::HandlerWithResponse([this](const Request& req, Response& res) {
    if (!res.body.empty()) return Handled::Unhandled;
    std::string message = res.status == 404   ? "no route " + req.method + " " + req.path + " (see /api/v1/openapi.json)"
                          : res.status == 413 ? "the request body is larger than the limit of " +
                                                    std::to_string(kMaxBodyBytes) + " bytes"
                          : res.status == 400 ? "the request could not be parsed as HTTP"
                                              : "HTTP status " + std::to_string(res.status);
    SendMessage(res, res.status, message);
    Audit(req, res.status, "", "", "");
    return Handled::Handled;
  }));
  server->set_exception_handler([this](const Request& req, Response& res, std::exception_ptr error) {
    std::string text = ExceptionText(error);
    Log("api: " + req.method + " " + req.path + " failed: " + text);
    SendMessage(res, 500, "internal error: " + text);
  });
}

WorkspaceServer::WorkspaceServer(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

WorkspaceServer::~WorkspaceServer() { Stop(); }

void WorkspaceServer::set_log(std::function<void(const std::string&)> log) { impl_->log = std::move(log); }

namespace {

Status CheckAddress(const std::string& host, int port, const ServerOptions& options) {
  if (host.empty()) {
    return Status(StatusCode::kInvalidArgument, "no address to listen on was given (127.0.0.1 keeps the API on this machine)");
  }
  if (port < 0 || port > 65535) {
    return Status(StatusCode::kInvalidArgument, "port " + std::to_string(port) + " is not a TCP port (0 to 65535)");
  }
  bool tls = !options.tls_cert_file.empty() && !options.tls_key_file.empty();
  if (IsLoopbackAddress(host) || tls) return Status::Ok();
  return Status(StatusCode::kFailedPrecondition,
                "refusing to listen on " + HostPort(host, port) +
                    " over plain HTTP: it is not a loopback address, and API tokens would cross the network in "
                    "clear. Give --tls-cert FILE --tls-key FILE, or listen on 127.0.0.1");
}

}  // namespace

Status WorkspaceServer::Start(const std::string& host, int port) {
  if (impl_->front) {
    return Status(StatusCode::kFailedPrecondition, "the workspace server was started already");
  }
  if (Status address = CheckAddress(host, port, impl_->options); !address.ok()) return address;
  auto workspace = runtime::Workspace::Open(impl_->options.workspace_home);
  if (!workspace.ok()) return workspace.status();
  impl_->workspace = std::move(workspace.value());
  auto records = runtime::ServerRecords::Open(runtime::StateStorePath(impl_->workspace->home()));
  if (!records.ok()) return records.status();
  impl_->records = std::move(records.value());
  FrontedHttpServer::Options front;
  front.limits.max_body_bytes = kMaxBodyBytes;
  front.limits.body_timeout = kBodyTimeout;
  front.tls_cert_file = impl_->options.tls_cert_file;
  front.tls_key_file = impl_->options.tls_key_file;
  front.threads = impl_->options.threads;
  front.error_response = [impl = impl_.get()](int status, const std::string& message, const FrontRequest* head) {
    return impl->FrontRefusal(status, message, head);
  };
  impl_->front = std::make_unique<FrontedHttpServer>(std::move(front));
  impl_->server = &impl_->front->routes();
  impl_->Routes();
  if (Status started = impl_->front->Start(host, port); !started.ok()) return started;
  impl_->port = impl_->front->port();
  // Where runs on other machines report (runtime/compute/run_reporting.h).
  bool tls = !impl_->options.tls_cert_file.empty();
  impl_->url = std::string(tls ? "https" : "http") + "://" + HostPort(host, impl_->port);
  if (Status announced = runtime::AnnounceServer(impl_->workspace->home(), impl_->url); !announced.ok()) {
    impl_->Log("runs on other machines will not report over HTTP: " + announced.message());
  }
  return Status::Ok();
}

int WorkspaceServer::port() const { return impl_->port; }

void WorkspaceServer::Stop() {
  if (impl_->front) impl_->front->Stop();
  if (impl_->workspace && !impl_->url.empty()) runtime::WithdrawServer(impl_->workspace->home(), impl_->url);
}

Status ParseListenAddress(const std::string& text, std::string& host, int& port) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Status(StatusCode::kInvalidArgument, "--listen '" + text + "' is not HOST:PORT (127.0.0.1:8443, [::1]:8443)");
  }
  host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::string digits = text.substr(colon + 1);
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() || port < 0 || port > 65535) {
    return Status(StatusCode::kInvalidArgument, "--listen '" + text + "': the port is not a number from 0 to 65535");
  }
  return Status::Ok();
}

std::vector<ApiRoute> AllRoutes() {
  std::vector<ApiRoute> routes = ReadRoutes();
  for (ApiRoute& route : IdentityRoutes()) routes.push_back(std::move(route));
  for (ApiRoute& route : ApplyRoutes()) routes.push_back(std::move(route));
  for (ApiRoute& route : MlflowRoutes()) routes.push_back(std::move(route));
  for (ApiRoute& route : DashboardApiRoutes()) routes.push_back(std::move(route));
  for (ApiRoute& route : RunReportRoutes()) routes.push_back(std::move(route));
  for (ApiRoute& route : DeploymentRoutes()) routes.push_back(std::move(route));
  for (ApiRoute& route : RunFileRoutes()) routes.push_back(std::move(route));
  return routes;
}

}  // namespace amlc::server
