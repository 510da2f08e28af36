// Plan, apply and destroy over the API. The client sends the spec folder as
// a manifest of content digests (server/spec_upload.h): it first asks which
// blobs the server lacks and uploads only those. Apply and destroy answer
// with the NDJSON event stream of `amlc apply --json`
// (cli/apply_events.schema.json), chunked as the actions go.

#include <httplib.h>

#include <algorithm>
#include <memory>

#include "base/clock.h"
#include "compiler/compile.h"
#include "runtime/engine/apply_events.h"
#include "runtime/engine/session.h"
#include "server/api_route.h"
#include "server/spec_upload.h"

namespace amlc::server {

namespace {

using nlohmann::json;
using runtime::WorkspaceRole;

constexpr double kLockTimeoutSeconds = 600;

// The request's JSON object body, or a 400 answered.
bool JsonBody(Call& call, json& body) {
  body = json::parse(call.request.body, nullptr, false);
  if (body.is_object()) return true;
  call.Message(400, "the body is not a JSON object");
  return false;
}

void BlobsMissing(Call& call) {
  json body;
  if (!JsonBody(call, body)) return;
  if (!body.contains("digests") || !body["digests"].is_array()) {
    return call.Message(400, "the body needs \"digests\": an array of SHA-256 digests");
  }
  std::vector<std::string> digests;
  for (const json& digest : body["digests"]) {
    if (!digest.is_string() || !IsSha256Hex(digest.get<std::string>())) {
      return call.Message(400, "every digest is a SHA-256 in lowercase hex; " + digest.dump() + " is not");
    }
    digests.push_back(digest.get<std::string>());
  }
  call.Json(200, {{"missing", MissingBlobs(call.workspace, digests)}});
}

void PutBlob(Call& call) {
  call.target = call.path_params[0];
  Status stored = StoreBlob(call.workspace, call.target, call.request.body);
  if (!stored.ok()) return call.Message(stored.code() == StatusCode::kInvalidArgument ? 400 : 503, stored.message());
  call.Json(201, {{"digest", call.target}, {"size", call.request.body.size()}});
}

// The body's manifest compiled into a session over the server's workspace,
// or an answer given (400 for a bad manifest or specs that do not compile,
// 409 for blobs not uploaded, 403 when the specs raise someone's role and the
// caller is no Owner).
std::shared_ptr<runtime::Session> CompiledSession(Call& call, const json& body) {
  auto folder = MaterializeManifest(call.workspace, body.value("manifest", json()));
  if (!folder.ok()) {
    call.Message(folder.status().code() == StatusCode::kFailedPrecondition ? 409 : 400, folder.status().message());
    return nullptr;
  }
  auto tree = compiler::DiskSourceTree::Open(*folder);
  if (!tree.ok()) {
    call.Message(500, tree.status().message());
    return nullptr;
  }
  std::shared_ptr<runtime::Session> session = runtime::Session::Compile(tree.value(), *folder);
  if (!session->compiles()) {
    call.Json(400, {{"message", "the specs have errors; nothing was planned or applied"},
                    {"diagnostics", compiler::DiagnosticsText(session->compilation(), false)}});
    return nullptr;
  }
  session->UseWorkspace(call.workspace);
  if (call.caller.role >= WorkspaceRole::kOwner) return session;
  for (const compiler::ir::Resource& resource : session->compilation().graph.resources()) {
    if (resource.kind != "workspace") continue;
    auto raised = runtime::RolesRaisedBy(call.workspace, resource.spec.ToJson());
    if (!raised.ok()) {
      call.Message(503, raised.status().message());
      return nullptr;
    }
    if (!raised->empty()) {
      std::string who;
      for (const std::string& line : *raised) who += (who.empty() ? "" : ", ") + line;
      call.Message(403, "raising a role in the workspace spec (" + who + ") needs the owner role; " +
                            call.caller.user + " is a " + runtime::RoleName(call.caller.role));
      return nullptr;
    }
  }
  return session;
}

compiler::planner::PlanOptions PlanOptionsOf(const json& body, bool destroy) {
  compiler::planner::PlanOptions options;
  options.destroy = destroy;
  if (body.contains("rerun") && body["rerun"].is_array()) {
    for (const json& job : body["rerun"]) {
      if (!job.is_string()) continue;
      std::string id = job.get<std::string>();
      options.rerun.insert(id.find('/') == std::string::npos ? "job/" + id : id);
    }
  }
  return options;
}

// POST /api/v1/plan: the plan as `amlc plan --json` prints it.
void Plan(Call& call) {
  json body;
  if (!JsonBody(call, body)) return;
  std::shared_ptr<runtime::Session> session = CompiledSession(call, body);
  if (!session) return;
  bool destroy = body.value("destroy", false);  // what destroy would do
  compiler::planner::Plan& plan = session->MakePlan(PlanOptionsOf(body, destroy), "");
  if (!session->errors().empty()) {
    return call.Json(400, {{"message", "the plan could not be made"}, {"errors", session->errors()}});
  }
  call.response.status = 200;
  call.response.set_content(compiler::planner::PlanToJson(plan), "application/json");
}

void NoWait(long) {}

// Runs on the connection's thread once the answer's head is sent: lock,
// plan, apply, each step an event, then the summary.
void ApplyAndStream(runtime::Session& session, const json& body, bool destroy, const std::string& who,
                    httplib::DataSink& sink) {
  bool client_gone = false;
  runtime::ApplyEvents events([&](const std::string& line) {
    // A client that went away does not stop the apply: it finishes and is
    // recorded, and can be followed in activities and runs.
    if (!client_gone) client_gone = !sink.write(line.data(), line.size());
  });
  auto stop = [&](const std::string& message) {
    events.Error(message);
    events.Summary({}, 1);
  };
  auto reaped = session.Lock(kLockTimeoutSeconds, NoWait);
  if (!reaped.ok()) return stop(reaped.status().message());
  compiler::planner::Plan& plan = session.MakePlan(PlanOptionsOf(body, destroy), "");
  if (!session.errors().empty()) {
    for (const std::string& message : session.errors()) events.Error(message);
    return events.Summary({}, 1);
  }
  events.Planned(plan, session.workspace().home());
  if (plan.empty()) {
    if (!destroy) (void)session.RecordAppliedGraph();
    return events.Summary({}, 0);
  }
  int parallelism = std::clamp(body.value("parallelism", 4), 1, 64);
  std::string apply_id = "apply-" + std::to_string(NowMillis()) + "-" + who;
  std::vector<runtime::ActionResult> results = session.Apply(plan, events, parallelism, apply_id);
  int exit_code = 0;
  for (const runtime::ActionResult& result : results) exit_code |= result.outcome != runtime::Outcome::kSucceeded;
  events.Summary(results, exit_code);
}

void StreamApply(Call& call, bool destroy) {
  json body;
  if (!JsonBody(call, body)) return;
  std::shared_ptr<runtime::Session> session = CompiledSession(call, body);
  if (!session) return;
  std::string who = call.caller.user;
  call.response.status = 200;
  call.response.set_chunked_content_provider(
      "application/x-ndjson", [session, body, destroy, who](size_t, httplib::DataSink& sink) {
        ApplyAndStream(*session, body, destroy, who, sink);
        sink.done();
        return true;
      });
}

void Apply(Call& call) { StreamApply(call, false); }
void Destroy(Call& call) { StreamApply(call, true); }

}  // namespace

std::vector<ApiRoute> ApplyRoutes() {
  return {
      {"POST", "/api/v1/blobs/missing", WorkspaceRole::kContributor, "asking which blobs to upload", BlobsMissing},
      {"PUT", "/api/v1/blobs/{digest}", WorkspaceRole::kContributor, "uploading a blob", PutBlob},
      {"POST", "/api/v1/plan", WorkspaceRole::kReader, "planning specs", Plan},
      {"POST", "/api/v1/apply", WorkspaceRole::kContributor, "applying specs", Apply},
      {"POST", "/api/v1/destroy", WorkspaceRole::kOwner, "destroying what specs created", Destroy},
  };
}

}  // namespace amlc::server
