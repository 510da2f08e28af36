// The ssh compute target against a real OpenSSH server on 127.0.0.1
// (tests/servers/sshd.sh, keys made for each test), through the amlc binary:
// a run's snapshot goes over (only the blobs the host lacks), its log and
// metrics come back while it runs, cancel and timeout end its process group
// there, a restart of sshd or a kill -9 of amlc loses nothing, and a host
// whose key changed is refused.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/test_support.h"

using namespace amlc::testing;
namespace fs = std::filesystem;

namespace {

const char* kJob = "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n";

// An sshd of its own for one test, stopped (by PID) when the test ends.
class Sshd {
 public:
  Sshd() : script_(SourcePath("tests/servers/sshd.sh")) { REQUIRE(Control("start") == 0); }
  ~Sshd() { Control("stop"); }
  int Control(const std::string& command) {
    std::string out;
    return Run(script_ + " " + command + " " + dir_.str() + " 2>&1", &out);
  }
  std::string path(const std::string& name) const { return (dir_.path() / name).string(); }

 private:
  std::string script_;
  SpecDir dir_;
};

// A specs folder whose jobs run on compute `vm`, an ssh target at `sshd`.
class SshSpecs {
 public:
  explicit SshSpecs(Sshd& sshd) {
    port = ReadFile(sshd.path("port"));
    while (!port.empty() && port.back() == '\n') port.pop_back();
    dir.Write("compute.yaml", "$schema: compute.schema.json\nname: vm\ntype: virtualmachine\nhost: 127.0.0.1\n"
                              "port: " + port + "\nkey_secret: vm-key\nknown_hosts: " + sshd.path("known_hosts") +
                              "\nwork_dir: " + sshd.path("remote") + "\n");
    dir.Write("env.yaml", "$schema: environment.schema.json\nname: py\nversion: 1\npython: /usr/bin/python3\n");
    std::string out;
    REQUIRE(Run("AMLC_TEST_SSH_KEY=\"$(cat " + sshd.path("client_key") + ")\" " +
                Amlc("secrets set vm-key --from-env AMLC_TEST_SSH_KEY --workspace " + workspace()) + " 2>&1", &out) == 0);
  }
  void Job(const std::string& name, const std::string& command, const std::string& extra = "") {
    dir.Write(name + ".yaml", std::string(kJob) + "type: command\nname: " + name +
                                  "\ncode: src\ncompute: azureml:vm\nenvironment: azureml:py:1\ncommand: " + command +
                                  "\n" + extra);
  }
  std::string workspace() const { return dir.str() + "/.amlc"; }
  int Apply(std::string* out = nullptr) {
    std::string ignored;
    return Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), out ? out : &ignored);
  }
  nlohmann::json Runs() {
    return fs::exists(dir.path() / ".amlc/state.db") ? AmlcJson(dir.str(), "runs list") : nlohmann::json::array();
  }
  nlohmann::json Metrics(const std::string& run) { return AmlcJson(dir.str(), "metrics " + run); }
  // Waits (generously: the machine is shared) for a run to be Running with `text` in its log.
  std::string WaitRunningWith(const std::string& text) {
    for (int i = 0; i < 1200; ++i) {
      nlohmann::json runs = Runs();
      if (runs.is_array() && !runs.empty() && runs[0].value("status", "") == "Running") {
        std::string id = runs[0].value("id", "");
        if (ReadFile(dir.path() / ".amlc/runs" / id / "output.log").find(text) != std::string::npos) return id;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL("no run reached '" << text << "' in 120 s");
    return "";
  }
  SpecDir dir;
  std::string port;
};

// `amlc apply` in the background; its pid.
pid_t ApplyInBackground(const SshSpecs& specs, const std::string& log) {
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", ("exec " + Amlc("apply --auto-approve " + specs.dir.str()) + " > " + log + " 2>&1").c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

int WaitExit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Logs loss at three steps, sleeping `pause` seconds after the first, and writes its model.
const char* kTrain =
    "import sys, time\n"
    "from amlc import Run\n"
    "run = Run.get_context()\n"
    "pause = float(sys.argv[2])\n"
    "for step in range(3):\n"
    "    run.log('loss', 1.0 / (step + 1))\n"
    "    print('step', step, flush=True)\n"
    "    if step == 0:\n"
    "        time.sleep(pause)\n"
    "open(sys.argv[1] + '/model.txt', 'w').write('weights')\n"
    "run.log('accuracy', 0.93)\n";

// Writes the training job NAME (pausing `pause` s after its first step),
// starts `amlc apply` in the background and waits until the run is past its
// first step; the apply's pid, and the run's id in `id`.
pid_t StartTraining(SshSpecs& specs, const std::string& name, const std::string& pause, std::string& id) {
  specs.dir.Write("src/train.py", kTrain);
  specs.Job(name, "python train.py ${{outputs.model}} " + pause, "outputs:\n  model:\n");
  pid_t apply = ApplyInBackground(specs, specs.dir.str() + "/apply.log");
  id = specs.WaitRunningWith("step 0");
  return apply;
}

size_t BlobCount(const Sshd& sshd) {
  size_t count = 0;
  std::error_code error;
  for (auto it = fs::directory_iterator(sshd.path("remote/blobs"), error); it != fs::directory_iterator(); ++it) ++count;
  return count;
}

}  // namespace

TEST_CASE("a job on an ssh target runs there, records its metrics and sends only missing blobs", "[ssh]") {
  Sshd sshd;
  SshSpecs specs(sshd);
  specs.dir.Write("src/train.py", kTrain);
  specs.dir.Write("src/data.txt", "some data\n");
  specs.Job("train", "python train.py ${{outputs.model}} 0", "outputs:\n  model:\n");
  std::string out;
  REQUIRE(specs.Apply(&out) == 0);
  nlohmann::json runs = specs.Runs();
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].value("status", "") == "Completed");
  CHECK(runs[0].value("compute", "") == "ssh");
  CHECK(runs[0].value("work_dir", "") ==  // where it ran: host and folder
        "ssh://127.0.0.1:" + specs.port + sshd.path("remote/runs/" + runs[0].value("id", "") + "/work"));
  CHECK(runs[0]["metrics"].value("accuracy", 0.0) == Approx(0.93));
  nlohmann::json loss = specs.Metrics(runs[0].value("id", ""));
  CHECK(loss.dump().find("0.5") != std::string::npos);
  std::string model = runs[0]["outputs"]["model"].value("path", "");
  CHECK(ReadFile(fs::path(model) / "model.txt") == "weights");
  CHECK(ReadFile(specs.dir.path() / ".amlc/runs" / runs[0].value("id", "") / "output.log").find("step 2") !=
        std::string::npos);
  CHECK(!fs::exists(sshd.path("remote/runs/" + runs[0].value("id", ""))));  // cleared on the host
  size_t blobs = BlobCount(sshd);
  CHECK(blobs >= 3);  // train.py, data.txt, amlc's module

  // One changed file: one new blob; nothing else is sent again.
  specs.dir.Write("src/train.py", std::string(kTrain) + "print('v2')\n");
  REQUIRE(specs.Apply(&out) == 0);
  CHECK(BlobCount(sshd) == blobs + 1);
  CHECK(out.find("Apply complete") != std::string::npos);

  // apply --json: the upload to the host is a bytes event ending at its total.
  specs.dir.Write("src/train.py", std::string(kTrain) + "print('v3')\n");
  REQUIRE(Run(Amlc("apply --auto-approve --json " + specs.dir.str() + " 2>/dev/null"), &out) == 0);
  nlohmann::json upload;
  std::istringstream events(out);
  for (std::string line; std::getline(events, line);) {
    nlohmann::json event = nlohmann::json::parse(line);
    if (event["type"] == "bytes" && event["label"] == "snapshot upload to 127.0.0.1:" + specs.port) upload = event;
  }
  INFO(out);
  REQUIRE(upload.is_object());
  CHECK(upload["finished"] == true);
  CHECK(upload["done"] == upload["total"]);
  CHECK(upload["total"].get<uint64_t>() > 0);
}

