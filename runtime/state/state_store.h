#ifndef AMLC_RUNTIME_STATE_STATE_STORE_H_
#define AMLC_RUNTIME_STATE_STATE_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "compiler/support/metric_condition.h"
#include "runtime/state/run_filter.h"

namespace amlc::runtime {

/// A resource as last applied: what the planner compares the specs with.
struct ResourceRecord {
  std::string id;         // "compute/local", "job/train-iris"
  std::string kind;
  std::string name;
  std::string version;
  std::string digest;     // desired-state digest it was applied with
  std::string spec_json;  // canonical JSON of the spec it was applied with
  std::string outputs_json = "{}";  // what applying produced (ports, paths, ...)
  int64_t updated_at = 0;           // unix ms
};

enum class RunStatus { kQueued, kRunning, kCompleted, kFailed, kCanceled };
const char* RunStatusName(RunStatus status);
std::optional<RunStatus> ParseRunStatus(std::string_view name);

/// One run of a job (or a child run of a sweep trial or pipeline step).
struct RunRecord {
  std::string id;              // "<job-name>-<yyyymmdd-hhmmss>-<4 hex>"
  std::string experiment;
  std::string job_id;          // "job/train-iris"
  std::string run_key;         // content digest: code, command, environment, compute, inputs
  std::string parent_run_id;   // "" for a top-level run
  RunStatus status = RunStatus::kQueued;
  std::string compute;         // the type of compute it ran on ("local")
  std::string command;         // the command as run (expressions expanded)
  std::string snapshot_digest; // tree digest of the code snapshot
  std::string params_json = "{}";   // literal inputs
  std::string outputs_json = "{}";  // output name -> stored path
  std::string spec_commit;     // git commit of the specs, when known
  std::string work_dir;        // where it ran
  int64_t pid = 0;             // process group leader while running
  int exit_code = 0;
  std::string error;           // why it failed / was canceled
  int64_t created_at = 0;      // unix ms
  int64_t started_at = 0;
  int64_t ended_at = 0;
};

/// One logged metric point.
struct MetricPoint {
  std::string run_id;
  std::string name;
  int64_t step = 0;
  double value = 0;
  std::string text;  // for string-valued log_row/tag-like values; "" when numeric
  int64_t timestamp = 0;  // unix ms
};

/// One version of a registered model. Versions of a name count up from 1 and
/// are never reused, also after a deletion.
struct ModelVersionRecord {
  std::string name;
  int64_t version = 0;              // assigned by RegisterModelVersion
  std::string type = "custom_model";
  std::string framework;
  std::string description;
  std::string stage;
  std::map<std::string, std::string> tags;
  std::map<std::string, std::string> properties;
  std::string content_digest;  // tree digest of the files in the snapshot store
  std::string path_name;       // the registered file's or folder's base name ("model.pkl")
  bool single_file = false;    // the path was one file, not a folder
  uint64_t size_bytes = 0;
  std::string source_key;      // what it was registered from (run id, or content digest); "" from the CLI
  std::string resource_id;     // "model/iris" for a declarative model; "" from the CLI
  // Lineage: where the files came from.
  std::string run_id;
  std::string job_id;
  std::string experiment;
  std::string spec_commit;
  int64_t created_at = 0;  // unix ms
};

struct ModelQuery {
  std::string name;                               // "" = all names
  std::map<std::string, std::string> tags;        // every one must match ("" value = has the key)
  std::string framework;                          // "" = any
};

/// One built image in the image registry.
struct ImageRecord {
  std::string name;
  int64_t version = 0;          // assigned by RecordImage; never reused
  std::string kind = "docker";
  std::string digest;           // manifest digest, "sha256:<hex>"
  std::string build_key;        // digest of every build input; equal key = same image
  std::string layout;           // the OCI layout holding it (folder)
  std::string ref_name;         // its org.opencontainers.image.ref.name in that layout
  std::string base_image;
  std::string environment;      // environment id or description
  std::map<std::string, std::string> tags;
  std::vector<std::pair<std::string, int64_t>> models;  // (model name, version) it packages
  uint64_t size_bytes = 0;      // manifest + config + layers, compressed
  std::string resource_id;      // "image/iris-image" when declarative
  std::string pushed_json = "[]";  // where it was pushed: [{"to": ..., "digest": ..., "at": ms}]
  int64_t created_at = 0;
};

/// Filters for listing runs.
struct RunQuery {
  std::string experiment;  // "" = all
  std::string job_id;      // "" = all
  std::optional<RunStatus> status;
  std::string parent_run_id;  // "" = top-level and children alike
  bool keyed_only = false;    // only runs started for a run key (not a sweep's trials)
  int limit = 0;              // 0 = no limit
  /// Only runs whose latest value of each metric holds every comparison
  /// (`runs list --where`); a run that never logged the metric, or logged
  /// text, does not match.
  std::vector<MetricComparison> where;
  /// Order by the latest value of this metric (runs without it last); "" =
  /// newest first.
  std::string order_by_metric;
  bool descending = false;
  /// Conditions on metrics, params, tags and attributes, all of which must
  /// hold (`runs list --where`, the MLflow search API); added to `where`.
  std::vector<RunCondition> conditions;
  /// Ordering by any field; takes precedence over order_by_metric.
  std::optional<RunOrder> order;
};

/// A long action (create a compute target, run a script, build, deploy).
struct ActivityRecord {
  int64_t id = 0;
  std::string kind;         // "create", "run", "build", "deploy", "delete"
  std::string resource_id;
  std::string run_id;
  std::string status;       // "Running", "Succeeded", "Failed", "Canceled", "Interrupted"
  double progress = 0;      // 0..1
  std::string message;
  int64_t started_at = 0;
  int64_t ended_at = 0;
};

/// An apply journal entry, written before and after each action so a crashed
/// apply can be resumed without repeating or losing work.
struct JournalEntry {
  int64_t seq = 0;
  std::string apply_id;
  std::string action;       // "create", "update", "run", ...
  std::string resource_id;
  std::string phase;        // "begin" or "end"
  std::string status;       // "", "ok", "failed"
  std::string detail;       // run id, error text
  int64_t timestamp = 0;
};

/// One pass of the reconciler (`amlc reconcile`): the commit it compiled,
/// what it planned and how applying went.
struct SyncRecord {
  int64_t id = 0;
  std::string trigger;         // "startup", "interval", "push abc1234 by alice", "schedule nightly"
  std::string commit;          // 40 hex digits; "" when git could not be read
  std::string author;          // "Alice <alice@example.com>"
  std::string message;         // the commit's summary line
  std::string result;          // "Running", "Synced", "OutOfSync", "Failed", "InvalidSpec", "GitError"
  std::string summary;         // the plan's summary line, or why there is none
  std::string diagnostics;     // compiler diagnostics / errors, plain text
  std::string plan_json = "{}";
  std::string apply_log;       // one line per action: outcome, resource, message
  std::string resources_json = "[]";  // each resource's sync status and health after the pass
  int64_t started_at = 0;      // unix ms
  int64_t ended_at = 0;        // 0 while running
};

/// The workspace's state: everything amlc records. One interface, so the
/// PostgreSQL store stands in for the embedded SQLite one. Every method
/// that writes several rows does so in one transaction. Errors are Status
/// values (kUnavailable: busy/locked, retry; kInternal: corrupt or unusable).
class StateStore {
 public:
  virtual ~StateStore() = default;

