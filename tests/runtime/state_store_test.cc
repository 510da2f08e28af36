// The state store through the StateStore interface, on real files and, when the suite has a
// PostgreSQL server, on databases of their own (state_backends.h).
#include "runtime/state/state_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <thread>
#include <tuple>

#include "runtime/state/sqlite_connection.h"
#include "runtime/state/postgres_schema.h"
#include "runtime/state/sqlite_schema.h"
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

RunRecord MakeRun(const std::string& id, const std::string& run_key, RunStatus status,
                  int64_t created_at) {
  RunRecord run;
  run.id = id;
  run.experiment = "iris";
  run.job_id = "job/train";
  run.run_key = run_key;
  run.status = status;
  run.created_at = created_at;
  return run;
}

std::vector<std::string> Ids(const std::vector<RunRecord>& runs) {
  std::vector<std::string> ids;
  for (const RunRecord& run : runs) ids.push_back(run.id);
  return ids;
}

MetricPoint Point(const std::string& run_id, const std::string& name, int64_t step, double value,
                  int64_t timestamp = 0) {
  MetricPoint point;
  point.run_id = run_id;
  point.name = name;
  point.step = step;
  point.value = value;
  point.timestamp = timestamp;
  return point;
}

JournalEntry Entry(const std::string& apply_id, const std::string& action,
                   const std::string& resource_id, const std::string& phase) {
  JournalEntry entry;
  entry.apply_id = apply_id;
  entry.action = action;
  entry.resource_id = resource_id;
  entry.phase = phase;
  entry.status = phase == "end" ? "ok" : "";
  return entry;
}

int64_t Serial(StateStore& store) {
  auto serial = store.StateSerial();
  REQUIRE(serial.ok());
  return *serial;
}

// Runs `sql` on the file with a connection of its own, as another program would.
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

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("resources round-trip, update in place and delete", "[state][postgresql]") {
  SpecDir dir;
  auto store = Open(AMLC_EACH_STORE_LOCATION(dir));
  ResourceRecord compute{"compute/local",        "compute", "local", "", "sha256:aa",
                         "{\"type\":\"local\"}", "{}",      1000};
  ResourceRecord job{"job/train",          "job", "train", "1", "sha256:bb", "{}",
                     "{\"model\":\"/m\"}", 2000};
  Ok(store->PutResource(job));
  Ok(store->PutResource(compute));

  auto listed = store->ListResources();
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 2);
  CHECK((*listed)[0].id == "compute/local");  // by id
  CHECK((*listed)[1].outputs_json == "{\"model\":\"/m\"}");
  CHECK((*listed)[1].version == "1");
  CHECK((*listed)[1].updated_at == 2000);

  compute.digest = "sha256:cc";
  compute.outputs_json = "{\"port\":8080}";
  Ok(store->PutResource(compute));
  auto got = store->GetResource("compute/local");
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  CHECK((*got)->digest == "sha256:cc");
  CHECK((*got)->outputs_json == "{\"port\":8080}");
  CHECK((*got)->spec_json == "{\"type\":\"local\"}");
  CHECK(store->ListResources()->size() == 2);

  Ok(store->DeleteResource("compute/local"));
  Ok(store->DeleteResource("compute/never-there"));  // deleting what is gone is done
  auto gone = store->GetResource("compute/local");
  REQUIRE(gone.ok());
  CHECK_FALSE(gone->has_value());
  CHECK(store->ListResources()->size() == 1);
}

TEST_CASE("experiments are created once, by name or by a run", "[state][postgresql]") {
  SpecDir dir;
  auto store = Open(AMLC_EACH_STORE_LOCATION(dir));
  Ok(store->EnsureExperiment("mnist"));
  Ok(store->EnsureExperiment("mnist"));
  Ok(store->InsertRun(MakeRun("r1", "k", RunStatus::kQueued, 1)));  // experiment "iris"
  auto names = store->ListExperiments();
  REQUIRE(names.ok());
  CHECK(*names == std::vector<std::string>{"iris", "mnist"});
  CHECK(store->EnsureExperiment("").code() == StatusCode::kInvalidArgument);
}