TEST_CASE("cancel and timeout end the run's process group on the ssh host", "[ssh]") {
  Sshd sshd;
  SshSpecs specs(sshd);
  std::string id;
  pid_t apply = StartTraining(specs, "slow", "120", id);
  std::string out;
  CHECK(Run(Amlc("runs cancel " + id + " --workspace " + specs.workspace() + " 2>&1"), &out) == 0);
  CHECK(WaitExit(apply) != 0);
  nlohmann::json runs = specs.Runs();
  CHECK(runs[0].value("status", "") == "Canceled");
  // The host and this machine are one here, so the remote process group can be looked at directly.
  std::string pid_text;
  Run("ps -eo pid,args | grep '[t]rain.py .*" + id + "' || true", &pid_text);
  CHECK(pid_text.empty());

  specs.Job("slow", "python train.py ${{outputs.model}} 120", "outputs:\n  model:\nlimits:\n  timeout: 3\n");
  REQUIRE(specs.Apply(&out) != 0);
  runs = specs.Runs();
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].value("status", "") == "Canceled");
  CHECK(runs[0].value("error", "") == "timed out after 3 s");
  Run("ps -eo pid,args | grep '[t]rain.py .*" + runs[0].value("id", "") + "' || true", &pid_text);
  CHECK(pid_text.empty());
}

