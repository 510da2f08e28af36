#include "base/process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/test_support.h"

using amlc::DescribeWaitStatus;
using amlc::IsSameProcess;
using amlc::Process;
using amlc::ProcessIdentity;
using amlc::ProcessSpec;
using amlc::Spawn;
using amlc::StatusCode;
using amlc::testing::ReadFile;
using amlc::testing::SpecDir;

namespace {

// Waits up to `seconds` for `condition`.
template <typename Condition>
bool WaitUntil(Condition condition, double seconds = 5) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

ProcessSpec Shell(const std::string& script) {
  ProcessSpec spec;
  spec.argv = {"/bin/sh", "-c", script};
  return spec;
}

// Spawns, waits, and returns how it ended ("exit code 0").
std::string RunToEnd(const ProcessSpec& spec) {
  auto process = Spawn(spec);
  REQUIRE(process.ok());
  auto status = process->Wait();
  REQUIRE(status.ok());
  return DescribeWaitStatus(status.value());
}

}  // namespace

TEST_CASE("spawn passes args, the environment and the working folder; output goes to a file",
          "[process]") {
  SpecDir dir;
  ProcessSpec spec;
  // A bare name is found in the child's PATH, not ours.
  spec.argv = {"sh", "-c", "echo \"$1 $GREETING\"; pwd; echo to-stderr >&2", "sh", "world"};
  spec.env = std::vector<std::string>{"GREETING=hello", "PATH=/usr/bin:/bin"};
  spec.cwd = dir.str();
  spec.output_file = dir.str() + "/out.log";
  CHECK(RunToEnd(spec) == "exit code 0");
  CHECK(RunToEnd(spec) == "exit code 0");  // appends
  std::string once =
      "world hello\n" + std::filesystem::canonical(dir.path()).string() + "\nto-stderr\n";
  CHECK(ReadFile(dir.path() / "out.log") == once + once);
}

TEST_CASE("spawn collects the exit code and describes a signal", "[process]") {
  CHECK(RunToEnd(Shell("exit 7")) == "exit code 7");
  CHECK(RunToEnd(Shell("kill -9 $$")) == "killed by signal 9 (SIGKILL)");
}

TEST_CASE("spawn starts a new session whose group signal ends a grandchild", "[process]") {
  SpecDir dir;
  std::string pid_file = dir.str() + "/grandchild.pid";
  auto process = Spawn(Shell("sleep 30 & echo $! > " + pid_file + "; wait"));
  REQUIRE(process.ok());
  CHECK(getsid(process->pid()) == process->pid());
  CHECK(getpgid(process->pid()) == process->pid());
  CHECK(process->identity().pid == process->pid());
  CHECK(process->Running());
  REQUIRE(WaitUntil([&] { return ReadFile(pid_file).find('\n') != std::string::npos; }));
  auto grandchild = amlc::IdentityOf(std::stoi(ReadFile(pid_file)));
  REQUIRE(grandchild.ok());
  CHECK(IsSameProcess(grandchild.value()));

  CHECK(process->SignalGroup(SIGKILL).ok());
  auto status = process->Wait();
  REQUIRE(status.ok());
  CHECK(DescribeWaitStatus(status.value()) == "killed by signal 9 (SIGKILL)");
  CHECK_FALSE(process->Running());
  CHECK(process->SignalGroup(SIGKILL).ok());  // ended: nothing to signal
  // The grandchild is init's now; a zombie it has not reaped counts as ended.
  CHECK(WaitUntil([&] { return !IsSameProcess(grandchild.value()); }));
}

TEST_CASE("without new_session the child stays in our process group", "[process]") {
  ProcessSpec spec = Shell("sleep 30");
  spec.new_session = false;
  auto process = Spawn(spec);
  REQUIRE(process.ok());
  CHECK(getpgid(process->pid()) == getpgrp());
  CHECK(process->SignalGroup(SIGKILL).ok());  // no group of its own: it alone
  auto status = process->Wait();
  REQUIRE(status.ok());
  CHECK(DescribeWaitStatus(status.value()) == "killed by signal 9 (SIGKILL)");
}

TEST_CASE("the child has its signals at default and unblocked, whatever we block", "[process]") {
  sigset_t term, old;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, &old);
  auto process = Spawn(Shell("sleep 30"));
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  REQUIRE(process.ok());
  amlc::SignalGroup(process->pid(), SIGTERM);
  CHECK(DescribeWaitStatus(amlc::WaitForChild(process->pid())) == "killed by signal 15 (SIGTERM)");
}

TEST_CASE("spawn hands over mapped descriptors and no others", "[process]") {
  SpecDir dir;
  int fds[2];
  REQUIRE(pipe(fds) == 0);  // not close-on-exec: it must still not leak
  int leaked = dup(fds[1]);
  ProcessSpec spec = Shell("echo via-3 >&3; ls /proc/$$/fd");
  spec.fds = {{fds[1], 3}};
  spec.output_file = dir.str() + "/out.log";
  CHECK(RunToEnd(spec) == "exit code 0");
  close(fds[1]);
  close(leaked);
  char buffer[64] = {};
  CHECK(read(fds[0], buffer, sizeof buffer - 1) == 6);
  CHECK(std::string(buffer) == "via-3\n");
  close(fds[0]);
  CHECK(ReadFile(dir.path() / "out.log") == "0\n1\n2\n3\n");
}

