// SqliteStore's model and image registries. (The implementation notes at the
// top of sqlite_store.cc hold here too.)
//
// Implementation notes: the two registries have one shape (a names table
// holding the last version assigned, a versions table, a tags table keyed by
// name, version and key), so what they share is written once against a
// Registry that names the tables. A version is assigned by bumping the name's
// last_version inside the write transaction (BEGIN IMMEDIATE) that inserts the
// version: two writers, threads or processes, take turns and never get the
// same number, and a deleted version's number is never given out again.
// A record is read by one statement: its tags (and an image's models) come
// along as JSON that SQLite aggregates, parsed here, so a listing costs one
// query, not one per version.

#include <algorithm>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/state/registry_rows.h"
#include "runtime/state/sqlite_store.h"
#include "runtime/state/record_rows.h"
#include "runtime/state/sqlite_store_internal.h"

namespace amlc::runtime {

using internal::Execute;
using internal::Query;
using internal::QueryFirst;

using namespace internal::registry;  // NOLINT: the rows both stores share

using namespace internal;  // NOLINT: the columns and readers both stores share (record_rows.h)

namespace {

// --- What both registries share ----------------------------------------------

// The next version of `name`: one more than any it ever had. Runs inside the
// write transaction that inserts the version, so number and row commit together.
StatusOr<int64_t> AssignVersion(SqliteConnection& connection, const Registry& registry,
                                const std::string& name, std::string_view doing) {
  StatusOr<std::optional<int64_t>> version = QueryFirst<int64_t>(
      connection,
      std::string("INSERT INTO ") + registry.names_table +
          " (name, last_version) VALUES (?1, 1) "
          "ON CONFLICT (name) DO UPDATE SET last_version = last_version + 1 "
          "RETURNING last_version",
      doing, [&](Statement& s) { s.Bind(1, name); },
      [](const Statement& row) { return row.Int(0); });
  if (!version.ok()) return version.status();
  if (!version->has_value()) {  // RETURNING gives a row for an insert and an update alike
    return Status(StatusCode::kInternal, "state store " + connection.path() + ": " +
                                             std::string(doing) + ": no version returned");
  }
  return **version;
}

StatusOr<bool> VersionExists(SqliteConnection& connection, const Registry& registry,
                             const std::string& name, int64_t version, std::string_view doing) {
  StatusOr<std::optional<int64_t>> found = QueryFirst<int64_t>(
      connection,
      std::string("SELECT 1 FROM ") + registry.versions_table + " WHERE name = ?1 AND version = ?2",
      doing, [&](Statement& s) { s.Bind(1, name).Bind(2, version); },
      [](const Statement& row) { return row.Int(0); });
  if (!found.ok()) return found.status();
  return found->has_value();
}

Status PutTags(SqliteConnection& connection, const Registry& registry, const std::string& name,
               int64_t version, const Tags& tags, std::string_view doing) {
  const std::string sql = std::string("INSERT INTO ") + registry.tags_table +
                          " (name, version, key, value) VALUES (?1, ?2, ?3, ?4) "
                          "ON CONFLICT (name, version, key) DO UPDATE SET value = excluded.value";
  for (const auto& [key, value] : tags) {
    Status status = Execute(connection, sql, doing, [&](Statement& s) {
      s.Bind(1, name).Bind(2, version).Bind(3, key).Bind(4, value);
    });
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

Status RemoveTags(SqliteConnection& connection, const Registry& registry, const std::string& name,
                  int64_t version, const std::vector<std::string>& keys, std::string_view doing) {
  const std::string sql = std::string("DELETE FROM ") + registry.tags_table +
                          " WHERE name = ?1 AND version = ?2 AND key = ?3";
  for (const std::string& key : keys) {
    Status status = Execute(connection, sql, doing,
                            [&](Statement& s) { s.Bind(1, name).Bind(2, version).Bind(3, key); });
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

Status UpdateTags(SqliteConnection& connection, const Registry& registry, const std::string& name,
                  int64_t version, const Tags& set, const std::vector<std::string>& remove) {
  std::string doing =
      std::string("updating the tags of ") + registry.noun + " " + Label(name, version);
  if (Status status = CheckNameAndTags(connection.path(), registry, doing, name, set); !status.ok()) {
    return status;
  }
  // Either order of applying the two would surprise someone; say so instead.
  for (const std::string& key : remove) {
    if (set.count(key) != 0) {
      return Invalid(connection.path(), doing, "tag '" + key + "' is both set and removed");
    }
  }
  Transaction transaction(&connection);
  if (Status status = transaction.Begin(doing); !status.ok()) return status;
  StatusOr<bool> exists = VersionExists(connection, registry, name, version, doing);
  if (!exists.ok()) return exists.status();
  if (!*exists) return NoSuchVersion(registry, name, version);
  if (Status status = PutTags(connection, registry, name, version, set, doing); !status.ok()) {
    return status;
  }
  if (Status status = RemoveTags(connection, registry, name, version, remove, doing);
      !status.ok()) {
    return status;
  }
  return transaction.Commit(doing);
}

// " AND EXISTS (...)" for each tag, on the versions table aliased v, with
// parameters numbered from `first`: the key alone for an empty value (has
// the key), else key and value. Each lookup is a seek in the tags table's key.
std::string TagFilter(const Registry& registry, const Tags& tags, int first) {
  std::string sql;
  int parameter = first;
  for (const auto& [key, value] : tags) {
    sql += std::string(" AND EXISTS (SELECT 1 FROM ") + registry.tags_table +
           " AS t WHERE t.name = v.name AND t.version = v.version AND t.key = ?" +
           std::to_string(parameter++);
    if (!value.empty()) sql += " AND t.value = ?" + std::to_string(parameter++);
    sql += ")";
  }
  return sql;
}

// Binds what TagFilter numbered.
void BindTagFilter(Statement& statement, const Tags& tags, int first) {
  int parameter = first;
  for (const auto& [key, value] : tags) {
    statement.Bind(parameter++, key);
    if (!value.empty()) statement.Bind(parameter++, value);
  }
}

// --- Models ------------------------------------------------------------------

constexpr const char* kModelColumns =
    "v.name, v.version, v.type, v.framework, v.description, v.stage, v.properties_json, "
    "v.content_digest, v.path_name, v.single_file, v.size_bytes, v.source_key, v.resource_id, "
    "v.run_id, v.job_id, v.experiment, v.spec_commit, v.created_at, "
    "(SELECT json_group_object(t.key, t.value) FROM model_tags AS t "
    "WHERE t.name = v.name AND t.version = v.version)";

std::string SelectModels(const std::string& where_and_order) {
  return std::string("SELECT ") + kModelColumns + " FROM model_versions AS v " + where_and_order;
}

constexpr const char* kInsertModel =
    "INSERT INTO model_versions (name, version, type, framework, description, stage, "
    "properties_json, content_digest, path_name, single_file, size_bytes, source_key, "
    "resource_id, run_id, job_id, experiment, spec_commit, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)";

void BindModel(Statement& statement, const ModelVersionRecord& model,
               const std::string& properties_json) {
  statement.Bind(1, model.name).Bind(2, model.version).Bind(3, model.type);
  statement.Bind(4, model.framework).Bind(5, model.description).Bind(6, model.stage);
  statement.Bind(7, properties_json).Bind(8, model.content_digest).Bind(9, model.path_name);
  statement.Bind(10, static_cast<int64_t>(model.single_file ? 1 : 0));
  statement.Bind(11, static_cast<int64_t>(model.size_bytes)).Bind(12, model.source_key);
  statement.Bind(13, model.resource_id).Bind(14, model.run_id).Bind(15, model.job_id);
  statement.Bind(16, model.experiment).Bind(17, model.spec_commit).Bind(18, model.created_at);
}

// The images that package model `name`:`version`, as "iris-image:1".
StatusOr<std::vector<std::string>> ImagesUsing(SqliteConnection& connection,
                                               const std::string& name, int64_t version,
                                               std::string_view doing) {
  return Query<std::string>(
      connection,
      "SELECT image_name, image_version FROM image_models "
      "WHERE model_name = ?1 AND model_version = ?2 ORDER BY image_name, image_version",
      doing, [&](Statement& s) { s.Bind(1, name).Bind(2, version); },
      [](const Statement& row) { return Label(row.Text(0), row.Int(1)); });
}

// --- Images ------------------------------------------------------------------

constexpr const char* kImageColumns =
    "v.name, v.version, v.kind, v.digest, v.build_key, v.layout, v.ref_name, v.base_image, "
    "v.environment, v.size_bytes, v.resource_id, v.pushed_json, v.created_at, "
    "(SELECT json_group_object(t.key, t.value) FROM image_tags AS t "
    "WHERE t.name = v.name AND t.version = v.version), "
    "(SELECT json_group_array(json_array(m.position, m.model_name, m.model_version)) "
    "FROM image_models AS m WHERE m.image_name = v.name AND m.image_version = v.version)";

std::string SelectImages(const std::string& where_and_order) {
  return std::string("SELECT ") + kImageColumns + " FROM images AS v " + where_and_order;
}

constexpr const char* kInsertImage =
    "INSERT INTO images (name, version, kind, digest, build_key, layout, ref_name, base_image, "
    "environment, size_bytes, resource_id, pushed_json, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";

void BindImage(Statement& statement, const ImageRecord& image) {
  statement.Bind(1, image.name).Bind(2, image.version).Bind(3, image.kind);
  statement.Bind(4, image.digest).Bind(5, image.build_key).Bind(6, image.layout);
  statement.Bind(7, image.ref_name).Bind(8, image.base_image).Bind(9, image.environment);
  statement.Bind(10, static_cast<int64_t>(image.size_bytes)).Bind(11, image.resource_id);
  statement.Bind(12, image.pushed_json).Bind(13, image.created_at);
}

Status InsertImageModels(SqliteConnection& connection, const ImageRecord& image,
                         std::string_view doing) {
  for (size_t position = 0; position < image.models.size(); ++position) {
    const ModelRef& model = image.models[position];
    Status status = Execute(
        connection,
        "INSERT INTO image_models (image_name, image_version, model_name, model_version, "
        "position) VALUES (?1, ?2, ?3, ?4, ?5)",
        doing, [&](Statement& s) {
          s.Bind(1, image.name).Bind(2, image.version).Bind(3, model.first);
          s.Bind(4, model.second).Bind(5, static_cast<int64_t>(position));
        });
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

}  // namespace

// --- Models ------------------------------------------------------------------

StatusOr<ModelVersionRecord> SqliteStore::RegisterModelVersion(const ModelVersionRecord& model) {
  std::string doing = "registering a version of model " + model.name;
  if (Status status = CheckNameAndTags(connection_->path(), kModels, doing, model.name, model.tags);
      !status.ok()) {
    return status;
  }
  ModelVersionRecord stored = model;
  if (stored.created_at == 0) stored.created_at = NowMillis();
  std::string properties_json = Dump(nlohmann::json(model.properties));

  std::lock_guard lock(mutex_);
  Transaction transaction(connection_.get());
  if (Status status = transaction.Begin(doing); !status.ok()) return status;
  StatusOr<int64_t> version = AssignVersion(*connection_, kModels, stored.name, doing);
  if (!version.ok()) return version.status();
  stored.version = *version;
  Status status = Execute(*connection_, kInsertModel, doing,
                          [&](Statement& s) { BindModel(s, stored, properties_json); });
  if (!status.ok()) return status;
  status = PutTags(*connection_, kModels, stored.name, stored.version, stored.tags, doing);
  if (!status.ok()) return status;
  status = transaction.Commit(doing);
  if (!status.ok()) return status;
  return stored;
}

StatusOr<std::optional<ModelVersionRecord>> SqliteStore::GetModelVersion(const std::string& name,
                                                                         int64_t version) {
  std::lock_guard lock(mutex_);
  return QueryFirst<ModelVersionRecord>(
      *connection_, SelectModels("WHERE v.name = ?1 AND v.version = ?2"),
      "reading model " + Label(name, version),
      [&](Statement& s) { s.Bind(1, name).Bind(2, version); }, ReadModel<Statement>);
}

StatusOr<std::optional<ModelVersionRecord>> SqliteStore::LatestModelVersion(
    const std::string& name) {
  std::lock_guard lock(mutex_);
  return QueryFirst<ModelVersionRecord>(
      *connection_, SelectModels("WHERE v.name = ?1 ORDER BY v.version DESC LIMIT 1"),
      "reading the latest version of model " + name, [&](Statement& s) { s.Bind(1, name); },
      ReadModel<Statement>);
}

StatusOr<std::vector<ModelVersionRecord>> SqliteStore::ListModelVersions(const ModelQuery& query) {
  // One statement shape per combination of filters and tag count, each cached.
  // Unused parameters are not bound: a number past the statement's last
  // parameter would be an SQLITE_RANGE error.
  std::string where = "WHERE 1";
  if (!query.name.empty()) where += " AND v.name = ?1";
  if (!query.framework.empty()) where += " AND v.framework = ?2";
  where += TagFilter(kModels, query.tags, 3) + " ORDER BY v.name, v.version DESC";
  std::lock_guard lock(mutex_);
  return Query<ModelVersionRecord>(
      *connection_, SelectModels(where), "listing model versions",
      [&](Statement& s) {
        if (!query.name.empty()) s.Bind(1, query.name);
        if (!query.framework.empty()) s.Bind(2, query.framework);
        BindTagFilter(s, query.tags, 3);
      },
      ReadModel<Statement>);
}

StatusOr<std::optional<ModelVersionRecord>> SqliteStore::FindModelVersionBySource(
    const std::string& name, const std::string& source_key) {
  // A CLI registration has no source; "" names none, not all of those.
  if (source_key.empty()) return std::optional<ModelVersionRecord>();
  std::lock_guard lock(mutex_);
  return QueryFirst<ModelVersionRecord>(
      *connection_,
      SelectModels("WHERE v.name = ?1 AND v.source_key = ?2 ORDER BY v.version DESC LIMIT 1"),
      "looking up the version of model " + name + " registered from " + source_key,
      [&](Statement& s) { s.Bind(1, name).Bind(2, source_key); }, ReadModel<Statement>);
}

Status SqliteStore::UpdateModelTags(const std::string& name, int64_t version,
                                    const std::map<std::string, std::string>& set,
                                    const std::vector<std::string>& remove) {
  std::lock_guard lock(mutex_);
  return UpdateTags(*connection_, kModels, name, version, set, remove);
}

Status SqliteStore::DeleteModelVersion(const std::string& name, int64_t version) {
  std::string doing = "deleting model " + Label(name, version);
  std::lock_guard lock(mutex_);
  // The check and the delete in one write transaction: no image that packages
  // the version can be recorded in between.
  Transaction transaction(connection_.get());
  if (Status status = transaction.Begin(doing); !status.ok()) return status;
  StatusOr<bool> exists = VersionExists(*connection_, kModels, name, version, doing);
  if (!exists.ok()) return exists.status();
  if (!*exists) return NoSuchVersion(kModels, name, version);
  StatusOr<std::vector<std::string>> images = ImagesUsing(*connection_, name, version, doing);
  if (!images.ok()) return images.status();
  if (!images->empty()) return InUse(name, version, *images);
  Status status = Execute(*connection_, "DELETE FROM model_versions WHERE name = ?1 AND version = ?2",
                          doing, [&](Statement& s) { s.Bind(1, name).Bind(2, version); });
  if (!status.ok()) return status;
  return transaction.Commit(doing);
}

// --- Images ------------------------------------------------------------------

StatusOr<ImageRecord> SqliteStore::RecordImage(const ImageRecord& image) {
  std::string doing = "recording a version of image " + image.name;
  if (Status status = CheckImage(connection_->path(), doing, image); !status.ok()) return status;
  ImageRecord stored = image;
  if (stored.created_at == 0) stored.created_at = NowMillis();

  std::lock_guard lock(mutex_);
  Transaction transaction(connection_.get());
  if (Status status = transaction.Begin(doing); !status.ok()) return status;
  StatusOr<int64_t> version = AssignVersion(*connection_, kImages, stored.name, doing);
  if (!version.ok()) return version.status();
  stored.version = *version;
  Status status =
      Execute(*connection_, kInsertImage, doing, [&](Statement& s) { BindImage(s, stored); });
  if (!status.ok()) return status;
  status = PutTags(*connection_, kImages, stored.name, stored.version, stored.tags, doing);
  if (!status.ok()) return status;
  status = InsertImageModels(*connection_, stored, doing);
  if (!status.ok()) return status;
  status = transaction.Commit(doing);
  if (!status.ok()) return status;
  return stored;
}

StatusOr<std::optional<ImageRecord>> SqliteStore::GetImage(const std::string& name,
                                                           int64_t version) {
  std::lock_guard lock(mutex_);
  return QueryFirst<ImageRecord>(
      *connection_, SelectImages("WHERE v.name = ?1 AND v.version = ?2"),
      "reading image " + Label(name, version),
      [&](Statement& s) { s.Bind(1, name).Bind(2, version); }, ReadImage<Statement>);
}

StatusOr<std::optional<ImageRecord>> SqliteStore::LatestImage(const std::string& name) {
  std::lock_guard lock(mutex_);
  return QueryFirst<ImageRecord>(
      *connection_, SelectImages("WHERE v.name = ?1 ORDER BY v.version DESC LIMIT 1"),
      "reading the latest version of image " + name, [&](Statement& s) { s.Bind(1, name); },
      ReadImage<Statement>);
}

StatusOr<std::vector<ImageRecord>> SqliteStore::ListImages(
    const std::string& name, const std::map<std::string, std::string>& tags) {
  // As ListModelVersions: a shape per filter combination, unused numbers unbound.
  std::string where = "WHERE 1";
  if (!name.empty()) where += " AND v.name = ?1";
  where += TagFilter(kImages, tags, 2) + " ORDER BY v.name, v.version DESC";
  std::lock_guard lock(mutex_);
  return Query<ImageRecord>(
      *connection_, SelectImages(where), "listing images",
      [&](Statement& s) {
        if (!name.empty()) s.Bind(1, name);
        BindTagFilter(s, tags, 2);
      },
      ReadImage<Statement>);
}

StatusOr<std::optional<ImageRecord>> SqliteStore::FindImageByBuildKey(
    const std::string& name, const std::string& build_key) {
  // An image recorded without a build key matches nothing, as with source keys.
  if (build_key.empty()) return std::optional<ImageRecord>();
  std::lock_guard lock(mutex_);
  return QueryFirst<ImageRecord>(
      *connection_,
      SelectImages("WHERE v.name = ?1 AND v.build_key = ?2 ORDER BY v.version DESC LIMIT 1"),
      "looking up the version of image " + name + " built from " + build_key,
      [&](Statement& s) { s.Bind(1, name).Bind(2, build_key); }, ReadImage<Statement>);
}

Status SqliteStore::UpdateImageTags(const std::string& name, int64_t version,
                                    const std::map<std::string, std::string>& set,
                                    const std::vector<std::string>& remove) {
  std::lock_guard lock(mutex_);
  return UpdateTags(*connection_, kImages, name, version, set, remove);
}

Status SqliteStore::RecordImagePush(const std::string& name, int64_t version,
                                    const std::string& to, const std::string& digest) {
  std::string doing = "recording a push of image " + Label(name, version) + " to " + to;
  std::lock_guard lock(mutex_);
  // Read, append and write in one write transaction, so two pushes recorded
  // at once both stay. ordered_json keeps the entries' keys in the documented
  // order: to, digest, at.
  Transaction transaction(connection_.get());
  if (Status status = transaction.Begin(doing); !status.ok()) return status;
  StatusOr<std::optional<std::string>> pushed = QueryFirst<std::string>(
      *connection_, "SELECT pushed_json FROM images WHERE name = ?1 AND version = ?2", doing,
      [&](Statement& s) { s.Bind(1, name).Bind(2, version); },
      [](const Statement& row) { return row.Text(0); });
  if (!pushed.ok()) return pushed.status();
  if (!pushed->has_value()) return NoSuchVersion(kImages, name, version);
  nlohmann::ordered_json entries =
      nlohmann::ordered_json::parse(**pushed, nullptr, /*allow_exceptions=*/false);
  if (!entries.is_array()) {  // the table's CHECK admits only arrays
    return Status(StatusCode::kInternal, "state store " + connection_->path() + ": " + doing +
                                             ": the stored pushed_json is not a JSON array");
  }
  nlohmann::ordered_json entry = {{"to", to}, {"digest", digest}, {"at", NowMillis()}};
  entries.push_back(std::move(entry));
  std::string updated = Dump(entries);
  Status status = Execute(*connection_,
                          "UPDATE images SET pushed_json = ?3 WHERE name = ?1 AND version = ?2",
                          doing, [&](Statement& s) {
                            s.Bind(1, name).Bind(2, version).Bind(3, updated);
                          });
  if (!status.ok()) return status;
  return transaction.Commit(doing);
}

Status SqliteStore::DeleteImage(const std::string& name, int64_t version) {
  std::lock_guard lock(mutex_);
  // One statement, so atomic by itself: its tags and image_models rows go
  // with it (ON DELETE CASCADE), which frees the models it packaged.
  Status status = Execute(*connection_, "DELETE FROM images WHERE name = ?1 AND version = ?2",
                          "deleting image " + Label(name, version),
                          [&](Statement& s) { s.Bind(1, name).Bind(2, version); });
  if (!status.ok()) return status;
  // Changes() counts the image rows only, not the cascaded ones nor the
  // state serial trigger's.
  if (connection_->Changes() == 0) return NoSuchVersion(kImages, name, version);
  return Status::Ok();
}

}  // namespace amlc::runtime