TEST_CASE("an ssh run goes on through a restart of sshd and loses no metric", "[ssh]") {
  Sshd sshd;
  SshSpecs specs(sshd);
  std::string id;
  pid_t apply = StartTraining(specs, "train", "6", id);
  REQUIRE(sshd.Control("stop") == 0);
  std::this_thread::sleep_for(std::chrono::seconds(2));  // down for a while: the follower must retry
  REQUIRE(sshd.Control("start") == 0);
  CHECK(WaitExit(apply) == 0);
  nlohmann::json runs = specs.Runs();
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].value("status", "") == "Completed");
  CHECK(runs[0]["metrics"].value("accuracy", 0.0) == Approx(0.93));
  std::string log = ReadFile(specs.dir.path() / ".amlc/runs" / runs[0].value("id", "") / "output.log");
  CHECK(log == "step 0\nstep 1\nstep 2\n");  // every line once: the stream resumed at its offset
  nlohmann::json loss = specs.Metrics(runs[0].value("id", ""));
  CHECK(loss.dump().find("0.333") != std::string::npos);
}

TEST_CASE("after kill -9 of apply mid-run on ssh the next apply adopts the same run", "[ssh]") {
  Sshd sshd;
  SshSpecs specs(sshd);
  std::string id;
  pid_t apply = StartTraining(specs, "train", "5", id);
  kill(apply, SIGKILL);
  WaitExit(apply);
  std::string out;
  REQUIRE(specs.Apply(&out) == 0);
  CHECK(out.find("in progress; apply waits for it") != std::string::npos);
  nlohmann::json runs = specs.Runs();
  REQUIRE(runs.size() == 1);  // adopted, not started a second time
  CHECK(runs[0].value("id", "") == id);
  CHECK(runs[0].value("status", "") == "Completed");
  CHECK(runs[0]["metrics"].value("accuracy", 0.0) == Approx(0.93));
}

