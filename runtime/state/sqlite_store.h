#ifndef AMLC_RUNTIME_STATE_SQLITE_STORE_H_
#define AMLC_RUNTIME_STATE_SQLITE_STORE_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/state/state_store.h"

namespace amlc::runtime {

class SqliteConnection;

/// The embedded state store: one SQLite file per workspace home, shared by
/// every amlc process that works on that workspace (WAL mode, so readers never
/// wait for the writer; a writer waits up to 5 s for another, then gets
/// kUnavailable). Thread-safe: one connection per object, each call holds a
/// mutex, so worker threads may share one store.
///
/// Beyond StateStore's contract:
/// * ListRuns and ListActivities give newest first (created_at / id).
/// * InsertRun records the run's experiment (EnsureExperiment) in the same
///   transaction; a run id already recorded is kAlreadyExists. A child run's
///   parent, and a metric point's or tag's run, must be recorded first
///   (kFailedPrecondition otherwise).
/// * UpdateRun and UpdateActivity of an unknown id are kNotFound;
///   DeleteResource of an unknown id is a no-op.
/// * LatestMetrics gives, per name, the last point in Metrics() order
///   (greatest step, then timestamp, then the point logged last).
/// * StateSerial changes on every write to resources or runs, and on every
///   model version or image registered or deleted and every image push,
///   including one from another process; metrics, tags (of runs, models and
///   images), activities and the journal leave it.
/// * RegisterModelVersion and RecordImage ignore the version they are given
///   and fill in the assigned one, and created_at when it is 0. An empty name,
///   an empty tag key or (RecordImage) a pushed_json that is not a JSON array
///   or a model listed twice is kInvalidArgument. An image may name model
///   versions that are not registered: the store does not resolve them.
/// * FindModelVersionBySource and FindImageByBuildKey give the newest version
///   with that key, and nothing for an empty key (a CLI registration has none).
/// * The registry's own refusals carry plain messages a CLI can print as they
///   are: kNotFound "no model iris:7", kFailedPrecondition "model iris:2 is
///   used by image iris-image:1, iris-image:3; delete those images first".
///   UpdateModelTags and UpdateImageTags refuse a key both set and removed
///   (kInvalidArgument); removing a key the version lacks is a no-op.
class SqliteStore : public StateStore {
 public:
  /// See OpenSqliteStore.
  static StatusOr<std::unique_ptr<SqliteStore>> Open(const std::string& path);
  ~SqliteStore() override;

  Status PutResource(const ResourceRecord& record) override;
  Status DeleteResource(const std::string& id) override;
  StatusOr<std::vector<ResourceRecord>> ListResources() override;
  StatusOr<std::vector<std::string>> DeleteRunsOfJob(const std::string& job_id) override;
  StatusOr<std::optional<ResourceRecord>> GetResource(const std::string& id) override;

  Status EnsureExperiment(const std::string& name) override;
  StatusOr<std::vector<std::string>> ListExperiments() override;

  Status InsertRun(const RunRecord& run) override;
  Status UpdateRun(const RunRecord& run) override;
  StatusOr<std::optional<RunRecord>> GetRun(const std::string& id) override;
  StatusOr<std::vector<RunRecord>> ListRuns(const RunQuery& query) override;
  StatusOr<std::optional<RunRecord>> FindCompletedRun(const std::string& job_id,
                                                      const std::string& run_key) override;
  StatusOr<std::vector<RunRecord>> FindActiveRuns(const std::string& job_id,
                                                  const std::string& run_key) override;
  Status SetRunTag(const std::string& run_id, const std::string& key,
                   const std::string& value) override;
  StatusOr<std::vector<std::pair<std::string, std::string>>> RunTags(
      const std::string& run_id) override;
  Status DeleteRunTag(const std::string& run_id, const std::string& key) override;
  Status SetRunParams(const std::string& run_id,
                      const std::vector<std::pair<std::string, std::string>>& params) override;
  StatusOr<std::vector<std::pair<std::string, std::string>>> RunParams(
      const std::string& run_id) override;

  Status AppendMetrics(const std::vector<MetricPoint>& points) override;
  StatusOr<bool> AppendMetricsBatch(const std::string& run_id, const std::string& batch,
                                    const std::vector<MetricPoint>& points) override;
  StatusOr<std::vector<MetricPoint>> Metrics(const std::string& run_id,
                                             const std::string& name) override;
  StatusOr<std::vector<MetricPoint>> LatestMetrics(const std::string& run_id) override;

  StatusOr<ModelVersionRecord> RegisterModelVersion(const ModelVersionRecord& model) override;
  StatusOr<std::optional<ModelVersionRecord>> GetModelVersion(const std::string& name,
                                                              int64_t version) override;
  StatusOr<std::optional<ModelVersionRecord>> LatestModelVersion(const std::string& name) override;
  StatusOr<std::vector<ModelVersionRecord>> ListModelVersions(const ModelQuery& query) override;
  StatusOr<std::optional<ModelVersionRecord>> FindModelVersionBySource(
      const std::string& name, const std::string& source_key) override;
  Status UpdateModelTags(const std::string& name, int64_t version,
                         const std::map<std::string, std::string>& set,
                         const std::vector<std::string>& remove) override;
  Status DeleteModelVersion(const std::string& name, int64_t version) override;

  StatusOr<ImageRecord> RecordImage(const ImageRecord& image) override;
  StatusOr<std::optional<ImageRecord>> GetImage(const std::string& name, int64_t version) override;
  StatusOr<std::optional<ImageRecord>> LatestImage(const std::string& name) override;
  StatusOr<std::vector<ImageRecord>> ListImages(
      const std::string& name, const std::map<std::string, std::string>& tags) override;
  StatusOr<std::optional<ImageRecord>> FindImageByBuildKey(const std::string& name,
                                                           const std::string& build_key) override;
  Status UpdateImageTags(const std::string& name, int64_t version,
                         const std::map<std::string, std::string>& set,
                         const std::vector<std::string>& remove) override;
  Status RecordImagePush(const std::string& name, int64_t version, const std::string& to,
                         const std::string& digest) override;
  Status DeleteImage(const std::string& name, int64_t version) override;

  StatusOr<int64_t> StartActivity(const ActivityRecord& activity) override;
  Status UpdateActivity(const ActivityRecord& activity) override;
  StatusOr<std::vector<ActivityRecord>> ListActivities(int limit) override;
  StatusOr<int> EndInterruptedActivities(int64_t ended_at, const std::string& message) override;

  Status AppendJournal(const JournalEntry& entry) override;

  StatusOr<int64_t> StateSerial() override;

  StatusOr<int64_t> StartSync(const SyncRecord& sync) override;
  Status FinishSync(const SyncRecord& sync) override;
  StatusOr<std::vector<SyncRecord>> ListSyncs(int limit) override;
  StatusOr<std::optional<SyncRecord>> GetSync(int64_t id) override;
  StatusOr<std::string> GetReconcilerValue(const std::string& key) override;
  Status SetReconcilerValue(const std::string& key, const std::string& value) override;

 private:
  explicit SqliteStore(std::unique_ptr<SqliteConnection> connection);

  // Serializes every use of the connection, which is not thread-safe.
  std::mutex mutex_;
  std::unique_ptr<SqliteConnection> connection_;
};

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_STATE_SQLITE_STORE_H_