TEST_CASE("a missing program or folder is a Status, not a crash", "[process]") {
  ProcessSpec spec;
  spec.argv = {"/no/such/program"};
  auto missing = Spawn(spec);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK(missing.status().message().find("/no/such/program") != std::string::npos);

  spec.argv = {"amlc-no-such-program-anywhere"};
  CHECK(Spawn(spec).status().code() == StatusCode::kNotFound);

  spec.argv = {"/bin/true"};
  spec.cwd = "/no/such/folder";
  auto no_folder = Spawn(spec);
  REQUIRE_FALSE(no_folder.ok());
  CHECK(no_folder.status().message().find("/no/such/folder") != std::string::npos);

  CHECK(Spawn(ProcessSpec{}).status().code() == StatusCode::kInvalidArgument);
  spec.cwd.clear();
  spec.output_file = "/no/such/folder/out.log";
  CHECK(Spawn(spec).status().code() == StatusCode::kUnavailable);
}

TEST_CASE("an identity tells the process it names from a later one with the same pid",
          "[process]") {
  auto self = amlc::IdentityOf(getpid());
  REQUIRE(self.ok());
  CHECK(IsSameProcess(self.value()));
  auto parsed = ProcessIdentity::Parse(self->ToString());
  REQUIRE(parsed.ok());
  CHECK(parsed->ToString() == self->ToString());
  CHECK(IsSameProcess(parsed.value()));
  CHECK(ProcessIdentity::Parse("12 not-a-number").status().code() == StatusCode::kInvalidArgument);

  // The same pid with another start time is another process: what a reused
  // pid looks like. Another boot id: the machine rebooted since.
  ProcessIdentity reused = self.value();
  reused.start_ticks += 1;
  CHECK_FALSE(IsSameProcess(reused));
  CHECK(amlc::Adopt(reused).status().code() == StatusCode::kNotFound);
  ProcessIdentity rebooted = self.value();
  rebooted.boot_id = "00000000-0000-0000-0000-000000000000";
  CHECK_FALSE(IsSameProcess(rebooted));
}

TEST_CASE("a re-attached process is followed until it ends, and not after", "[process]") {
  auto child = Spawn(Shell("sleep 30"));
  REQUIRE(child.ok());
  ProcessIdentity recorded = child->identity();
  auto adopted = amlc::Adopt(ProcessIdentity::Parse(recorded.ToString()).value());
  REQUIRE(adopted.ok());
  CHECK_FALSE(adopted->child());
  CHECK(adopted->Running());
  CHECK(adopted->SignalGroup(SIGTERM).ok());
  auto waited = adopted->Wait();  // returns once it is gone, though it is not its child
  REQUIRE(waited.ok());
  CHECK_FALSE(adopted->Running());
  CHECK(DescribeWaitStatus(amlc::WaitForChild(child->pid())) == "killed by signal 15 (SIGTERM)");
  // Reaped: the recorded identity no longer names a process.
  CHECK_FALSE(IsSameProcess(recorded));
  CHECK(amlc::Adopt(recorded).status().code() == StatusCode::kNotFound);
}

TEST_CASE("a parent death signal reaches the child when the spawning thread ends", "[process]") {
  pid_t pid = -1;
  bool armed = false;
  // No Catch assertions in the thread: they are not thread-safe.
  std::thread spawner([&] {
    ProcessSpec spec;
    spec.argv = {"sleep", "30"};
    spec.parent_death_signal = SIGKILL;
    auto process = Spawn(spec);
    if (!process.ok()) return;
    pid = process->pid();
    // setpriv arms the signal in the child: wait until the guard has exec'd
    // sleep, so the test is of the armed signal, not of the guard.
    armed =
        WaitUntil([&] { return ReadFile("/proc/" + std::to_string(pid) + "/comm") == "sleep\n"; });
  });
  spawner.join();
  REQUIRE(pid > 0);
  CHECK(armed);
  CHECK(DescribeWaitStatus(amlc::WaitForChild(pid)) == "killed by signal 9 (SIGKILL)");
}

TEST_CASE("EnvironmentWith puts overrides over ours", "[process]") {
  setenv("AMLC_PROCESS_TEST", "ours", 1);
  std::vector<std::string> env =
      amlc::EnvironmentWith({{"AMLC_PROCESS_TEST", "theirs"}, {"AMLC_NEW", "1"}});
  unsetenv("AMLC_PROCESS_TEST");
  CHECK(std::count(env.begin(), env.end(), "AMLC_PROCESS_TEST=theirs") == 1);
  CHECK(std::count(env.begin(), env.end(), "AMLC_NEW=1") == 1);
  CHECK(std::count(env.begin(), env.end(), "AMLC_PROCESS_TEST=ours") == 0);
}
