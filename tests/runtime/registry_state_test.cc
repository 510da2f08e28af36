// The model and image registries of the state store, through the StateStore
// interface, on real files and PostgreSQL databases (state_backends.h).
#include <sqlite3.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "runtime/state/sqlite_connection.h"
#include "runtime/state/sqlite_schema.h"
#include "runtime/state/state_store.h"
#include "tests/runtime/state_backends.h"
#include "tests/test_support.h"

using namespace amlc::runtime;
using amlc::Status;
using amlc::StatusCode;
using amlc::testing::SpecDir;

namespace {

// A SQLite file or a PostgreSQL URL (state_backends.h).
std::unique_ptr<StateStore> Open(const std::string& location) {
  auto store = OpenStateStore(location);
  INFO(store.status().message());
  REQUIRE(store.ok());
  return std::move(*store);
}

void Ok(const Status& status) {
  INFO(status.message());
  REQUIRE(status.ok());
}

ModelVersionRecord Model(const std::string& name, std::map<std::string, std::string> tags = {}) {
  ModelVersionRecord model;
  model.name = name;
  model.framework = "ScikitLearn";
  model.content_digest = "sha256:" + name;
  model.path_name = "model.pkl";
  model.single_file = true;
  model.tags = std::move(tags);
  return model;
}

int64_t Register(StateStore& store, const ModelVersionRecord& model) {
  auto stored = store.RegisterModelVersion(model);
  INFO(stored.status().message());
  REQUIRE(stored.ok());
  return stored->version;
}

ImageRecord Image(const std::string& name, std::vector<std::pair<std::string, int64_t>> models) {
  ImageRecord image;
  image.name = name;
  image.digest = "sha256:" + std::string(64, 'a');
  image.build_key = "sha256:build-" + name;
  image.models = std::move(models);
  return image;
}

int64_t Record(StateStore& store, const ImageRecord& image) {
  auto stored = store.RecordImage(image);
  INFO(stored.status().message());
  REQUIRE(stored.ok());
  return stored->version;
}

// "iris:2" for each version, in the order given.
std::vector<std::string> Labels(const std::vector<ModelVersionRecord>& models) {
  std::vector<std::string> labels;
  for (const ModelVersionRecord& model : models) {
    labels.push_back(model.name + ":" + std::to_string(model.version));
  }
  return labels;
}

std::vector<std::string> Labels(const std::vector<ImageRecord>& images) {
  std::vector<std::string> labels;
  for (const ImageRecord& image : images) {
    labels.push_back(image.name + ":" + std::to_string(image.version));
  }
  return labels;
}

int64_t Serial(StateStore& store) {
  auto serial = store.StateSerial();
  REQUIRE(serial.ok());
  return *serial;
}

// Runs `sql` on the file with a connection of its own, as another program
// would; gives the first column of the first row.
// A PostgreSQL location is queried over a connection of its own likewise.
std::string RawQuery(const std::string& path, const std::string& sql) {
  if (IsPostgresUrl(path)) return amlc::testing::PostgresQuery(path, sql);
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  std::string result;
  char* error = nullptr;
  int rc = sqlite3_exec(
      db, sql.c_str(),
      [](void* out, int columns, char** values, char**) {
        if (columns > 0 && values[0] != nullptr) *static_cast<std::string*>(out) = values[0];
        return 0;
      },
      &result, &error);
  std::string message = error ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  INFO(message);
  REQUIRE(rc == SQLITE_OK);
  return result;
}

// Every table, index, trigger and view of the file with its SQL, by name.
std::string SchemaOf(const std::string& path) {
  return RawQuery(path,
                  "SELECT group_concat(type || ' ' || name || ': ' || coalesce(sql, ''), char(10)) "
                  "FROM (SELECT type, name, sql FROM sqlite_master ORDER BY name)");
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("model versions count up from 1 per name", "[state][postgresql]") {
  SpecDir dir;
  auto store = Open(AMLC_EACH_STORE_LOCATION(dir));
  CHECK(Register(*store, Model("iris")) == 1);
  CHECK(Register(*store, Model("iris")) == 2);
  CHECK(Register(*store, Model("wine")) == 1);
  ModelVersionRecord asked = Model("iris");
  asked.version = 42;  // the store assigns; what the caller says is ignored
  auto third = store->RegisterModelVersion(asked);
  REQUIRE(third.ok());
  CHECK(third->version == 3);
  CHECK(third->created_at > 0);  // filled in when 0

  auto latest = store->LatestModelVersion("iris");
  REQUIRE(latest.ok());
  REQUIRE(latest->has_value());
  CHECK((*latest)->version == 3);
  CHECK((*latest)->created_at == third->created_at);
  CHECK_FALSE(store->LatestModelVersion("mnist")->has_value());
  CHECK((*store->GetModelVersion("iris", 2))->version == 2);
  CHECK_FALSE(store->GetModelVersion("iris", 4)->has_value());
}

TEST_CASE("a deleted model version's number is never given out again, also after reopening",
          "[state][postgresql]") {
  SpecDir dir;
  std::string path = AMLC_EACH_STORE_LOCATION(dir);
  {
    auto store = Open(path);
    for (int i = 0; i < 3; ++i) Register(*store, Model("iris"));
    Ok(store->DeleteModelVersion("iris", 3));
    CHECK((*store->LatestModelVersion("iris"))->version == 2);
    CHECK(Register(*store, Model("iris")) == 4);
    Ok(store->DeleteModelVersion("iris", 4));
  }
  auto store = Open(path);
  CHECK((*store->LatestModelVersion("iris"))->version == 2);
  CHECK(Register(*store, Model("iris")) == 5);

  // Not even when every version of the name is gone.
  for (int64_t version : {1, 2, 5}) Ok(store->DeleteModelVersion("iris", version));
  CHECK(store->ListModelVersions({})->empty());
  CHECK(Register(*store, Model("iris")) == 6);
}

TEST_CASE("model versions registered at once from threads and from two stores are distinct",
          "[state][postgresql]") {
  SpecDir dir;
  std::string path = AMLC_EACH_STORE_LOCATION(dir);
  auto shared = Open(path);
  auto other = Open(path);  // another "process" on the same file
  constexpr int kThreads = 4;
  constexpr int kEach = 25;
  std::mutex mutex;
  std::vector<int64_t> versions;
  std::atomic<int> failures = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      StateStore& store = t % 2 == 0 ? *shared : *other;
      for (int i = 0; i < kEach; ++i) {
        auto stored = store.RegisterModelVersion(Model("iris"));
        if (!stored.ok()) {
          ++failures;
          continue;
        }
        std::lock_guard lock(mutex);
        versions.push_back(stored->version);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(failures == 0);
  std::set<int64_t> distinct(versions.begin(), versions.end());
  CHECK(distinct.size() == versions.size());
  REQUIRE(versions.size() == kThreads * kEach);
  CHECK(*distinct.begin() == 1);
  CHECK(*distinct.rbegin() == kThreads * kEach);
  CHECK(other->ListModelVersions({})->size() == kThreads * kEach);
}

TEST_CASE("a model version round-trips every field, lineage included", "[state][postgresql]") {
  SpecDir dir;
  auto store = Open(AMLC_EACH_STORE_LOCATION(dir));
  ModelVersionRecord model;
  model.name = "iris";
  model.type = "mlflow_model";
  model.framework = "ScikitLearn";
  model.description = "logistic regression on iris";
  model.stage = "Production";
  model.tags = {{"team", "vision"}, {"empty", ""}};
  model.properties = {{"accuracy", "0.97"}, {"quote", "say \"hi\""}};
  model.content_digest = "sha256:tree";
  model.path_name = "model";
  model.single_file = false;
  model.size_bytes = 5'000'000'000ULL;  // past 32 bits
  model.source_key = "train-20240101-000000-abcd";
  model.resource_id = "model/iris";
  model.run_id = "train-20240101-000000-abcd";
  model.job_id = "job/train";
  model.experiment = "iris";
  model.spec_commit = "0123abcd";
  model.created_at = 1234;
  auto stored = store->RegisterModelVersion(model);
  REQUIRE(stored.ok());

  auto got = store->GetModelVersion("iris", stored->version);
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  const ModelVersionRecord& back = **got;
  CHECK(back.name == "iris");
  CHECK(back.version == 1);
  CHECK(back.type == "mlflow_model");
  CHECK(back.framework == "ScikitLearn");
  CHECK(back.description == "logistic regression on iris");
  CHECK(back.stage == "Production");
  CHECK(back.tags == model.tags);
  CHECK(back.properties == model.properties);
  CHECK(back.content_digest == "sha256:tree");
  CHECK(back.path_name == "model");
  CHECK_FALSE(back.single_file);
  CHECK(back.size_bytes == 5'000'000'000ULL);
  CHECK(back.source_key == "train-20240101-000000-abcd");
  CHECK(back.resource_id == "model/iris");
  CHECK(back.run_id == "train-20240101-000000-abcd");
  CHECK(back.job_id == "job/train");
  CHECK(back.experiment == "iris");
  CHECK(back.spec_commit == "0123abcd");
  CHECK(back.created_at == 1234);
  CHECK(stored->tags == back.tags);  // what Register returns is what is stored

  ModelVersionRecord one_file = Model("wine");
  auto wine = store->RegisterModelVersion(one_file);
  REQUIRE(wine.ok());
  CHECK((*store->GetModelVersion("wine", 1))->single_file);
  CHECK((*store->GetModelVersion("wine", 1))->type == "custom_model");
}

TEST_CASE("ListModelVersions filters by name, framework and every tag, newest first", "[state][postgresql]") {
  SpecDir dir;
  auto store = Open(AMLC_EACH_STORE_LOCATION(dir));
  Register(*store, Model("iris", {{"stage", "dev"}}));                       // iris:1
  Register(*store, Model("iris", {{"stage", "prod"}, {"team", "vision"}}));  // iris:2
  ModelVersionRecord torch = Model("iris", {{"stage", "prod"}});
  torch.framework = "PyTorch";
  Register(*store, torch);                                                   // iris:3
  Register(*store, Model("wine", {{"team", "vision"}}));                     // wine:1
  Register(*store, Model("boston"));                                         // boston:1

  using Labels_ = std::vector<std::string>;
  CHECK(Labels(*store->ListModelVersions({})) ==
        Labels_{"boston:1", "iris:3", "iris:2", "iris:1", "wine:1"});

  ModelQuery by_name;
  by_name.name = "iris";
  CHECK(Labels(*store->ListModelVersions(by_name)) == Labels_{"iris:3", "iris:2", "iris:1"});

  ModelQuery by_framework;
  by_framework.framework = "PyTorch";
  CHECK(Labels(*store->ListModelVersions(by_framework)) == Labels_{"iris:3"});

  ModelQuery by_value;
  by_value.tags = {{"stage", "prod"}};
  CHECK(Labels(*store->ListModelVersions(by_value)) == Labels_{"iris:3", "iris:2"});

  ModelQuery has_key;
  has_key.tags = {{"team", ""}};  // "" = has the key, whatever its value
  CHECK(Labels(*store->ListModelVersions(has_key)) == Labels_{"iris:2", "wine:1"});

  ModelQuery every_tag;
  every_tag.tags = {{"stage", "prod"}, {"team", ""}};
  CHECK(Labels(*store->ListModelVersions(every_tag)) == Labels_{"iris:2"});

  ModelQuery all_filters;
  all_filters.name = "iris";
  all_filters.framework = "ScikitLearn";
  all_filters.tags = {{"stage", "prod"}};
  auto both = store->ListModelVersions(all_filters);
  REQUIRE(both.ok());
  REQUIRE(Labels(*both) == Labels_{"iris:2"});
  CHECK((*both)[0].tags == std::map<std::string, std::string>{{"stage", "prod"}, {"team", "vision"}});

  ModelQuery nothing;
  nothing.tags = {{"stage", "staging"}};
  CHECK(store->ListModelVersions(nothing)->empty());
}

TEST_CASE("model tags are set and removed in one update; an unknown version is kNotFound",
          "[state][postgresql]") {
  SpecDir dir;
  auto store = Open(AMLC_EACH_STORE_LOCATION(dir));
  Register(*store, Model("iris", {{"stage", "dev"}, {"owner", "ana"}}));
  Ok(store->UpdateModelTags("iris", 1, {{"stage", "prod"}, {"reviewed", "yes"}}, {"owner", "absent"}));
  CHECK((*store->GetModelVersion("iris", 1))->tags ==
        std::map<std::string, std::string>{{"reviewed", "yes"}, {"stage", "prod"}});

  ModelQuery reviewed;
  reviewed.tags = {{"reviewed", "yes"}};
  CHECK(store->ListModelVersions(reviewed)->size() == 1);

  Status missing = store->UpdateModelTags("iris", 7, {{"a", "b"}}, {});
  CHECK(missing.code() == StatusCode::kNotFound);
  CHECK(missing.message() == "no model iris:7");

  Status both = store->UpdateModelTags("iris", 1, {{"stage", "x"}}, {"stage"});
  CHECK(both.code() == StatusCode::kInvalidArgument);
  CHECK(Contains(both.message(), "tag 'stage' is both set and removed"));
  CHECK((*store->GetModelVersion("iris", 1))->tags.at("stage") == "prod");  // left as it was
}

TEST_CASE("a model version packaged by an image is deleted only after the image", "[state][postgresql]") {
  SpecDir dir;
  auto store = Open(AMLC_EACH_STORE_LOCATION(dir));
  Register(*store, Model("iris"));
  Register(*store, Model("iris"));
  Register(*store, Model("wine"));
  Record(*store, Image("iris-image", {{"iris", 2}, {"wine", 1}}));  // iris-image:1
  Record(*store, Image("iris-image", {{"iris", 1}}));               // iris-image:2
  Record(*store, Image("iris-image", {{"iris", 2}}));               // iris-image:3

  Status refused = store->DeleteModelVersion("iris", 2);
  CHECK(refused.code() == StatusCode::kFailedPrecondition);
  CHECK(refused.message() ==
        "model iris:2 is used by image iris-image:1, iris-image:3; delete those images first");
  Status one = store->DeleteModelVersion("wine", 1);
  CHECK(one.message() == "model wine:1 is used by image iris-image:1; delete that image first");
  CHECK(store->GetModelVersion("iris", 2)->has_value());  // still there

  Ok(store->DeleteImage("iris-image", 1));
  CHECK(store->DeleteModelVersion("iris", 2).message() ==
        "model iris:2 is used by image iris-image:3; delete that image first");
  Ok(store->DeleteImage("iris-image", 3));
  Ok(store->DeleteModelVersion("iris", 2));
  Ok(store->DeleteModelVersion("wine", 1));
  CHECK_FALSE(store->GetModelVersion("iris", 2)->has_value());
  CHECK(store->DeleteModelVersion("iris", 1).code() == StatusCode::kFailedPrecondition);

  Status absent = store->DeleteModelVersion("iris", 7);
  CHECK(absent.code() == StatusCode::kNotFound);
  CHECK(absent.message() == "no model iris:7");
  Status no_image = store->DeleteImage("iris-image", 1);
  CHECK(no_image.code() == StatusCode::kNotFound);
  CHECK(no_image.message() == "no image iris-image:1");
}

TEST_CASE("DeleteImage removes its tags and model rows with it", "[state][postgresql]") {
  SpecDir dir;
  std::string path = AMLC_EACH_STORE_LOCATION(dir);
  {
    auto store = Open(path);
    Register(*store, Model("iris"));
    ImageRecord image = Image("iris-image", {{"iris", 1}});
    image.tags = {{"stage", "prod"}};
    Record(*store, image);
    Record(*store, image);
    Ok(store->DeleteImage("iris-image", 1));
    CHECK(Labels(*store->ListImages("", {})) == std::vector<std::string>{"iris-image:2"});
  }
  CHECK(RawQuery(path, "SELECT count(*) FROM image_tags") == "1");
  CHECK(RawQuery(path, "SELECT count(*) FROM image_models") == "1");
  CHECK(RawQuery(path, "SELECT image_version FROM image_models") == "2");
}

TEST_CASE("FindModelVersionBySource gives the newest version registered from the source",
          "[state][postgresql]") {
  SpecDir dir;
  auto store = Open(AMLC_EACH_STORE_LOCATION(dir));
  ModelVersionRecord from_run = Model("iris");
  from_run.source_key = "run-a";
  Register(*store, from_run);           // iris:1
  Register(*store, Model("iris"));      // iris:2, from the CLI: no source
  from_run.source_key = "run-b";
  Register(*store, from_run);           // iris:3
  ModelVersionRecord wine = Model("wine");
  wine.source_key = "run-a";
  Register(*store, wine);               // wine:1

  auto found = store->FindModelVersionBySource("iris", "run-a");
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->version == 1);
  CHECK((*store->FindModelVersionBySource("iris", "run-b"))->version == 3);
  CHECK((*store->FindModelVersionBySource("wine", "run-a"))->version == 1);
  CHECK_FALSE(store->FindModelVersionBySource("iris", "run-c")->has_value());
  CHECK_FALSE(store->FindModelVersionBySource("iris", "")->has_value());  // "" is no source
}

TEST_CASE("images count versions like models and round-trip every field", "[state][postgresql]") {
  SpecDir dir;
  std::string path = AMLC_EACH_STORE_LOCATION(dir);
  ImageRecord image;
  image.name = "iris-image";
  image.kind = "docker";
  image.digest = "sha256:" + std::string(64, 'b');
  image.build_key = "sha256:key";
  image.layout = "/ws/images/iris-image";
  image.ref_name = "iris-image:1";
  image.base_image = "python:3.11-slim";
  image.environment = "environment/sklearn@3";
  image.tags = {{"stage", "prod"}};
  image.models = {{"wine", 4}, {"iris", 2}, {"boston", 1}};  // kept in this order
  image.size_bytes = 3'000'000'000ULL;
  image.resource_id = "image/iris-image";
  image.created_at = 777;
  {
    auto store = Open(path);
    auto stored = store->RecordImage(image);
    REQUIRE(stored.ok());
    CHECK(stored->version == 1);
    CHECK(stored->pushed_json == "[]");
    CHECK(Record(*store, Image("iris-image", {})) == 2);
    CHECK(Record(*store, Image("other", {})) == 1);
    Ok(store->DeleteImage("iris-image", 2));
  }
  auto store = Open(path);
  CHECK(Record(*store, Image("iris-image", {})) == 3);  // 2 is not given out again

  auto got = store->GetImage("iris-image", 1);
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  const ImageRecord& back = **got;
  CHECK(back.name == "iris-image");
  CHECK(back.version == 1);
  CHECK(back.kind == "docker");
  CHECK(back.digest == image.digest);
  CHECK(back.build_key == "sha256:key");
  CHECK(back.layout == "/ws/images/iris-image");
  CHECK(back.ref_name == "iris-image:1");
  CHECK(back.base_image == "python:3.11-slim");
  CHECK(back.environment == "environment/sklearn@3");
  CHECK(back.tags == image.tags);
  CHECK(back.models == image.models);
  CHECK(back.size_bytes == 3'000'000'000ULL);
  CHECK(back.resource_id == "image/iris-image");
  CHECK(back.pushed_json == "[]");
  CHECK(back.created_at == 777);

  auto latest = store->LatestImage("iris-image");
  REQUIRE(latest.ok());
  REQUIRE(latest->has_value());
  CHECK((*latest)->version == 3);
  CHECK((*latest)->models.empty());
  CHECK((*latest)->created_at > 0);
  CHECK_FALSE(store->LatestImage("nothing")->has_value());
  CHECK_FALSE(store->GetImage("iris-image", 2)->has_value());
}

TEST_CASE("RecordImage refuses what no reader could use", "[state][postgresql]") {
  SpecDir dir;
  auto store = Open(AMLC_EACH_STORE_LOCATION(dir));
  ImageRecord nameless = Image("", {});
  CHECK(store->RecordImage(nameless).status().code() == StatusCode::kInvalidArgument);
  ImageRecord bad_pushes = Image("iris-image", {});
  bad_pushes.pushed_json = "{\"to\": 1}";
  auto refused = store->RecordImage(bad_pushes);
  CHECK(refused.status().code() == StatusCode::kInvalidArgument);
  CHECK(Contains(refused.status().message(), "pushed_json must be a JSON array"));
  auto twice = store->RecordImage(Image("iris-image", {{"iris", 1}, {"iris", 1}}));
  CHECK(twice.status().code() == StatusCode::kInvalidArgument);
  CHECK(Contains(twice.status().message(), "model iris:1 is listed twice"));
  CHECK(store->RegisterModelVersion(Model("")).status().code() == StatusCode::kInvalidArgument);
  CHECK(store->RegisterModelVersion(Model("iris", {{"", "x"}})).status().code() ==
        StatusCode::kInvalidArgument);
  // Nothing was stored, and no version number was spent.
  CHECK(store->ListImages("", {})->empty());
  CHECK(Record(*store, Image("iris-image", {})) == 1);
}

TEST_CASE("FindImageByBuildKey gives the newest image built from the same inputs", "[state][postgresql]") {
  SpecDir dir;
  auto store = Open(AMLC_EACH_STORE_LOCATION(dir));
  ImageRecord image = Image("iris-image", {});
  image.build_key = "sha256:k1";
  Record(*store, image);  // 1
  image.build_key = "sha256:k2";
  Record(*store, image);  // 2
  image.build_key = "sha256:k1";
  Record(*store, image);  // 3: the same inputs again
  image.build_key = "";
  Record(*store, image);  // 4: no key

  auto found = store->FindImageByBuildKey("iris-image", "sha256:k1");
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->version == 3);
  CHECK((*store->FindImageByBuildKey("iris-image", "sha256:k2"))->version == 2);
  CHECK_FALSE(store->FindImageByBuildKey("iris-image", "sha256:k3")->has_value());
  CHECK_FALSE(store->FindImageByBuildKey("other-image", "sha256:k1")->has_value());
  CHECK_FALSE(store->FindImageByBuildKey("iris-image", "")->has_value());
}

TEST_CASE("RecordImagePush appends where and when an image was pushed", "[state][postgresql]") {
  SpecDir dir;
  auto store = Open(AMLC_EACH_STORE_LOCATION(dir));
  Record(*store, Image("iris-image", {}));
  Ok(store->RecordImagePush("iris-image", 1, "127.0.0.1:5000/iris-image:1", "sha256:d1"));
  Ok(store->RecordImagePush("iris-image", 1, "127.0.0.1:5001/iris:latest", "sha256:d2"));

  auto got = store->GetImage("iris-image", 1);
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  INFO((*got)->pushed_json);
  CHECK(Contains((*got)->pushed_json, "{\"to\":\"127.0.0.1:5000/iris-image:1\",\"digest\":"));
  nlohmann::json pushed = nlohmann::json::parse((*got)->pushed_json);
  REQUIRE(pushed.is_array());
  REQUIRE(pushed.size() == 2);
  CHECK(pushed[0]["to"] == "127.0.0.1:5000/iris-image:1");
  CHECK(pushed[0]["digest"] == "sha256:d1");
  CHECK(pushed[0]["at"].get<int64_t>() > 0);
  CHECK(pushed[1]["to"] == "127.0.0.1:5001/iris:latest");
  CHECK(pushed[1]["digest"] == "sha256:d2");
  CHECK(pushed[1]["at"].get<int64_t>() >= pushed[0]["at"].get<int64_t>());

  Status missing = store->RecordImagePush("iris-image", 9, "r/x:1", "sha256:d");
  CHECK(missing.code() == StatusCode::kNotFound);
  CHECK(missing.message() == "no image iris-image:9");
}

TEST_CASE("ListImages filters by name and tags; image tags update like model tags", "[state][postgresql]") {
  SpecDir dir;
  auto store = Open(AMLC_EACH_STORE_LOCATION(dir));
  ImageRecord image = Image("iris-image", {});
  image.tags = {{"stage", "dev"}};
  Record(*store, image);  // iris-image:1
  image.tags = {{"stage", "prod"}, {"gpu", "no"}};
  Record(*store, image);  // iris-image:2
  Record(*store, Image("wine-image", {}));

  using Labels_ = std::vector<std::string>;
  CHECK(Labels(*store->ListImages("", {})) == Labels_{"iris-image:2", "iris-image:1", "wine-image:1"});
  CHECK(Labels(*store->ListImages("iris-image", {})) == Labels_{"iris-image:2", "iris-image:1"});
  CHECK(Labels(*store->ListImages("", {{"stage", "prod"}})) == Labels_{"iris-image:2"});
  CHECK(Labels(*store->ListImages("", {{"gpu", ""}})) == Labels_{"iris-image:2"});
  CHECK(store->ListImages("wine-image", {{"stage", ""}})->empty());

  Ok(store->UpdateImageTags("iris-image", 1, {{"stage", "prod"}, {"gpu", "yes"}}, {}));
  Ok(store->UpdateImageTags("iris-image", 2, {}, {"gpu"}));
  CHECK(Labels(*store->ListImages("iris-image", {{"stage", "prod"}, {"gpu", ""}})) ==
        Labels_{"iris-image:1"});
  CHECK((*store->GetImage("iris-image", 2))->tags ==
        std::map<std::string, std::string>{{"stage", "prod"}});
  Status missing = store->UpdateImageTags("iris-image", 5, {{"a", "b"}}, {});
  CHECK(missing.code() == StatusCode::kNotFound);
  CHECK(missing.message() == "no image iris-image:5");
}

TEST_CASE("registering, pushing and deleting move StateSerial; tag edits and reads do not",
          "[state][postgresql]") {
  SpecDir dir;
  auto store = Open(AMLC_EACH_STORE_LOCATION(dir));
  int64_t serial = Serial(*store);
  auto moved = [&] {
    int64_t now = Serial(*store);
    bool changed = now != serial;
    serial = now;
    return changed;
  };

  Register(*store, Model("iris"));
  CHECK(moved());
  Record(*store, Image("iris-image", {{"iris", 1}}));
  CHECK(moved());
  Ok(store->RecordImagePush("iris-image", 1, "r/iris-image:1", "sha256:d"));
  CHECK(moved());

  Ok(store->UpdateModelTags("iris", 1, {{"stage", "prod"}}, {}));
  Ok(store->UpdateImageTags("iris-image", 1, {{"stage", "prod"}}, {}));
  REQUIRE(store->ListModelVersions({}).ok());
  REQUIRE(store->ListImages("", {}).ok());
  REQUIRE(store->LatestModelVersion("iris").ok());
  REQUIRE(store->FindImageByBuildKey("iris-image", "k").ok());
  CHECK(store->DeleteModelVersion("iris", 1).code() == StatusCode::kFailedPrecondition);
  CHECK_FALSE(moved());

  Ok(store->DeleteImage("iris-image", 1));
  CHECK(moved());
  Ok(store->DeleteModelVersion("iris", 1));
  CHECK(moved());
}

TEST_CASE("a store of schema version 1 migrates to the registries and keeps its data",
          "[state]") {
  SpecDir dir;
  std::string path = dir.str() + "/old.db";
  {
    // The file as an amlc of schema version 1 left it, with a resource in it.
    auto connection = SqliteConnection::Open(path);
    INFO(connection.status().message());
    REQUIRE(connection.ok());
    Ok(MigrateSqliteSchema(**connection, 1));
  }
  RawQuery(path,
           "INSERT INTO resources (id, kind, name, version, digest, spec_json, outputs_json, "
           "updated_at) VALUES ('model/iris', 'model', 'iris', '', 'sha256:d', '{}', '{}', 5)");
  REQUIRE(RawQuery(path, "SELECT value FROM meta WHERE key = 'schema_version'") == "1");
  REQUIRE(RawQuery(path, "SELECT count(*) FROM sqlite_master WHERE name = 'model_versions'") == "0");
  std::string serial = RawQuery(path, "SELECT serial FROM state_serial");

  auto store = Open(path);
  CHECK(RawQuery(path, "SELECT value FROM meta WHERE key = 'schema_version'") ==
        std::to_string(SqliteSchemaVersion()));
  CHECK(SqliteSchemaVersion() >= 2);
  auto resource = store->GetResource("model/iris");
  REQUIRE(resource.ok());
  REQUIRE(resource->has_value());
  CHECK((*resource)->digest == "sha256:d");
  CHECK(std::to_string(Serial(*store)) == serial);  // migrating is no change of state
  CHECK(Register(*store, Model("iris")) == 1);
  CHECK(Record(*store, Image("iris-image", {{"iris", 1}})) == 1);

  // The migrated file has exactly the schema of a new one.
  std::string fresh = dir.str() + "/new.db";
  { Open(fresh); }
  CHECK(SchemaOf(path) == SchemaOf(fresh));
}