  // Applied resources.
  virtual Status PutResource(const ResourceRecord& record) = 0;
  virtual Status DeleteResource(const std::string& id) = 0;
  virtual StatusOr<std::vector<ResourceRecord>> ListResources() = 0;
  virtual StatusOr<std::optional<ResourceRecord>> GetResource(const std::string& id) = 0;

  // Experiments: an unknown name is created by EnsureExperiment.
  virtual Status EnsureExperiment(const std::string& name) = 0;
  virtual StatusOr<std::vector<std::string>> ListExperiments() = 0;

  // Runs.
  virtual Status InsertRun(const RunRecord& run) = 0;
  virtual Status UpdateRun(const RunRecord& run) = 0;
  virtual StatusOr<std::optional<RunRecord>> GetRun(const std::string& id) = 0;
  virtual StatusOr<std::vector<RunRecord>> ListRuns(const RunQuery& query) = 0;
  /// The newest Completed run of `job_id` with `run_key`, if any.
  virtual StatusOr<std::optional<RunRecord>> FindCompletedRun(const std::string& job_id,
                                                              const std::string& run_key) = 0;
  /// Runs of `job_id` with `run_key` that are Queued or Running.
  virtual StatusOr<std::vector<RunRecord>> FindActiveRuns(const std::string& job_id,
                                                          const std::string& run_key) = 0;
  /// Deletes every run of `job_id` (children included) with its metrics and
  /// tags, in one transaction; returns the ids deleted (for `destroy --purge`).
  virtual StatusOr<std::vector<std::string>> DeleteRunsOfJob(const std::string& job_id) = 0;
  virtual Status SetRunTag(const std::string& run_id, const std::string& key,
                           const std::string& value) = 0;
  virtual StatusOr<std::vector<std::pair<std::string, std::string>>> RunTags(
      const std::string& run_id) = 0;
  virtual Status DeleteRunTag(const std::string& run_id, const std::string& key) = 0;
  /// Sets params of a run in one transaction (a key already set is replaced).
  virtual Status SetRunParams(const std::string& run_id,
                              const std::vector<std::pair<std::string, std::string>>& params) = 0;
  /// A run's params, ordered by key.
  virtual StatusOr<std::vector<std::pair<std::string, std::string>>> RunParams(
      const std::string& run_id) = 0;