TEST_CASE("runs round-trip every field and update in place", "[state][postgresql]") {
  SpecDir dir;
  auto store = Open(AMLC_EACH_STORE_LOCATION(dir));
  RunRecord run = MakeRun("train-20240101-000000-abcd", "sha256:key", RunStatus::kQueued, 100);
  run.compute = "compute/local";
  run.command = "python train.py --C 1.0";
  run.snapshot_digest = "sha256:tree";
  run.params_json = "{\"C\":1.0}";
  run.spec_commit = "0123abcd";
  run.work_dir = "/tmp/w";
  Ok(store->InsertRun(run));

  run.status = RunStatus::kFailed;
  run.pid = 4242;
  run.exit_code = 3;
  run.error = "exit status 3";
  run.outputs_json = "{\"model\":\"runs/x/model\"}";
  run.started_at = 200;
  run.ended_at = 300;
  Ok(store->UpdateRun(run));

  auto got = store->GetRun(run.id);
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  const RunRecord& stored = **got;
  CHECK(stored.experiment == "iris");
  CHECK(stored.job_id == "job/train");
  CHECK(stored.run_key == "sha256:key");
  CHECK(stored.parent_run_id == "");
  CHECK(stored.status == RunStatus::kFailed);
  CHECK(stored.compute == "compute/local");
  CHECK(stored.command == "python train.py --C 1.0");
  CHECK(stored.snapshot_digest == "sha256:tree");
  CHECK(stored.params_json == "{\"C\":1.0}");
  CHECK(stored.outputs_json == "{\"model\":\"runs/x/model\"}");
  CHECK(stored.spec_commit == "0123abcd");
  CHECK(stored.work_dir == "/tmp/w");
  CHECK(stored.pid == 4242);
  CHECK(stored.exit_code == 3);
  CHECK(stored.error == "exit status 3");
  CHECK(stored.created_at == 100);
  CHECK(stored.started_at == 200);
  CHECK(stored.ended_at == 300);

  auto missing = store->GetRun("no-such-run");
  REQUIRE(missing.ok());
  CHECK_FALSE(missing->has_value());
}

TEST_CASE("run writes report what went wrong by status code", "[state][postgresql]") {
  SpecDir dir;
  auto store = Open(AMLC_EACH_STORE_LOCATION(dir));
  RunRecord run = MakeRun("r1", "k", RunStatus::kQueued, 1);
  Ok(store->InsertRun(run));

  Status duplicate = store->InsertRun(run);
  CHECK(duplicate.code() == StatusCode::kAlreadyExists);
  CHECK(Contains(duplicate.message(), "r1"));

  Status unknown = store->UpdateRun(MakeRun("r2", "k", RunStatus::kRunning, 1));
  CHECK(unknown.code() == StatusCode::kNotFound);
  CHECK(Contains(unknown.message(), "updating run r2"));

  RunRecord orphan = MakeRun("child", "k", RunStatus::kQueued, 2);
  orphan.parent_run_id = "no-such-parent";
  CHECK(store->InsertRun(orphan).code() == StatusCode::kFailedPrecondition);
  CHECK(store->SetRunTag("no-such-run", "a", "b").code() == StatusCode::kFailedPrecondition);
}

TEST_CASE("ListRuns filters by experiment, job, status and parent, newest first", "[state][postgresql]") {
  SpecDir dir;
  auto store = Open(AMLC_EACH_STORE_LOCATION(dir));
  RunRecord a = MakeRun("a", "k1", RunStatus::kCompleted, 10);
  RunRecord b = MakeRun("b", "k1", RunStatus::kFailed, 20);
  RunRecord c = MakeRun("c", "k2", RunStatus::kRunning, 30);
  c.experiment = "other";
  c.job_id = "job/eval";
  RunRecord child = MakeRun("a.1", "k3", RunStatus::kCompleted, 40);
  child.parent_run_id = "a";
  for (const RunRecord& run : {a, b, c, child}) Ok(store->InsertRun(run));

  auto all = store->ListRuns({});
  REQUIRE(all.ok());
  CHECK(Ids(*all) == std::vector<std::string>{"a.1", "c", "b", "a"});

  RunQuery by_experiment;
  by_experiment.experiment = "iris";
  CHECK(Ids(*store->ListRuns(by_experiment)) == std::vector<std::string>{"a.1", "b", "a"});

  RunQuery by_job;
  by_job.job_id = "job/eval";
  CHECK(Ids(*store->ListRuns(by_job)) == std::vector<std::string>{"c"});

  RunQuery by_status;
  by_status.status = RunStatus::kCompleted;
  CHECK(Ids(*store->ListRuns(by_status)) == std::vector<std::string>{"a.1", "a"});

  RunQuery children;
  children.parent_run_id = "a";
  auto kids = store->ListRuns(children);
  REQUIRE(kids.ok());
  REQUIRE(Ids(*kids) == std::vector<std::string>{"a.1"});
  CHECK((*kids)[0].parent_run_id == "a");

  RunQuery limited;
  limited.experiment = "iris";
  limited.status = RunStatus::kCompleted;
  limited.limit = 1;
  CHECK(Ids(*store->ListRuns(limited)) == std::vector<std::string>{"a.1"});
}

TEST_CASE("FindCompletedRun gives the newest Completed run of the key, never a Failed one",
          "[state][postgresql]") {
  SpecDir dir;
  auto store = Open(AMLC_EACH_STORE_LOCATION(dir));
  Ok(store->InsertRun(MakeRun("old", "key", RunStatus::kCompleted, 10)));
  Ok(store->InsertRun(MakeRun("new", "key", RunStatus::kCompleted, 20)));
  Ok(store->InsertRun(MakeRun("newest-failed", "key", RunStatus::kFailed, 30)));
  Ok(store->InsertRun(MakeRun("other-key", "key2", RunStatus::kCompleted, 40)));

  auto found = store->FindCompletedRun("job/train", "key");
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->id == "new");

  Ok(store->InsertRun(MakeRun("only-failed", "key3", RunStatus::kFailed, 50)));
  auto none = store->FindCompletedRun("job/train", "key3");
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  CHECK_FALSE(store->FindCompletedRun("job/other", "key")->has_value());
}