TEST_CASE("an ssh host whose key changed is refused, and one not in known_hosts too", "[ssh]") {
  Sshd sshd;
  SshSpecs specs(sshd);
  specs.dir.Write("src/train.py", kTrain);
  specs.Job("train", "python train.py ${{outputs.model}} 0", "outputs:\n  model:\n");
  REQUIRE(sshd.Control("rekey") == 0);
  REQUIRE(sshd.Control("start") == 0);
  std::string out;
  CHECK(specs.Apply(&out) != 0);
  CHECK(out.find("does not match the one in " + sshd.path("known_hosts")) != std::string::npos);
  nlohmann::json runs = specs.Runs();
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].value("status", "") == "Failed");
  CHECK(!fs::exists(sshd.path("remote/runs")));  // nothing was sent

  fs::remove(sshd.path("known_hosts"));  // no trust on first use either
  CHECK(specs.Apply(&out) != 0);
  CHECK(out.find("amlc does not trust a host on first use") != std::string::npos);
  CHECK(!fs::exists(sshd.path("known_hosts")));
}

TEST_CASE("max_concurrent bounds the runs on an ssh target, and scale settings of one machine are warned",
          "[ssh]") {
  Sshd sshd;
  SshSpecs specs(sshd);
  specs.dir.Write("compute.yaml", ReadFile(specs.dir.path() / "compute.yaml") +
                                      "max_concurrent: 1\nmax_instances: 4\nidle_time_before_scale_down: 120\n");
  specs.dir.Write("src/stamp.sh", "date +%s%N\nsleep 2\ndate +%s%N\n");
  specs.Job("first", "sh stamp.sh");
  // Without an environment, `python` is the host's python3.
  specs.dir.Write("second.yaml", std::string(kJob) + "type: command\nname: second\ncode: src\ncompute: azureml:vm\n"
                                                     "command: sh stamp.sh && python -c 'print(7)'\n");
  std::string out;
  Run(Amlc("validate " + specs.dir.str() + " 2>&1"), &out);
  CHECK(out.find("ssh compute 'vm' is one machine that amlc neither starts nor stops: 'max_instances' is recorded "
                 "and has no effect") != std::string::npos);
  CHECK(out.find("'idle_time_before_scale_down' is recorded") != std::string::npos);
  REQUIRE(specs.Apply(&out) == 0);
  nlohmann::json runs = specs.Runs();
  REQUIRE(runs.size() == 2);
  auto span = [&](const nlohmann::json& run) {
    std::string log = ReadFile(specs.dir.path() / ".amlc/runs" / run.value("id", "") / "output.log");
    size_t newline = log.find('\n');
    return std::make_pair(std::stoll(log.substr(0, newline)), std::stoll(log.substr(newline + 1)));
  };
  auto [a_start, a_end] = span(runs[0]);
  auto [b_start, b_end] = span(runs[1]);
  CHECK((a_end <= b_start || b_end <= a_start));  // one at a time
}

TEST_CASE("an ssh run's file and folder inputs are sent to the host and the command reads them there", "[ssh]") {
  Sshd sshd;
  SshSpecs specs(sshd);
  specs.dir.Write("data/numbers.csv", "1\n2\n3\n");
  specs.dir.Write("data/extra/note.txt", "from a folder\n");
  specs.dir.Write("src/sum.sh",
                  "echo \"file $1\"\necho \"folder $2\"\n"
                  "awk '{s+=$1} END {print s}' \"$1\" > \"$3/sum.txt\"\ncat \"$2/note.txt\" >> \"$3/sum.txt\"\n");
  specs.Job("sum", "sh sum.sh ${{inputs.numbers}} ${{inputs.extra}} ${{outputs.result}}",
            "inputs:\n  numbers:\n    type: uri_file\n    path: ./data/numbers.csv\n"
            "  extra:\n    type: uri_folder\n    path: ./data/extra\n"
            "outputs:\n  result:\n");
  std::string out;
  REQUIRE(specs.Apply(&out) == 0);
  nlohmann::json runs = specs.Runs();
  REQUIRE(runs.size() == 1);
  std::string id = runs[0].value("id", "");
  std::string log = ReadFile(specs.dir.path() / ".amlc/runs" / id / "output.log");
  // The command got the copies in the run's folder on the host, not this machine's paths.
  std::string there = sshd.path("remote/runs/" + id + "/inputs");
  CHECK(log == "file " + there + "/numbers/numbers.csv\nfolder " + there + "/extra\n");
  CHECK(ReadFile(fs::path(runs[0]["outputs"]["result"].value("path", "")) / "sum.txt") == "6\nfrom a folder\n");
  // The input's contents went into the host's blob store, named by their digest.
  std::string digest;
  Run("sha256sum " + specs.dir.str() + "/data/numbers.csv | cut -d' ' -f1 | tr -d '\\n'", &digest);
  CHECK(ReadFile(sshd.path("remote/blobs/" + digest)) == "1\n2\n3\n");

  // An input gone from this machine is an error naming it, not a run of a missing file.
  fs::remove(specs.dir.path() / "data/numbers.csv");
  CHECK(specs.Apply(&out) != 0);
  CHECK(out.find("numbers") != std::string::npos);
}

