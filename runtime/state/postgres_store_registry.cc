// PostgresStore's model and image registries. (The implementation notes at
// the top of postgres_store.cc hold here too.)
//
// Implementation notes: the tables, checks and messages are the SQLite
// store's (registry_rows.h). A version is assigned by bumping the name's
// last_version with INSERT ... ON CONFLICT DO UPDATE inside the transaction
// that inserts the version: the upsert locks the name's row until commit, so
// writers on any number of connections take turns and never get the same
// number, and a deleted version's number is never given out again. Where
// SQLite relies on its single writer (a check, then a write), the row checked
// is locked: DeleteModelVersion locks the version FOR UPDATE before looking
// for images that package it, and RecordImage locks the versions it packages
// FOR SHARE, so the two cannot interleave.

#include <nlohmann/json.hpp>

#include "runtime/state/postgres_connection.h"
#include "runtime/state/postgres_store.h"
#include "runtime/state/postgres_store_internal.h"
#include "runtime/state/record_rows.h"
#include "runtime/state/registry_rows.h"

namespace amlc::runtime {

using internal::PgExecute;
using internal::PgQuery;
using internal::PgQueryFirst;
using namespace internal::registry;  // NOLINT: the rows both stores share

using namespace internal;  // NOLINT: the columns and readers both stores share (record_rows.h)

namespace {

StatusOr<int64_t> AssignVersion(PgConnection& connection, const Registry& registry, const std::string& name,
                                std::string_view doing) {
  StatusOr<PgResult> version = connection.Exec(
      std::string("INSERT INTO ") + registry.names_table +
          " AS n (name, last_version) VALUES ($1, 1) "
          "ON CONFLICT (name) DO UPDATE SET last_version = n.last_version + 1 RETURNING last_version",
      PgParams().Add(name), doing);
  if (!version.ok()) return version.status();
  return version->Int(0, 0);
}

// Whether the version exists, locking its row (FOR UPDATE) until the
// transaction ends, so no one deletes it meanwhile.
StatusOr<bool> LockVersion(PgConnection& connection, const Registry& registry, const std::string& name,
                           int64_t version, std::string_view doing) {
  StatusOr<PgResult> found = connection.Exec(
      std::string("SELECT 1 FROM ") + registry.versions_table + " WHERE name = $1 AND version = $2 FOR UPDATE",
      PgParams().Add(name).Add(version), doing);
  if (!found.ok()) return found.status();
  return found->rows() > 0;
}

Status PutTags(PgConnection& connection, const Registry& registry, const std::string& name, int64_t version,
               const Tags& tags, std::string_view doing) {
  const std::string sql = std::string("INSERT INTO ") + registry.tags_table +
                          " (name, version, key, value) VALUES ($1, $2, $3, $4) "
                          "ON CONFLICT (name, version, key) DO UPDATE SET value = excluded.value";
  for (const auto& [key, value] : tags) {
    Status status = PgExecute(connection, sql, PgParams().Add(name).Add(version).Add(key).Add(value), doing);
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

Status RemoveTags(PgConnection& connection, const Registry& registry, const std::string& name, int64_t version,
                  const std::vector<std::string>& keys, std::string_view doing) {
  const std::string sql =
      std::string("DELETE FROM ") + registry.tags_table + " WHERE name = $1 AND version = $2 AND key = $3";
  for (const std::string& key : keys) {
    Status status = PgExecute(connection, sql, PgParams().Add(name).Add(version).Add(key), doing);
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

Status UpdateTags(PgConnection& connection, const Registry& registry, const std::string& name, int64_t version,
                  const Tags& set, const std::vector<std::string>& remove) {
  std::string doing = std::string("updating the tags of ") + registry.noun + " " + Label(name, version);
  if (Status status = CheckNameAndTags(connection.where(), registry, doing, name, set); !status.ok()) {
    return status;
  }
  for (const std::string& key : remove) {
    if (set.count(key) != 0) return Invalid(connection.where(), doing, "tag '" + key + "' is both set and removed");
  }
  return InTransaction(connection, doing, [&]() -> Status {
    StatusOr<bool> exists = LockVersion(connection, registry, name, version, doing);
    if (!exists.ok()) return exists.status();
    if (!*exists) return NoSuchVersion(registry, name, version);
    if (Status status = PutTags(connection, registry, name, version, set, doing); !status.ok()) return status;
    return RemoveTags(connection, registry, name, version, remove, doing);
  });
}

// " AND EXISTS (...)" for each tag, on the versions table aliased v: the key
// alone for an empty value (has the key), else key and value.
std::string TagFilter(const Registry& registry, const Tags& tags, PgParams& params) {
  std::string sql;
  for (const auto& [key, value] : tags) {
    sql += std::string(" AND EXISTS (SELECT 1 FROM ") + registry.tags_table +
           " AS t WHERE t.name = v.name AND t.version = v.version AND t.key = " + params.Next(key);
    if (!value.empty()) sql += " AND t.value = " + params.Next(value);
    sql += ")";
  }
  return sql;
}

// --- Models ------------------------------------------------------------------

constexpr const char* kModelColumns =
    "v.name, v.version, v.type, v.framework, v.description, v.stage, v.properties_json, "
    "v.content_digest, v.path_name, v.single_file, v.size_bytes, v.source_key, v.resource_id, "
    "v.run_id, v.job_id, v.experiment, v.spec_commit, v.created_at, "
    "(SELECT coalesce(json_object_agg(t.key, t.value)::text, '{}') FROM model_tags AS t "
    "WHERE t.name = v.name AND t.version = v.version)";

std::string SelectModels(const std::string& where_and_order) {
  return std::string("SELECT ") + kModelColumns + " FROM model_versions AS v " + where_and_order;
}

PgParams ModelParams(const ModelVersionRecord& model, const std::string& properties_json) {
  PgParams params;
  params.Add(model.name).Add(model.version).Add(model.type).Add(model.framework).Add(model.description);
  params.Add(model.stage).Add(properties_json).Add(model.content_digest).Add(model.path_name);
  params.Add(static_cast<int64_t>(model.single_file ? 1 : 0)).Add(static_cast<int64_t>(model.size_bytes));
  params.Add(model.source_key).Add(model.resource_id).Add(model.run_id).Add(model.job_id);
  params.Add(model.experiment).Add(model.spec_commit).Add(model.created_at);
  return params;
}

constexpr const char* kInsertModel =
    "INSERT INTO model_versions (name, version, type, framework, description, stage, "
    "properties_json, content_digest, path_name, single_file, size_bytes, source_key, "
    "resource_id, run_id, job_id, experiment, spec_commit, created_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)";

// --- Images ------------------------------------------------------------------

constexpr const char* kImageColumns =
    "v.name, v.version, v.kind, v.digest, v.build_key, v.layout, v.ref_name, v.base_image, "
    "v.environment, v.size_bytes, v.resource_id, v.pushed_json, v.created_at, "
    "(SELECT coalesce(json_object_agg(t.key, t.value)::text, '{}') FROM image_tags AS t "
    "WHERE t.name = v.name AND t.version = v.version), "
    "(SELECT coalesce(json_agg(json_build_array(m.position, m.model_name, m.model_version))::text, '[]') "
    "FROM image_models AS m WHERE m.image_name = v.name AND m.image_version = v.version)";

std::string SelectImages(const std::string& where_and_order) {
  return std::string("SELECT ") + kImageColumns + " FROM images AS v " + where_and_order;
}

PgParams ImageParams(const ImageRecord& image) {
  PgParams params;
  params.Add(image.name).Add(image.version).Add(image.kind).Add(image.digest).Add(image.build_key);
  params.Add(image.layout).Add(image.ref_name).Add(image.base_image).Add(image.environment);
  params.Add(static_cast<int64_t>(image.size_bytes)).Add(image.resource_id).Add(image.pushed_json);
  params.Add(image.created_at);
  return params;
}

constexpr const char* kInsertImage =
    "INSERT INTO images (name, version, kind, digest, build_key, layout, ref_name, base_image, "
    "environment, size_bytes, resource_id, pushed_json, created_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";

// Records which model versions the image packages, each locked FOR SHARE
// (when registered) until the image commits, so none is deleted meanwhile.
Status InsertImageModels(PgConnection& connection, const ImageRecord& image, std::string_view doing) {
  for (size_t position = 0; position < image.models.size(); ++position) {
    const ModelRef& model = image.models[position];
    Status status = PgExecute(connection,
                              "SELECT 1 FROM model_versions WHERE name = $1 AND version = $2 FOR SHARE",
                              PgParams().Add(model.first).Add(model.second), doing);
    if (!status.ok()) return status;
    status = PgExecute(connection,
                       "INSERT INTO image_models (image_name, image_version, model_name, model_version, "
                       "position) VALUES ($1, $2, $3, $4, $5)",
                       PgParams()
                           .Add(image.name).Add(image.version).Add(model.first).Add(model.second)
                           .Add(static_cast<int64_t>(position)),
                       doing);
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

}  // namespace

// --- Models ------------------------------------------------------------------

StatusOr<ModelVersionRecord> PostgresStore::RegisterModelVersion(const ModelVersionRecord& model) {
  std::string doing = "registering a version of model " + model.name;
  if (Status status = CheckNameAndTags(connection_->where(), kModels, doing, model.name, model.tags);
      !status.ok()) {
    return status;
  }
  ModelVersionRecord stored = model;
  if (stored.created_at == 0) stored.created_at = NowMillis();
  std::string properties_json = Dump(nlohmann::json(model.properties));
  std::lock_guard lock(mutex_);
  Status status = InTransaction(*connection_, doing, [&]() -> Status {
    StatusOr<int64_t> version = AssignVersion(*connection_, kModels, stored.name, doing);
    if (!version.ok()) return version.status();
    stored.version = *version;
    Status inserted = PgExecute(*connection_, kInsertModel, ModelParams(stored, properties_json), doing);
    if (!inserted.ok()) return inserted;
    return PutTags(*connection_, kModels, stored.name, stored.version, stored.tags, doing);
  });
  if (!status.ok()) return status;
  return stored;
}

StatusOr<std::optional<ModelVersionRecord>> PostgresStore::GetModelVersion(const std::string& name,
                                                                           int64_t version) {
  std::lock_guard lock(mutex_);
  return PgQueryFirst<ModelVersionRecord>(*connection_, SelectModels("WHERE v.name = $1 AND v.version = $2"),
                                          PgParams().Add(name).Add(version), "reading model " + Label(name, version),
                                          ReadModel<PgRow>);
}

StatusOr<std::optional<ModelVersionRecord>> PostgresStore::LatestModelVersion(const std::string& name) {
  std::lock_guard lock(mutex_);
  return PgQueryFirst<ModelVersionRecord>(*connection_,
                                          SelectModels("WHERE v.name = $1 ORDER BY v.version DESC LIMIT 1"),
                                          PgParams().Add(name), "reading the latest version of model " + name,
                                          ReadModel<PgRow>);
}

StatusOr<std::vector<ModelVersionRecord>> PostgresStore::ListModelVersions(const ModelQuery& query) {
  PgParams params;
  std::string where = "WHERE true";
  if (!query.name.empty()) where += " AND v.name = " + params.Next(query.name);
  if (!query.framework.empty()) where += " AND v.framework = " + params.Next(query.framework);
  where += TagFilter(kModels, query.tags, params) + " ORDER BY v.name, v.version DESC";
  std::lock_guard lock(mutex_);
  return PgQuery<ModelVersionRecord>(*connection_, SelectModels(where), params, "listing model versions", ReadModel<PgRow>);
}

StatusOr<std::optional<ModelVersionRecord>> PostgresStore::FindModelVersionBySource(const std::string& name,
                                                                                    const std::string& source_key) {
  if (source_key.empty()) return std::optional<ModelVersionRecord>();
  std::lock_guard lock(mutex_);
  return PgQueryFirst<ModelVersionRecord>(
      *connection_, SelectModels("WHERE v.name = $1 AND v.source_key = $2 ORDER BY v.version DESC LIMIT 1"),
      PgParams().Add(name).Add(source_key),
      "looking up the version of model " + name + " registered from " + source_key, ReadModel<PgRow>);
}

Status PostgresStore::UpdateModelTags(const std::string& name, int64_t version,
                                      const std::map<std::string, std::string>& set,
                                      const std::vector<std::string>& remove) {
  std::lock_guard lock(mutex_);
  return UpdateTags(*connection_, kModels, name, version, set, remove);
}

Status PostgresStore::DeleteModelVersion(const std::string& name, int64_t version) {
  std::string doing = "deleting model " + Label(name, version);
  std::lock_guard lock(mutex_);
  return InTransaction(*connection_, doing, [&]() -> Status {
    StatusOr<bool> exists = LockVersion(*connection_, kModels, name, version, doing);
    if (!exists.ok()) return exists.status();
    if (!*exists) return NoSuchVersion(kModels, name, version);
    auto images = PgQuery<std::string>(
        *connection_,
        "SELECT image_name, image_version FROM image_models "
        "WHERE model_name = $1 AND model_version = $2 ORDER BY image_name, image_version",
        PgParams().Add(name).Add(version), doing,
        [](const PgRow& r) { return Label(r.Text(0), r.Int(1)); });
    if (!images.ok()) return images.status();
    if (!images->empty()) return InUse(name, version, *images);
    return PgExecute(*connection_, "DELETE FROM model_versions WHERE name = $1 AND version = $2",
                     PgParams().Add(name).Add(version), doing);
  });
}

// --- Images ------------------------------------------------------------------

StatusOr<ImageRecord> PostgresStore::RecordImage(const ImageRecord& image) {
  std::string doing = "recording a version of image " + image.name;
  if (Status status = CheckImage(connection_->where(), doing, image); !status.ok()) return status;
  ImageRecord stored = image;
  if (stored.created_at == 0) stored.created_at = NowMillis();
  std::lock_guard lock(mutex_);
  Status status = InTransaction(*connection_, doing, [&]() -> Status {
    StatusOr<int64_t> version = AssignVersion(*connection_, kImages, stored.name, doing);
    if (!version.ok()) return version.status();
    stored.version = *version;
    Status written = PgExecute(*connection_, kInsertImage, ImageParams(stored), doing);
    if (!written.ok()) return written;
    written = PutTags(*connection_, kImages, stored.name, stored.version, stored.tags, doing);
    if (!written.ok()) return written;
    return InsertImageModels(*connection_, stored, doing);
  });
  if (!status.ok()) return status;
  return stored;
}

StatusOr<std::optional<ImageRecord>> PostgresStore::GetImage(const std::string& name, int64_t version) {
  std::lock_guard lock(mutex_);
  return PgQueryFirst<ImageRecord>(*connection_, SelectImages("WHERE v.name = $1 AND v.version = $2"),
                                   PgParams().Add(name).Add(version), "reading image " + Label(name, version),
                                   ReadImage<PgRow>);
}

StatusOr<std::optional<ImageRecord>> PostgresStore::LatestImage(const std::string& name) {
  std::lock_guard lock(mutex_);
  return PgQueryFirst<ImageRecord>(*connection_, SelectImages("WHERE v.name = $1 ORDER BY v.version DESC LIMIT 1"),
                                   PgParams().Add(name), "reading the latest version of image " + name, ReadImage<PgRow>);
}

StatusOr<std::vector<ImageRecord>> PostgresStore::ListImages(const std::string& name,
                                                             const std::map<std::string, std::string>& tags) {
  PgParams params;
  std::string where = "WHERE true";
  if (!name.empty()) where += " AND v.name = " + params.Next(name);
  where += TagFilter(kImages, tags, params) + " ORDER BY v.name, v.version DESC";
  std::lock_guard lock(mutex_);
  return PgQuery<ImageRecord>(*connection_, SelectImages(where), params, "listing images", ReadImage<PgRow>);
}

StatusOr<std::optional<ImageRecord>> PostgresStore::FindImageByBuildKey(const std::string& name,
                                                                        const std::string& build_key) {
  if (build_key.empty()) return std::optional<ImageRecord>();
  std::lock_guard lock(mutex_);
  return PgQueryFirst<ImageRecord>(
      *connection_, SelectImages("WHERE v.name = $1 AND v.build_key = $2 ORDER BY v.version DESC LIMIT 1"),
      PgParams().Add(name).Add(build_key), "looking up the version of image " + name + " built from " + build_key,
      ReadImage<PgRow>);
}

Status PostgresStore::UpdateImageTags(const std::string& name, int64_t version,
                                      const std::map<std::string, std::string>& set,
                                      const std::vector<std::string>& remove) {
  std::lock_guard lock(mutex_);
  return UpdateTags(*connection_, kImages, name, version, set, remove);
}

Status PostgresStore::RecordImagePush(const std::string& name, int64_t version, const std::string& to,
                                      const std::string& digest) {
  std::string doing = "recording a push of image " + Label(name, version) + " to " + to;
  std::lock_guard lock(mutex_);
  // Read (FOR UPDATE), append and write in one transaction, so two pushes
  // recorded at once both stay.
  return InTransaction(*connection_, doing, [&]() -> Status {
    auto pushed = PgQueryFirst<std::string>(
        *connection_, "SELECT pushed_json FROM images WHERE name = $1 AND version = $2 FOR UPDATE",
        PgParams().Add(name).Add(version), doing, [](const PgRow& r) { return r.Text(0); });
    if (!pushed.ok()) return pushed.status();
    if (!pushed->has_value()) return NoSuchVersion(kImages, name, version);
    nlohmann::ordered_json entries = nlohmann::ordered_json::parse(**pushed, nullptr, /*allow_exceptions=*/false);
    if (!entries.is_array()) {
      return Status(StatusCode::kInternal, "state store " + connection_->where() + ": " + doing +
                                               ": the stored pushed_json is not a JSON array");
    }
    entries.push_back(nlohmann::ordered_json{{"to", to}, {"digest", digest}, {"at", NowMillis()}});
    return PgExecute(*connection_, "UPDATE images SET pushed_json = $3 WHERE name = $1 AND version = $2",
                     PgParams().Add(name).Add(version).Add(Dump(entries)), doing);
  });
}

Status PostgresStore::DeleteImage(const std::string& name, int64_t version) {
  std::lock_guard lock(mutex_);
  StatusOr<PgResult> deleted = connection_->Exec("DELETE FROM images WHERE name = $1 AND version = $2",
                                                 PgParams().Add(name).Add(version),
                                                 "deleting image " + Label(name, version));
  if (!deleted.ok()) return deleted.status();
  if (deleted->affected() == 0) return NoSuchVersion(kImages, name, version);
  return Status::Ok();
}

}  // namespace amlc::runtime
