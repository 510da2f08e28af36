#ifndef AMLC_RECONCILER_SERVER_RECONCILER_CONTROL_H_
#define AMLC_RECONCILER_SERVER_RECONCILER_CONTROL_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/status.h"

namespace amlc::reconciler {

/// A pull request as a forge's webhook describes it.
struct PullRequestEvent {
  int64_t number = 0;
  std::string action;          // "opened", "synchronize", "reopened", "closed", ...
  std::string repository;      // "owner/name"
  std::string title;
  std::string head_ref;        // branch name of the head
  std::string head_sha;        // 40 hex digits
  std::string base_ref;        // branch the PR merges into
};

/// What the webhook and status API ask of a running reconciler. The loop
/// implements it; every method is called from the HTTP server's threads and
/// must return quickly (RequestPass and RequestPreview only queue the work).
class ReconcilerControl {
 public:
  virtual ~ReconcilerControl() = default;
  /// The tracked branch ("main"): a push to another branch starts nothing.
  virtual std::string Branch() const = 0;
  /// Starts a pass as soon as the loop is free; `reason` is recorded as the
  /// sync's trigger ("push abc1234 by alice").
  virtual void RequestPass(const std::string& reason) = 0;
  /// Queues a preview of the pull request (posted on the forge if one is configured).
  virtual void RequestPreview(const PullRequestEvent& pull_request) = 0;
  /// GET /api/status: tracked commit, last sync, each resource's sync status and health.
  virtual nlohmann::json Status() = 0;
  /// GET /api/syncs: the newest `limit` syncs, newest first, without plan and log.
  virtual nlohmann::json Syncs(int limit) = 0;
  /// GET /api/syncs/ID: one sync with its plan and apply log; nullopt when unknown.
  virtual std::optional<nlohmann::json> Sync(int64_t id) = 0;
  /// POST /api/rollback: queues a pass that applies the commit of sync `sync_id`
  /// and pauses auto-sync until the next push; `by` is recorded in its trigger.
  /// What was queued, or NotFound (no such sync) / FailedPrecondition (the sync
  /// has no commit to go back to).
  virtual StatusOr<nlohmann::json> RequestRollback(int64_t sync_id, const std::string& by) {
    (void)sync_id;
    (void)by;
    return amlc::Status(StatusCode::kFailedPrecondition, "this reconciler cannot roll back");
  }
};

}  // namespace amlc::reconciler

#endif  // AMLC_RECONCILER_SERVER_RECONCILER_CONTROL_H_