TEST_CASE("FindActiveRuns gives the Queued and Running runs of the key", "[state][postgresql]") {
  SpecDir dir;
  auto store = Open(AMLC_EACH_STORE_LOCATION(dir));
  Ok(store->InsertRun(MakeRun("queued", "key", RunStatus::kQueued, 10)));
  Ok(store->InsertRun(MakeRun("running", "key", RunStatus::kRunning, 20)));
  Ok(store->InsertRun(MakeRun("done", "key", RunStatus::kCompleted, 30)));
  Ok(store->InsertRun(MakeRun("canceled", "key", RunStatus::kCanceled, 40)));
  Ok(store->InsertRun(MakeRun("elsewhere", "key2", RunStatus::kRunning, 50)));

  auto active = store->FindActiveRuns("job/train", "key");
  REQUIRE(active.ok());
  CHECK(Ids(*active) == std::vector<std::string>{"queued", "running"});

  RunRecord finished = MakeRun("running", "key", RunStatus::kCompleted, 20);
  Ok(store->UpdateRun(finished));
  CHECK(Ids(*store->FindActiveRuns("job/train", "key")) == std::vector<std::string>{"queued"});
}

TEST_CASE("run tags are set, overwritten and listed by key", "[state][postgresql]") {
  SpecDir dir;
  auto store = Open(AMLC_EACH_STORE_LOCATION(dir));
  Ok(store->InsertRun(MakeRun("r1", "k", RunStatus::kRunning, 1)));
  Ok(store->SetRunTag("r1", "stage", "dev"));
  Ok(store->SetRunTag("r1", "author", "ana"));
  Ok(store->SetRunTag("r1", "stage", "prod"));
  auto tags = store->RunTags("r1");
  REQUIRE(tags.ok());
  using Tags = std::vector<std::pair<std::string, std::string>>;
  CHECK(*tags == Tags{{"author", "ana"}, {"stage", "prod"}});
  CHECK(store->RunTags("r2")->empty());
}

TEST_CASE("metrics read back by name, step and time, with text, NaN and infinities", "[state][postgresql]") {
  SpecDir dir;
  auto store = Open(AMLC_EACH_STORE_LOCATION(dir));
  Ok(store->InsertRun(MakeRun("r1", "k", RunStatus::kRunning, 1)));
  Ok(store->InsertRun(MakeRun("r2", "k", RunStatus::kRunning, 2)));
  MetricPoint note = Point("r1", "note", 0, 0, 5);
  note.text = "warm start";
  double inf = std::numeric_limits<double>::infinity();
  Ok(store->AppendMetrics({Point("r1", "loss", 2, 0.5, 30), Point("r1", "acc", 0, 0.1, 10),
                           Point("r1", "loss", 0, 0.9, 10), Point("r2", "loss", 0, 7, 10)}));
  Ok(store->AppendMetrics({Point("r1", "loss", 1, std::nan(""), 20), note,
                           Point("r1", "acc", 1, inf, 20), Point("r1", "acc", 2, -inf, 30)}));
  Ok(store->AppendMetrics({}));

  auto all = store->Metrics("r1", "");
  REQUIRE(all.ok());
  REQUIRE(all->size() == 7);
  std::vector<std::pair<std::string, int64_t>> order;
  for (const MetricPoint& point : *all) order.emplace_back(point.name, point.step);
  CHECK(
      order ==
      std::vector<std::pair<std::string, int64_t>>{
          {"acc", 0}, {"acc", 1}, {"acc", 2}, {"loss", 0}, {"loss", 1}, {"loss", 2}, {"note", 0}});
  CHECK((*all)[1].value == inf);
  CHECK((*all)[2].value == -inf);
  CHECK(std::isnan((*all)[4].value));
  CHECK((*all)[4].timestamp == 20);
  CHECK((*all)[6].text == "warm start");
  CHECK((*all)[0].run_id == "r1");

  auto loss = store->Metrics("r1", "loss");
  REQUIRE(loss.ok());
  REQUIRE(loss->size() == 3);
  CHECK((*loss)[0].value == 0.9);
  CHECK((*loss)[2].value == 0.5);
  CHECK(store->Metrics("r2", "")->size() == 1);
  CHECK(store->Metrics("r3", "")->empty());
}

