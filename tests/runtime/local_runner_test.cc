// The local runner's re-attach after a restart: the state store keeps only a
// run's pid, the run folder its ProcessIdentity, and a pid that another
// process got since must not be taken for the run.
#include "runtime/compute/local_runner.h"

#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "base/process.h"
#include "tests/test_support.h"

using amlc::Process;
using amlc::ProcessIdentity;
using amlc::ProcessSpec;
using amlc::runtime::CancelRun;
using amlc::runtime::LocalRunner;
using amlc::runtime::RunRecord;
using amlc::runtime::RunRequest;
using amlc::runtime::RunStatus;
using amlc::runtime::Workspace;
using amlc::testing::SpecDir;

namespace {

// A process standing in for whatever got the run's pid after a restart.
Process Sleeper() {
  ProcessSpec spec;
  spec.argv = {"sleep", "30"};
  auto started = amlc::Spawn(spec);
  REQUIRE(started.ok());
  return std::move(started.value());
}

// A Running run of `pid` whose run folder records `identity`.
RunRecord RecordRun(Workspace& workspace, const std::string& id, pid_t pid,
                    const ProcessIdentity& identity) {
  RunRecord run;
  run.id = id;
  run.experiment = "e";
  run.job_id = "job/j";
  run.run_key = "k";
  run.status = RunStatus::kRunning;
  run.pid = pid;
  REQUIRE(workspace.state().InsertRun(run).ok());
  std::filesystem::create_directories(workspace.run_dir(id) + "/work/outputs");
  std::ofstream(workspace.run_dir(id) + "/process-identity") << identity.ToString() << "\n";
  return run;
}

}  // namespace

TEST_CASE("a re-attach does not take a reused pid for the run, and cancel leaves it alone",
          "[runner]") {
  SpecDir dir;
  auto workspace = Workspace::Open(dir.str() + "/.amlc");
  REQUIRE(workspace.ok());
  Process other = Sleeper();
  // The run had the pid before the sleeper: an earlier start time.
  ProcessIdentity recorded = other.identity();
  recorded.start_ticks -= 1;

  RunRecord canceled = RecordRun(**workspace, "cancel-me", other.pid(), recorded);
  CHECK(CancelRun(**workspace, canceled.id).ok());
  CHECK(other.Running());  // not signalled

  RunRecord attached = RecordRun(**workspace, "attach-me", other.pid(), recorded);
  LocalRunner runner(**workspace);
  auto started = std::chrono::steady_clock::now();
  runner.Attach(attached, RunRequest{}, nullptr);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
  CHECK(attached.status == RunStatus::kFailed);
  CHECK(attached.error == "the run's process died without an exit code");
  CHECK(other.Running());

  CHECK(other.SignalGroup(SIGKILL).ok());
  CHECK(other.Wait().ok());
}

TEST_CASE("a re-attach follows the recorded process until it ends and reads its exit code",
          "[runner]") {
  SpecDir dir;
  auto workspace = Workspace::Open(dir.str() + "/.amlc");
  REQUIRE(workspace.ok());
  ProcessSpec spec;
  spec.argv = {"sleep", "0.5"};
  auto process = amlc::Spawn(spec);
  REQUIRE(process.ok());
  RunRecord run = RecordRun(**workspace, "finish-me", process->pid(), process->identity());
  std::ofstream((*workspace)->run_dir(run.id) + "/exit_code") << "0\n";
  LocalRunner runner(**workspace);
  runner.Attach(run, RunRequest{}, nullptr);
  CHECK(run.status == RunStatus::kCompleted);
  CHECK_FALSE(amlc::IsSameProcess(process->identity()));  // ended (a zombie until we reap it)
  CHECK(process->Wait().ok());
}
