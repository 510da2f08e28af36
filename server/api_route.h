#ifndef AMLC_SERVER_API_ROUTE_H_
#define AMLC_SERVER_API_ROUTE_H_

// One route of the workspace API: its method and path template (as the
// OpenAPI document writes it, "/api/v1/runs/{id}"), the role a caller needs,
// what it does in words (for refusals: "cancelling a run needs the
// contributor role; alice is a reader") and its handler. The server
// authenticates, checks the role and audits every call around the handler, so
// a handler only reads the request and answers.

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/prometheus_text.h"
#include "runtime/state/server_records.h"
#include "runtime/workspace/access.h"
#include "runtime/workspace/identity.h"
#include "runtime/workspace/workspace.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace amlc::server {

/// One call, as a handler sees it.
struct Call {
  const httplib::Request& request;
  httplib::Response& response;
  const runtime::Caller& caller;
  runtime::Workspace& workspace;
  /// Users, tokens, the audit log (runtime/state/server_records.h).
  runtime::ServerRecords& records;
  /// The path template's parameters, in order ({id} of /api/v1/runs/{id}).
  std::vector<std::string> path_params;
  /// What the call named, for the audit log (set by the handler: a run id, a user).
  std::string target;
  /// The server's count of answered requests (for /metrics).
  const HttpRequestCounter& requests;

  /// A query parameter, "" when absent.
  std::string Query(const std::string& name) const;
  bool HasQuery(const std::string& name) const;
  /// Answers with `body` as JSON.
  void Json(int status, const nlohmann::json& body);
  /// Answers with `body`, JSON text already (large answers skip the DOM).
  void JsonText(int status, std::string body);
  /// Answers {"message": message}.
  void Message(int status, const std::string& message);
};

/// The request's JSON object body; false once a 415 (not JSON) or 400 (not
/// an object) is answered.
bool ObjectBody(Call& call, nlohmann::json& body);
/// `body[key]` when it is a string, else "".
std::string StringField(const nlohmann::json& body, const char* key);
/// The HTTP status for a failed Status (400, 404, 409, 503, 500).
int HttpStatusOf(const Status& status);
/// Answers a failed Status with its status and message.
void Fail(Call& call, const Status& status);

using RouteHandler = std::function<void(Call&)>;

struct ApiRoute {
  std::string method;  // "GET", "POST", "PUT", "DELETE"
  std::string path;    // "/api/v1/runs/{id}"
  runtime::WorkspaceRole needed = runtime::WorkspaceRole::kReader;
  std::string action;  // "cancelling a run"
  RouteHandler handler;
  /// Whether a run-scoped token may call it, for its run and that run's
  /// child runs ({id} is the first path parameter).
  bool run_scoped = false;
};

/// The routes of the API, grouped by what they serve; the server registers
/// them all, and the OpenAPI test compares them with server/openapi.json.
std::vector<ApiRoute> ReadRoutes();
std::vector<ApiRoute> IdentityRoutes();
std::vector<ApiRoute> ApplyRoutes();
/// MLflow's tracking, artifact and model registry REST APIs (/api/2.0/...).
std::vector<ApiRoute> MlflowRoutes();

/// A run's own writes: metrics, params, tags, outputs, child runs, a child's
/// status; what a training script reports with its run token.
std::vector<ApiRoute> RunReportRoutes();

/// What the CLI's deployments logs|delete and endpoints invoke do.
std::vector<ApiRoute> DeploymentRoutes();

/// A run's outputs and logs, listed and each downloaded (`runs download`).
std::vector<ApiRoute> RunFileRoutes();

/// Whether `caller`, holding a run-scoped token, may call `route` naming
/// `path_params`: a run-scoped route, on its run or one of its child runs.
/// Always true for a user's token.
bool RunTokenMayCall(const ApiRoute& route, const std::vector<std::string>& path_params,
                     const runtime::Caller& caller);

/// Every authenticated route the server registers (ReadRoutes, IdentityRoutes, ApplyRoutes,
/// MlflowRoutes, DashboardApiRoutes, RunReportRoutes, DeploymentRoutes, RunFileRoutes).
std::vector<ApiRoute> AllRoutes();

/// The routes answered without a token: the API's own description.
inline constexpr const char* kOpenApiPath = "/api/v1/openapi.json";

/// The regular expression cpp-httplib matches for a path template: each
/// {param} becomes one path segment, a {param+} the rest of the path.
std::string PathPattern(const std::string& path_template);

}  // namespace amlc::server

#endif  // AMLC_SERVER_API_ROUTE_H_
