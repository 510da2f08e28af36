#ifndef AMLC_RUNTIME_VIEWS_RECORD_JSON_H_
#define AMLC_RUNTIME_VIEWS_RECORD_JSON_H_

// The JSON shape of each workspace record, one definition for every front:
// what the CLI's --json prints is what the workspace server's /api/v1 routes
// answer, field for field. Times are "YYYY-MM-DD HH:MM:SS" UTC ("-" for
// none), except a sync's, which stay unix milliseconds as the reconciler's
// API always gave them.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/state/server_records.h"
#include "runtime/state/state_store.h"
#include "runtime/workspace/secret_store.h"
#include "runtime/workspace/workspace.h"

namespace amlc::runtime {

/// "2026-12-05 09:04:24" (UTC), "-" for 0.
std::string DisplayTime(int64_t unix_ms);

/// How long a run ran (or has run so far): "12.3s", "-" before it started.
std::string RunDuration(const RunRecord& run);

/// A run with its inputs, params, tags, outputs and latest metrics (`runs list --json`).
nlohmann::json RunJson(Workspace& workspace, const RunRecord& run);
/// RunJson with the ids of its child runs (`runs show --json`).
nlohmann::json RunWithChildrenJson(Workspace& workspace, const RunRecord& run);
/// One activity (`activities --json`).
nlohmann::json ActivityJson(const ActivityRecord& activity);
// How long an ended activity took, "12.3s"; "-" while it goes on.
std::string ActivityTook(const ActivityRecord& activity);
/// One model version (`models list --json`).
nlohmann::json ModelJson(const ModelVersionRecord& model);
/// One image version (`images list --json`).
nlohmann::json ImageJson(const ImageRecord& image);
/// One sync (`syncs list --json`); `whole` adds its plan, apply log and resources (`syncs show`).
nlohmann::json SyncJson(const SyncRecord& sync, bool whole);
/// Every point of a run's metrics (`metrics RUN --json`), "" name = all, as
/// the text of a JSON array of {name, step, value, timestamp}, one a line.
StatusOr<std::string> MetricPointsJson(StateStore& store, const std::string& run_id, const std::string& name);
StatusOr<std::string> MetricPointsCsv(StateStore& store, const std::string& run_id, const std::string& name);

/// A secret's name and who set it when, never its value (`secrets list --json`).
nlohmann::json SecretJson(const SecretInfo& secret);
/// A user of the workspace server (`users list --json`).
nlohmann::json UserJson(const UserRecord& user);
/// An API token, never its secret (`tokens list --json`); `now_ms` decides
/// its state: "active", "expired" or "revoked".
nlohmann::json TokenJson(const TokenRecord& token, int64_t now_ms);
/// One audited call (`audit --json`).
nlohmann::json AuditJson(const AuditRecord& entry);

/// A deployment as apply recorded it joined with its endpoint host's live
/// status (`deployments list --json`).
std::vector<nlohmann::json> DeploymentsJson(Workspace& workspace);
/// One deployment with its recent events (`deployments show --json`); nullopt when unknown.
std::optional<nlohmann::json> DeploymentJson(Workspace& workspace, const std::string& name, int event_limit);
/// Each endpoint with its traffic, its outputs and its deployments' rows of
/// DeploymentsJson (`endpoints list --json`, GET /api/v1/endpoints).
StatusOr<nlohmann::json> EndpointsJson(Workspace& workspace);
/// The experiments' names, [{"name": ...}] (`experiments list --json`, GET /api/v1/experiments).
StatusOr<nlohmann::json> ExperimentsJson(StateStore& store);
/// The newest `limit` request records of a deployment's telemetry (`deployments telemetry --json`).
std::vector<nlohmann::json> TelemetryJson(Workspace& workspace, const std::string& endpoint,
                                          const std::string& deployment, int limit);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_VIEWS_RECORD_JSON_H_
