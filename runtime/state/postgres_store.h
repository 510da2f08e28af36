#ifndef AMLC_RUNTIME_STATE_POSTGRES_STORE_H_
#define AMLC_RUNTIME_STATE_POSTGRES_STORE_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/state/state_store.h"

namespace amlc::runtime {

class PgConnection;

/// The state store in a PostgreSQL database, for a workspace that many
/// processes and machines share. It keeps SqliteStore's contract (see
/// sqlite_store.h) call for call, on the same versioned schema
/// (postgres_schema.h), and the state store tests run against both. How it
/// holds the guarantees when writers are processes on several machines:
/// * Every write of several rows is one READ COMMITTED transaction, retried
///   from the start when PostgreSQL aborts it for a deadlock or serialization
///   failure (InTransaction).
/// * Model and image versions are assigned by INSERT ... ON CONFLICT DO UPDATE
///   on the name's row, which locks that row until the version's transaction
///   commits: concurrent writers take turns and never get the same number.
/// * Check-then-write pairs lock what they checked (SELECT ... FOR UPDATE; an
///   image locks the model versions it packages FOR SHARE), so no write slips
///   in between, as BEGIN IMMEDIATE ensures in SQLite.
/// * A lock wait gives up after 5 s (lock_timeout) as kUnavailable.
/// Thread-safe: one connection per object, each call holds a mutex.
class PostgresStore : public StateStore {
 public:
  /// See OpenPostgresStore.
  static StatusOr<std::unique_ptr<PostgresStore>> Open(const std::string& url);
  ~PostgresStore() override;

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
  explicit PostgresStore(std::unique_ptr<PgConnection> connection);

  // Serializes every use of the connection, which is not thread-safe.
  std::mutex mutex_;
  std::unique_ptr<PgConnection> connection_;
};

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_STATE_POSTGRES_STORE_H_