TEST_CASE("LatestMetrics gives the last point of each name", "[state][postgresql]") {
  SpecDir dir;
  auto store = Open(AMLC_EACH_STORE_LOCATION(dir));
  Ok(store->InsertRun(MakeRun("r1", "k", RunStatus::kRunning, 1)));
  std::vector<MetricPoint> batch;
  for (int step = 0; step < 100; ++step) {
    batch.push_back(Point("r1", "loss", step, 1.0 / (step + 1), step));
    batch.push_back(Point("r1", "acc", step, step / 100.0, step));
  }
  Ok(store->AppendMetrics(batch));
  // A later batch with an earlier step is not the latest; equal steps go by
  // time, then by which was logged last.
  Ok(store->AppendMetrics({Point("r1", "loss", 50, 9, 500)}));
  Ok(store->AppendMetrics({Point("r1", "acc", 99, 0.5, 99), Point("r1", "lr", 3, 0.1, 7),
                           Point("r1", "lr", 3, 0.2, 6)}));

  auto latest = store->LatestMetrics("r1");
  REQUIRE(latest.ok());
  REQUIRE(latest->size() == 3);
  CHECK((*latest)[0].name == "acc");
  CHECK((*latest)[0].step == 99);
  CHECK((*latest)[0].value == 0.5);  // same step and time as 0.99: logged last
  CHECK((*latest)[1].name == "loss");
  CHECK((*latest)[1].step == 99);
  CHECK((*latest)[1].value == 1.0 / 100);
  CHECK((*latest)[2].name == "lr");
  CHECK((*latest)[2].value == 0.1);  // the later timestamp
  CHECK(store->LatestMetrics("r2")->empty());
}

TEST_CASE("a metrics batch naming an unrecorded run stores none of its points", "[state][postgresql]") {
  SpecDir dir;
  auto store = Open(AMLC_EACH_STORE_LOCATION(dir));
  Ok(store->InsertRun(MakeRun("r1", "k", RunStatus::kRunning, 1)));
  Status status = store->AppendMetrics({Point("r1", "loss", 0, 1), Point("ghost", "loss", 0, 1)});
  CHECK(status.code() == StatusCode::kFailedPrecondition);
  INFO(status.message());
  CHECK(Contains(status.message(), "appending 2 metric points of 2 runs"));
  CHECK(Contains(status.message(), "run 'ghost' is not recorded"));
  CHECK(store->Metrics("r1", "")->empty());
  Ok(store->AppendMetrics({Point("r1", "loss", 0, 1)}));
  CHECK(store->Metrics("r1", "")->size() == 1);
}

TEST_CASE("100,000 metric points in batches of 10,000 read back exactly", "[state][postgresql]") {
  SpecDir dir;
  auto store = Open(AMLC_EACH_STORE_LOCATION(dir));
  Ok(store->InsertRun(MakeRun("r1", "k", RunStatus::kRunning, 1)));
  const char* names[] = {"loss", "acc", "lr", "grad_norm", "throughput"};
  std::vector<MetricPoint> written;
  for (int batch = 0; batch < 10; ++batch) {
    std::vector<MetricPoint> points;
    for (int i = batch * 10000; i < (batch + 1) * 10000; ++i) {
      points.push_back(
          Point("r1", names[i % 5], i / 5, std::sin(i) * 1e6 + 1.0 / (i + 3), 1000 + i));
    }
    Ok(store->AppendMetrics(points));
    written.insert(written.end(), points.begin(), points.end());
  }
  std::stable_sort(written.begin(), written.end(), [](const MetricPoint& a, const MetricPoint& b) {
    return std::tie(a.name, a.step) < std::tie(b.name, b.step);
  });
  auto stored = store->Metrics("r1", "");
  REQUIRE(stored.ok());
  REQUIRE(stored->size() == 100000);
  size_t mismatches = 0;
  for (size_t i = 0; i < written.size(); ++i) {
    const MetricPoint& a = written[i];
    const MetricPoint& b = (*stored)[i];
    if (a.run_id != b.run_id || a.name != b.name || a.step != b.step || a.value != b.value ||
        a.text != b.text || a.timestamp != b.timestamp) {
      ++mismatches;
    }
  }
  CHECK(mismatches == 0);
  auto latest = store->LatestMetrics("r1");
  REQUIRE(latest.ok());
  REQUIRE(latest->size() == 5);
  CHECK((*latest)[0].name == "acc");
  CHECK((*latest)[0].step == 19999);
}

TEST_CASE("a batch mixing many runs and names, out of order, lands in every series", "[state][postgresql]") {
  SpecDir dir;
  auto store = Open(AMLC_EACH_STORE_LOCATION(dir));
  for (const char* run : {"r1", "r2", "r3"})
    Ok(store->InsertRun(MakeRun(run, "k", RunStatus::kRunning, 1)));
  std::vector<MetricPoint> batch;
  for (int step = 9; step >= 0; --step) {  // newest step first
    for (int name = 0; name < 12; ++name) {
      for (const char* run : {"r1", "r2", "r3"}) {
        batch.push_back(Point(run, "m" + std::to_string(name), step, step * 100 + name));
      }
    }
  }
  Ok(store->AppendMetrics(batch));
  Ok(store->AppendMetrics(batch));  // the same points again: each series holds them twice
  for (const char* run : {"r1", "r2", "r3"}) {
    auto m7 = store->Metrics(run, "m7");
    REQUIRE(m7.ok());
    REQUIRE(m7->size() == 20);
    for (size_t i = 0; i < m7->size(); ++i) {
      CHECK((*m7)[i].run_id == run);
      CHECK((*m7)[i].step == static_cast<int64_t>(i / 2));
      CHECK((*m7)[i].value == (i / 2) * 100 + 7);
    }
    auto latest = store->LatestMetrics(run);
    REQUIRE(latest.ok());
    REQUIRE(latest->size() == 12);
    CHECK((*latest)[11].name == "m9");  // by name: m0, m1, m10, m11, m2, ...
    CHECK((*latest)[11].step == 9);
  }
  CHECK(store->Metrics("r2", "")->size() == 240);
}