  // Metrics: batches go in one transaction with a prepared statement.
  virtual Status AppendMetrics(const std::vector<MetricPoint>& points) = 0;
  /// AppendMetrics of a batch a client names (`batch`, its own key, unique
  /// per run): a batch already stored for `run_id` stores nothing and
  /// returns false, so a batch sent again after a lost answer lands once.
  virtual StatusOr<bool> AppendMetricsBatch(const std::string& run_id, const std::string& batch,
                                            const std::vector<MetricPoint>& points) = 0;
  /// Points of a run, ordered by name, step, timestamp; `name` "" = all.
  virtual StatusOr<std::vector<MetricPoint>> Metrics(const std::string& run_id,
                                                     const std::string& name) = 0;
  /// The last logged value of each metric of a run (name -> point).
  virtual StatusOr<std::vector<MetricPoint>> LatestMetrics(const std::string& run_id) = 0;

  // Model registry. RegisterModelVersion assigns the next version of the
  // name (one more than any it ever had) and returns the record as stored.
  virtual StatusOr<ModelVersionRecord> RegisterModelVersion(const ModelVersionRecord& model) = 0;
  virtual StatusOr<std::optional<ModelVersionRecord>> GetModelVersion(const std::string& name,
                                                                      int64_t version) = 0;
  /// The highest existing version of the name.
  virtual StatusOr<std::optional<ModelVersionRecord>> LatestModelVersion(const std::string& name) = 0;
  /// Newest first (name, then version descending).
  virtual StatusOr<std::vector<ModelVersionRecord>> ListModelVersions(const ModelQuery& query) = 0;
  /// The version of `name` registered from `source_key`, if any (declarative models).
  virtual StatusOr<std::optional<ModelVersionRecord>> FindModelVersionBySource(
      const std::string& name, const std::string& source_key) = 0;
  /// Sets `set` and removes `remove` tags, in one transaction; kNotFound if no such version.
  virtual Status UpdateModelTags(const std::string& name, int64_t version,
                                 const std::map<std::string, std::string>& set,
                                 const std::vector<std::string>& remove) = 0;
  /// kFailedPrecondition, naming the images, when an image packages it;
  /// kNotFound when there is no such version.
  virtual Status DeleteModelVersion(const std::string& name, int64_t version) = 0;