TEST_CASE("a pipeline's steps on an ssh target get their upstream step's output on the host", "[ssh]") {
  Sshd sshd;
  SshSpecs specs(sshd);
  WriteTwoStepPipeline(specs.dir, "vm", "ssh-pipes");
  std::string out;
  REQUIRE(specs.Apply(&out) == 0);
  int steps = 0;
  for (const nlohmann::json& run : specs.Runs()) {
    if (run.value("parent", "").empty()) continue;
    ++steps;
    CHECK(run.value("compute", "") == "ssh");
    if (run.value("job", "").find("count") == std::string::npos) continue;
    std::string id = run.value("id", "");
    CHECK(ReadFile(specs.dir.path() / ".amlc/runs" / id / "output.log") ==
          "input " + sshd.path("remote/runs/" + id + "/inputs/data") + "\n");
    CHECK(ReadFile(fs::path(run["outputs"]["n"].value("path", "")) / "count.txt") == "6\n");  // "HELLO\n"
  }
  CHECK(steps == 2);
}

TEST_CASE("a requirements environment on an ssh target is a venv made on the host", "[ssh]") {
  Sshd sshd;
  SshSpecs specs(sshd);
  // numpy is a Debian package here (python3-numpy): the venv sees the host's system packages.
  specs.dir.Write("env.yaml", "$schema: environment.schema.json\nname: py\nversion: 1\npip_requirements:\n"
                              "  - numpy>=1.0\n");
  specs.dir.Write("src/probe.py", "import sys, numpy\nprint(sys.executable)\n");
  specs.Job("probe", "python probe.py");
  std::string out;
  int status = specs.Apply(&out);
  INFO(out);
  REQUIRE(status == 0);
  nlohmann::json runs = specs.Runs();
  REQUIRE(runs.size() == 1);
  std::string log = ReadFile(specs.dir.path() / ".amlc/runs" / runs[0].value("id", "") / "output.log");
  INFO(log);
  REQUIRE(log.rfind(sshd.path("remote/envs/"), 0) == 0);  // the venv on the host, not one made here
  std::string venv = log.substr(0, log.find("/bin/python"));
  CHECK(fs::exists(venv + "/.ready"));
  CHECK(!fs::exists(specs.dir.path() / ".amlc/envs"));

  // A requirement the host lacks fails the run, naming it and the host.
  specs.dir.Write("env.yaml", "$schema: environment.schema.json\nname: py\nversion: 1\npip_requirements:\n"
                              "  - amlc-surely-not-installed==1.0\n");
  CHECK(specs.Apply(&out) != 0);
  runs = specs.Runs();
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].value("status", "") == "Failed");
  std::string error = runs[0].value("error", "");
  CHECK(error.find("requirements not met on ") != std::string::npos);
  CHECK(error.find("127.0.0.1:" + specs.port) != std::string::npos);
  CHECK(error.find("amlc-surely-not-installed==1.0: not installed") != std::string::npos);
}