TEST_CASE("activities are numbered, updated and listed newest first", "[state][postgresql]") {
  SpecDir dir;
  auto store = Open(AMLC_EACH_STORE_LOCATION(dir));
  ActivityRecord create{0, "create", "compute/local", "", "Running", 0, "starting", 100, 0};
  auto first = store->StartActivity(create);
  REQUIRE(first.ok());
  ActivityRecord run{0, "run", "job/train", "r1", "Running", 0.25, "epoch 1", 200, 0};
  auto second = store->StartActivity(run);
  REQUIRE(second.ok());
  CHECK(*second > *first);

  create.id = *first;
  create.status = "Succeeded";
  create.progress = 1;
  create.message = "ready";
  create.ended_at = 150;
  Ok(store->UpdateActivity(create));

  auto listed = store->ListActivities(0);
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 2);
  CHECK((*listed)[0].id == *second);
  CHECK((*listed)[0].run_id == "r1");
  CHECK((*listed)[0].progress == 0.25);
  CHECK((*listed)[1].status == "Succeeded");
  CHECK((*listed)[1].message == "ready");
  CHECK((*listed)[1].ended_at == 150);
  CHECK((*listed)[1].kind == "create");
  CHECK(store->ListActivities(1)->size() == 1);

  ActivityRecord unknown = create;
  unknown.id = 999;
  CHECK(store->UpdateActivity(unknown).code() == StatusCode::kNotFound);
}

TEST_CASE("syncs round-trip, finish in place and list newest first; reconciler values persist", "[state][postgresql]") {
  SpecDir dir;
  std::string location = AMLC_EACH_STORE_LOCATION(dir);
  auto store = Open(location);
  int64_t serial = Serial(*store);
  SyncRecord sync;
  sync.trigger = "push abc1234 by alice";
  sync.commit = std::string(40, 'a');
  sync.author = "Alice <alice@example.com>";
  sync.message = "train with C=2";
  sync.result = "Running";
  sync.started_at = 1000;
  auto first = store->StartSync(sync);
  REQUIRE(first.ok());
  sync.id = *first;
  sync.result = "Synced";
  sync.summary = "Plan: 0 to add, 1 to change, 0 to destroy, 1 run to start.";
  sync.plan_json = "{\"actions\": []}";
  sync.apply_log = "ok  job/train: run train-1 Completed\n";
  sync.resources_json = "[{\"id\": \"job/train\"}]";
  sync.ended_at = 2500;
  Ok(store->FinishSync(sync));
  SyncRecord second = sync;
  second.result = "InvalidSpec";
  auto second_id = store->StartSync(second);
  REQUIRE(second_id.ok());
  CHECK(*second_id > *first);

  auto listed = store->ListSyncs(10);
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 2);
  CHECK((*listed)[0].id == *second_id);
  CHECK((*listed)[1].result == "Synced");
  CHECK((*listed)[1].apply_log == sync.apply_log);
  CHECK(store->ListSyncs(1)->size() == 1);
  auto read = store->GetSync(*first);
  REQUIRE(read.ok());
  REQUIRE(read->has_value());
  CHECK((*read)->author == sync.author);
  CHECK((*read)->ended_at == 2500);
  CHECK(!store->GetSync(999)->has_value());
  SyncRecord unknown = sync;
  unknown.id = 999;
  CHECK(store->FinishSync(unknown).code() == StatusCode::kNotFound);

  CHECK(*store->GetReconcilerValue("schedule/nightly") == "");
  Ok(store->SetReconcilerValue("schedule/nightly", "1700000000000"));
  Ok(store->SetReconcilerValue("schedule/nightly", "1700086400000"));
  CHECK(*Open(location)->GetReconcilerValue("schedule/nightly") == "1700086400000");
  CHECK(Serial(*store) == serial);  // records of what happened, not of what the workspace holds
}

TEST_CASE("StateSerial moves on writes to resources and runs, not on reads", "[state][postgresql]") {
  SpecDir dir;
  auto store = Open(AMLC_EACH_STORE_LOCATION(dir));
  int64_t serial = Serial(*store);
  auto moved = [&] {
    int64_t now = Serial(*store);
    bool changed = now != serial;
    serial = now;
    return changed;
  };

  Ok(store->PutResource({"compute/local", "compute", "local", "", "d", "{}", "{}", 1}));
  CHECK(moved());
  Ok(store->InsertRun(MakeRun("r1", "k", RunStatus::kQueued, 1)));
  CHECK(moved());
  Ok(store->UpdateRun(MakeRun("r1", "k", RunStatus::kRunning, 1)));
  CHECK(moved());
  Ok(store->DeleteResource("compute/local"));
  CHECK(moved());

  REQUIRE(store->GetResource("compute/local").ok());
  REQUIRE(store->ListResources().ok());
  REQUIRE(store->GetRun("r1").ok());
  REQUIRE(store->ListRuns({}).ok());
  REQUIRE(store->FindCompletedRun("job/train", "k").ok());
  REQUIRE(store->FindActiveRuns("job/train", "k").ok());
  REQUIRE(store->Metrics("r1", "").ok());
  REQUIRE(store->LatestMetrics("r1").ok());
  REQUIRE(store->ListActivities(0).ok());
  CHECK_FALSE(moved());

  // Logs that the planner does not compare leave it too.
  Ok(store->AppendMetrics({Point("r1", "loss", 0, 1)}));
  Ok(store->SetRunTag("r1", "a", "b"));
  Ok(store->AppendJournal(Entry("apply-1", "run", "job/train", "begin")));
  CHECK_FALSE(moved());
}