  // Image registry: like models, versions count up per name and are never reused.
  virtual StatusOr<ImageRecord> RecordImage(const ImageRecord& image) = 0;
  virtual StatusOr<std::optional<ImageRecord>> GetImage(const std::string& name, int64_t version) = 0;
  virtual StatusOr<std::optional<ImageRecord>> LatestImage(const std::string& name) = 0;
  /// Newest first; `tags` as in ModelQuery, `name` "" = all.
  virtual StatusOr<std::vector<ImageRecord>> ListImages(const std::string& name,
                                                        const std::map<std::string, std::string>& tags) = 0;
  virtual StatusOr<std::optional<ImageRecord>> FindImageByBuildKey(const std::string& name,
                                                                   const std::string& build_key) = 0;
  virtual Status UpdateImageTags(const std::string& name, int64_t version,
                                 const std::map<std::string, std::string>& set,
                                 const std::vector<std::string>& remove) = 0;
  /// Appends one entry to pushed_json.
  virtual Status RecordImagePush(const std::string& name, int64_t version, const std::string& to,
                                 const std::string& digest) = 0;
  virtual Status DeleteImage(const std::string& name, int64_t version) = 0;

  // Activities.
  virtual StatusOr<int64_t> StartActivity(const ActivityRecord& activity) = 0;
  virtual Status UpdateActivity(const ActivityRecord& activity) = 0;
  virtual StatusOr<std::vector<ActivityRecord>> ListActivities(int limit) = 0;
  /// Ends every activity still "Running" as "Interrupted" with `message` and
  /// returns how many. Only for a holder of the apply lock: then no live
  /// apply owns a Running activity, so each was left by one that died.
  virtual StatusOr<int> EndInterruptedActivities(int64_t ended_at, const std::string& message) = 0;

  // Apply journal.
  virtual Status AppendJournal(const JournalEntry& entry) = 0;
  /// Entries of the newest apply that has a "begin" without an "end".

  /// A number that changes whenever recorded state changes; a saved plan
  /// remembers it to detect that the state moved on since it was made.
  virtual StatusOr<int64_t> StateSerial() = 0;

  // Reconciler. StartSync assigns the id; FinishSync rewrites the whole row.
  virtual StatusOr<int64_t> StartSync(const SyncRecord& sync) = 0;
  virtual Status FinishSync(const SyncRecord& sync) = 0;
  /// The newest `limit` syncs, newest first.
  virtual StatusOr<std::vector<SyncRecord>> ListSyncs(int limit) = 0;
  virtual StatusOr<std::optional<SyncRecord>> GetSync(int64_t id) = 0;
  /// Small values the reconciler keeps across restarts ("" when unset).
  virtual StatusOr<std::string> GetReconcilerValue(const std::string& key) = 0;
  virtual Status SetReconcilerValue(const std::string& key, const std::string& value) = 0;
};

/// Opens (creating and migrating as needed) the SQLite store at `path`, in
/// WAL mode. kInternal when the file is not an amlc store or is newer than
/// this binary understands.
StatusOr<std::unique_ptr<StateStore>> OpenSqliteStore(const std::string& path);

/// Opens (creating the schema and migrating as needed) the store in the
/// PostgreSQL database at `url` ("postgresql://user@host:port/db"). kUnavailable
/// when the server cannot be reached; kInternal when the database holds
/// another application's tables or a schema newer than this binary knows.
StatusOr<std::unique_ptr<StateStore>> OpenPostgresStore(const std::string& url);

/// OpenPostgresStore for a postgresql:// or postgres:// URL, else
/// OpenSqliteStore of the path.
StatusOr<std::unique_ptr<StateStore>> OpenStateStore(const std::string& location);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_STATE_STATE_STORE_H_