TEST_CASE("a new file gets the current schema and a reopened store keeps its data", "[state]") {
  SpecDir dir;
  std::string path = dir.str() + "/state.db";
  std::ofstream(path).close();  // an empty file is an empty database
  int64_t serial = 0;
  {
    auto store = Open(path);
    Ok(store->PutResource({"compute/local", "compute", "local", "", "d", "{}", "{}", 1}));
    Ok(store->InsertRun(MakeRun("r1", "k", RunStatus::kCompleted, 1)));
    Ok(store->AppendMetrics({Point("r1", "loss", 0, 0.25)}));
    serial = Serial(*store);
  }
  CHECK(RawQuery(path, "SELECT value FROM meta WHERE key = 'schema_version'") ==
        std::to_string(SqliteSchemaVersion()));
  CHECK(RawQuery(path, "PRAGMA journal_mode") == "wal");
  CHECK(RawQuery(path, "SELECT value FROM metrics WHERE run_id = 'r1'") == "0.25");

  auto store = Open(path);
  CHECK(store->GetResource("compute/local")->has_value());
  CHECK(store->FindCompletedRun("job/train", "k")->has_value());
  CHECK(store->LatestMetrics("r1")->size() == 1);
  CHECK(Serial(*store) == serial);
}

TEST_CASE("stores opened at once on a new file all end up on the current schema", "[state][postgresql]") {
  SpecDir dir;
  std::string path = AMLC_EACH_STORE_LOCATION(dir);
  constexpr int kStores = 16;
  std::vector<std::thread> threads;
  std::vector<std::string> errors(kStores);  // one slot per thread: no lock needed
  for (int t = 0; t < kStores; ++t) {
    threads.emplace_back([&, t] {
      auto store = OpenStateStore(path);  // each with its own connection, as processes are
      if (!store.ok()) {
        errors[t] = store.status().message();
      } else if (Status status = (*store)->EnsureExperiment("e" + std::to_string(t));
                 !status.ok()) {
        errors[t] = status.message();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const std::string& error : errors) CHECK(error == "");
  if (IsPostgresUrl(path)) {
    CHECK(RawQuery(path, "SELECT max(version) FROM schema_migrations") == std::to_string(PostgresSchemaVersion()));
    CHECK(RawQuery(path, "SELECT count(*) FROM schema_migrations") == std::to_string(PostgresSchemaVersion()));
  } else {
    CHECK(RawQuery(path, "SELECT value FROM meta WHERE key = 'schema_version'") ==
          std::to_string(SqliteSchemaVersion()));
  }
  CHECK(Open(path)->ListExperiments()->size() == kStores);
}

TEST_CASE("deleting a run with SQL deletes its tags and metrics", "[state]") {
  SpecDir dir;
  std::string path = dir.str() + "/state.db";
  {
    auto store = Open(path);
    Ok(store->InsertRun(MakeRun("r1", "k", RunStatus::kCompleted, 1)));
    Ok(store->InsertRun(MakeRun("r2", "k", RunStatus::kCompleted, 2)));
    Ok(store->SetRunTag("r1", "a", "b"));
    Ok(store->AppendMetrics(
        {Point("r1", "loss", 0, 1), Point("r1", "acc", 0, 1), Point("r2", "loss", 0, 1)}));
  }
  RawQuery(path, "PRAGMA foreign_keys = ON; DELETE FROM runs WHERE id = 'r1'");
  CHECK(RawQuery(path, "SELECT count(*) FROM metric_points") == "1");
  CHECK(RawQuery(path, "SELECT count(*) FROM metric_series") == "1");
  CHECK(RawQuery(path, "SELECT count(*) FROM run_tags") == "0");
}

TEST_CASE("a store written by a newer amlc is refused", "[state][postgresql]") {
  SpecDir dir;
  std::string path = AMLC_EACH_STORE_LOCATION(dir);
  { Open(path); }
  bool postgres = IsPostgresUrl(path);
  std::string newer = std::to_string((postgres ? PostgresSchemaVersion() : SqliteSchemaVersion()) + 1);
  RawQuery(path, postgres ? "INSERT INTO schema_migrations VALUES (" + newer + ", 'from the future', 0)"
                          : "UPDATE meta SET value = '" + newer + "' WHERE key = 'schema_version'");
  auto store = OpenStateStore(path);
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().code() == StatusCode::kInternal);
  INFO(store.status().message());
  CHECK(Contains(store.status().message(), "schema version " + newer));
  CHECK(Contains(store.status().message(), "newer than this amlc"));
}

TEST_CASE("a file that is not an amlc store is refused", "[state]") {
  SpecDir dir;
  std::string text = dir.str() + "/notes.txt";
  std::ofstream(text) << "these are not the tables you are looking for\n" << std::string(8192, 'x');
  auto store = OpenSqliteStore(text);
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().code() == StatusCode::kInternal);
  INFO(store.status().message());
  CHECK(Contains(store.status().message(), "not an SQLite database"));

  std::string other = dir.str() + "/other.db";
  RawQuery(other, "CREATE TABLE photos (id INTEGER PRIMARY KEY, path TEXT)");
  auto foreign = OpenSqliteStore(other);
  REQUIRE_FALSE(foreign.ok());
  CHECK(foreign.status().code() == StatusCode::kInternal);
  CHECK(Contains(foreign.status().message(), "not an amlc state store"));
  CHECK(RawQuery(other, "SELECT count(*) FROM sqlite_master") == "1");  // left as it was
}

TEST_CASE("two stores on one file see each other's writes", "[state][postgresql]") {
  SpecDir dir;
  std::string path = AMLC_EACH_STORE_LOCATION(dir);
  auto first = Open(path);
  auto second = Open(path);
  int64_t serial = Serial(*second);

  Ok(first->InsertRun(MakeRun("r1", "k", RunStatus::kRunning, 1)));
  auto seen = second->GetRun("r1");
  REQUIRE(seen.ok());
  REQUIRE(seen->has_value());
  CHECK(Serial(*second) != serial);

  Ok(second->AppendMetrics({Point("r1", "loss", 0, 3)}));
  Ok(second->UpdateRun(MakeRun("r1", "k", RunStatus::kCompleted, 1)));
  CHECK(first->LatestMetrics("r1")->at(0).value == 3);
  CHECK(first->FindCompletedRun("job/train", "k")->has_value());
  CHECK(Serial(*first) == Serial(*second));
}

TEST_CASE("stores on one file take turns writing from many threads", "[state][postgresql]") {
  SpecDir dir;
  std::string path = AMLC_EACH_STORE_LOCATION(dir);
  auto shared = Open(path);
  auto other = Open(path);  // another "process"
  Ok(shared->InsertRun(MakeRun("r1", "k", RunStatus::kRunning, 1)));
  std::vector<std::thread> threads;
  std::atomic<int> failures = 0;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      StateStore& store = t % 2 == 0 ? *shared : *other;
      for (int i = 0; i < 25; ++i) {
        std::string name = "m" + std::to_string(t);
        if (!store.AppendMetrics({Point("r1", name, i, i), Point("r1", name, i, i + 0.5)}).ok() ||
            !store
                 .InsertRun(MakeRun("t" + std::to_string(t) + "-" + std::to_string(i), "k",
                                    RunStatus::kQueued, i))
                 .ok()) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(failures == 0);
  CHECK(shared->Metrics("r1", "")->size() == 200);
  CHECK(other->ListRuns({})->size() == 101);
}

TEST_CASE("a write that cannot get the lock in time is kUnavailable", "[state]") {
  SpecDir dir;
  std::string path = dir.str() + "/state.db";
  auto store = Open(path);
  sqlite3* holder = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &holder) == SQLITE_OK);
  REQUIRE(sqlite3_exec(holder, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);

  auto start = std::chrono::steady_clock::now();
  Status status = store->PutResource({"compute/local", "compute", "local", "", "d", "{}", "{}", 1});
  auto waited = std::chrono::steady_clock::now() - start;
  CHECK(status.code() == StatusCode::kUnavailable);
  INFO(status.message());
  CHECK(Contains(status.message(), "recording resource compute/local"));
  CHECK(Contains(status.message(), "database is locked"));
  CHECK(waited >= std::chrono::seconds(4));  // it waited for the busy timeout first
  CHECK(store->ListResources().ok());        // readers are not blocked by the writer (WAL)

  sqlite3_exec(holder, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(holder);
  Ok(store->PutResource({"compute/local", "compute", "local", "", "d", "{}", "{}", 1}));
}

TEST_CASE("SQLite result codes map to status codes", "[state]") {
  CHECK(SqliteStatus(SQLITE_BUSY, "database is locked", "s.db", "x").code() ==
        StatusCode::kUnavailable);
  CHECK(SqliteStatus(SQLITE_LOCKED_SHAREDCACHE, "locked", "s.db", "x").code() ==
        StatusCode::kUnavailable);
  CHECK(SqliteStatus(SQLITE_CONSTRAINT_PRIMARYKEY, "c", "s.db", "x").code() ==
        StatusCode::kAlreadyExists);
  CHECK(SqliteStatus(SQLITE_CONSTRAINT_FOREIGNKEY, "c", "s.db", "x").code() ==
        StatusCode::kFailedPrecondition);
  Status corrupt =
      SqliteStatus(SQLITE_CORRUPT, "database disk image is malformed", "s.db", "reading run r1");
  CHECK(corrupt.code() == StatusCode::kInternal);
  CHECK(corrupt.message() == "state store s.db: reading run r1: database disk image is malformed");
}

TEST_CASE("ListRuns filters and orders by the latest value of a metric in one query", "[state][postgresql]") {
  SpecDir dir;
  auto store = Open(AMLC_EACH_STORE_LOCATION(dir));
  for (int i = 1; i <= 4; ++i) Ok(store->InsertRun(MakeRun("r" + std::to_string(i), "k", RunStatus::kCompleted, i)));
  // r1 ends at 0.9 (after 0.1), r2 at 0.5, r3 never logs it, r4 logs text last.
  Ok(store->AppendMetrics({Point("r1", "accuracy", 0, 0.1), Point("r1", "accuracy", 1, 0.9),
                           Point("r2", "accuracy", 0, 0.5), Point("r3", "loss", 0, 0.2),
                           Point("r4", "accuracy", 0, 0.95)}));
  MetricPoint text = Point("r4", "accuracy", 1, 0);
  text.text = "n/a";
  Ok(store->AppendMetrics({text}));

  RunQuery query;
  query.where = {{"accuracy", ">", 0.6}};
  CHECK(Ids(store->ListRuns(query).value()) == std::vector<std::string>{"r1"});
  query.where = {{"accuracy", ">=", 0.5}, {"accuracy", "<", 0.6}};
  CHECK(Ids(store->ListRuns(query).value()) == std::vector<std::string>{"r2"});
  query.where = {{"accuracy", "!=", 0.5}};
  CHECK(Ids(store->ListRuns(query).value()) == std::vector<std::string>{"r1"});  // no value is no match

  query.where.clear();
  query.order_by_metric = "accuracy";
  query.descending = true;
  CHECK(Ids(store->ListRuns(query).value()) == std::vector<std::string>{"r1", "r2", "r4", "r3"});
  query.descending = false;
  CHECK(Ids(store->ListRuns(query).value()) == std::vector<std::string>{"r2", "r1", "r4", "r3"});
  query.where = {{"accuracy", "~", 1}};
  CHECK(store->ListRuns(query).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("ListRuns filters and orders by params, tags and attributes in one query", "[state][postgresql]") {
  SpecDir dir;
  auto store = Open(AMLC_EACH_STORE_LOCATION(dir));
  std::vector<std::pair<std::string, std::string>> alphas = {{"r1", "0.5"}, {"r2", "10"}, {"r3", "9"}, {"r4", "abc"}};
  for (int i = 1; i <= 5; ++i) {
    Ok(store->InsertRun(MakeRun("r" + std::to_string(i), "k", i == 5 ? RunStatus::kFailed : RunStatus::kCompleted, i)));
  }
  for (const auto& [run, alpha] : alphas) Ok(store->SetRunParams(run, {{"alpha", alpha}}));
  Ok(store->SetRunTag("r1", "dataset", "diabetes"));
  Ok(store->SetRunTag("r2", "dataset", "Diabetes-2"));
  Ok(store->SetRunTag("r3", "dataset", "iris"));
  auto ids = [&](const std::string& where, const std::string& order = "") {
    RunQuery query;
    auto conditions = ParseRunFilter(where);
    INFO(where << ": " << conditions.status().message());
    REQUIRE(conditions.ok());
    query.conditions = *conditions;
    if (!order.empty()) query.order = ParseRunOrder(order).value();
    auto runs = store->ListRuns(query);
    INFO(runs.status().message());
    REQUIRE(runs.ok());
    return Ids(*runs);
  };
  using Ids = std::vector<std::string>;
  CHECK(ids("params.alpha > 1") == Ids{"r3", "r2"});  // numbers compare as numbers; "abc" is none
  CHECK(ids("params.alpha = '0.5'") == Ids{"r1"});
  CHECK(ids("params.alpha != '0.5'") == Ids{"r4", "r3", "r2"});  // a run without the param is no match
  CHECK(ids("tags.dataset LIKE 'dia%'") == Ids{"r2", "r1"});  // SQLite's LIKE ignores ASCII case; so does PostgreSQL's here
  CHECK(ids("tags.dataset ILIKE 'DIA%'") == Ids{"r2", "r1"});
  CHECK(ids("tags.dataset LIKE '%s'") == Ids{"r3", "r1"});
  CHECK(ids("attributes.status = 'FINISHED' and attributes.created > 2") == Ids{"r4", "r3"});
  CHECK(ids("attributes.status = 'FAILED'") == Ids{"r5"});
  CHECK(ids("attributes.run_id = 'r2' and params.alpha >= 10") == Ids{"r2"});
  CHECK(ids("", "params.alpha asc") == Ids{"r1", "r3", "r2", "r4", "r5"});  // numbers, then text, then none
  CHECK(ids("", "params.alpha desc") == Ids{"r4", "r2", "r3", "r1", "r5"});
  CHECK(ids("", "tags.dataset") == Ids{"r2", "r1", "r3", "r5", "r4"});
  CHECK(ids("", "attributes.created desc") == Ids{"r5", "r4", "r3", "r2", "r1"});
  CHECK(ids("params.alpha > 0", "params.alpha desc") == Ids{"r2", "r3", "r1"});
}
