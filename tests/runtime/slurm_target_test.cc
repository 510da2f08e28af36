// The slurm compute target against a real two-node Slurm cluster
// (tests/servers/slurm.sh, started once by the ctest fixture "slurm"): jobs,
// sweeps, pipelines and a two-node distributed run as sbatch jobs, and the
// ends a cluster gives runs (cancel, timeout, node failure, slurmctld
// restarted, the apply killed). [slurm-unit] cases need no cluster.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "runtime/compute/slurm_cli.h"
#include "runtime/compute/slurm_target.h"
#include "tests/test_support.h"

using namespace amlc::testing;
using nlohmann::json;
namespace slurm = amlc::runtime::slurm;

namespace {

std::string ClusterDir() {
  const char* dir = std::getenv("AMLC_TEST_SLURM_DIR");
  return dir ? dir : "";
}

// Why the cluster is not there ("" when it is).
std::string ClusterMissing() {
  if (ClusterDir().empty()) return "AMLC_TEST_SLURM_DIR is not set: run the [slurm] tests through ctest -L slurm";
  std::string unavailable = ReadFile(ClusterDir() + "/unavailable");
  if (!unavailable.empty()) return "Slurm cannot start here: " + unavailable;
  // The Slurm commands this process and the amlc it starts run reach this cluster.
  setenv("SLURM_CONF", (ClusterDir() + "/slurm.conf").c_str(), 1);
  return "";
}

#define REQUIRE_CLUSTER()                              \
  do {                                                 \
    if (std::string why = ClusterMissing(); !why.empty()) { \
      WARN(why + "; test skipped");                    \
      return;                                          \
    }                                                  \
  } while (0)

// tests/servers/slurm.sh COMMAND DIR [NODE]; its exit status.
int Cluster(const std::string& command, const std::string& node = "") {
  return Run(SourcePath("tests/servers/slurm.sh") + " " + command + " " + ClusterDir() + " " + node + " >&2");
}

bool WaitFor(const std::function<bool()>& done, int seconds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return done();
}

// Writes `text` to ROOT/RELATIVE (a spec folder the test does not own as a SpecDir).
void Put(const std::string& root, const std::string& relative, const std::string& text) {
  std::filesystem::path path = std::filesystem::path(root) / relative;
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::trunc) << text;
}

void WriteCluster(const std::string& root) {
  Put(root, "compute.yaml",
            "$schema: https://azuremlschemas.azureedge.net/latest/amlCompute.schema.json\n"
            "name: cpu-cluster\ntype: amlcompute\nsize: small\nmin_instances: 0\nmax_instances: 2\n");
  Put(root, "env.yaml",
            "$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\n"
            "name: py\nversion: 1\npython: /usr/bin/python3\n");
}

// A command job on the cluster running `command` in ./src.
void WriteJob(SpecDir& dir, const std::string& name, const std::string& command, const std::string& extra = "") {
  dir.Write(name + ".yaml",
            "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
            "type: command\nname: " + name + "\nexperiment_name: slurm-tests\ncompute: azureml:cpu-cluster\n"
            "environment: azureml:py:1\ncode: ./src\ncommand: " + command + "\n" + extra);
}

json Runs(const SpecDir& dir) {
  json runs = AmlcJson(dir.str(), "runs list");
  return runs.is_array() ? runs : json::array();
}

json Show(const SpecDir& dir, const std::string& run) { return AmlcJson(dir.str(), "runs show " + run); }

std::string Logs(const SpecDir& dir, const std::string& run) {
  std::string logs;
  Run(Amlc("runs logs " + run + " --workspace " + dir.str() + "/.amlc"), &logs);
  return logs;
}

// The newest top-level run of the workspace, null when there is none.
json TopRun(const SpecDir& dir) {
  for (const json& run : Runs(dir)) {
    if (run.value("parent", "").empty()) return run;
  }
  return json();
}

std::string Tag(const json& run, const std::string& key) {
  return run.contains("tags") && run["tags"].contains(key) ? run["tags"][key].get<std::string>() : "";
}

slurm::JobState SlurmJob(const std::string& id) { return slurm::QueryJob(id).job; }

// `amlc apply` in its own process, so a test can kill exactly it; its output goes to `log`.
pid_t StartApply(const SpecDir& dir, const std::string& log) {
  pid_t pid = fork();
  if (pid == 0) {
    std::string command = "exec " + Amlc("apply --auto-approve " + dir.str()) + " > " + log + " 2>&1";
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

int WaitExit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Waits until the top-level run is Running on Slurm; its runs show.
json WaitRunning(const SpecDir& dir) {
  json shown;
  WaitFor([&] {
    json run = TopRun(dir);
    if (run.is_null() || run.value("status", "") != "Running") return false;
    shown = Show(dir, run.value("id", ""));
    return !Tag(shown, "slurm.job_id").empty();
  }, 120);
  return shown;
}

// The cluster, and job NAME running `sh job.sh` (SCRIPT), applied in the
// background (`apply` gets its pid); returns `runs show` of the run once
// it runs on Slurm.
json StartSlurmJob(SpecDir& dir, const std::string& name, const std::string& script, pid_t& apply) {
  WriteCluster(dir.str());
  dir.Write("src/job.sh", script);
  WriteJob(dir, name, "sh job.sh");
  apply = StartApply(dir, dir.str() + "/apply.log");
  return WaitRunning(dir);
}

}  // namespace

TEST_CASE("scontrol's one-line answer is read into a job state", "[slurm-unit]") {
  slurm::JobState job = slurm::ParseScontrolLine(
      "JobId=12 JobName=amlc-x UserId=root(0) JobState=NODE_FAIL Reason=NodeDown Dependency=(null) "
      "Requeue=0 ExitCode=0:9 RunTime=00:00:13 NodeList=node[1-2] BatchHost=node1");
  CHECK(job.state == "NODE_FAIL");
  CHECK(job.reason == "NodeDown");
  CHECK(job.signal == 9);
  CHECK(job.nodes == "node[1-2]");
  CHECK(amlc::runtime::SlurmEndReason("12", job) ==
        "Slurm job 12 lost a node (node failure) (NODE_FAIL, reason NodeDown) on node[1-2]; exit code 0, signal 9");
  // Every end Slurm gives a job without its script's exit code is named in the run's error.
  slurm::JobState preempted{"PREEMPTED", "", 0, 15, "node1"};
  CHECK(amlc::runtime::SlurmEndReason("13", preempted) == "Slurm job 13 was preempted (PREEMPTED) on node1; exit code 0, signal 15");
  slurm::JobState oom{"OUT_OF_MEMORY", "", 0, 9, "node2"};
  CHECK(amlc::runtime::SlurmEndReason("14", oom) == "Slurm job 14 ran out of memory (OUT_OF_MEMORY) on node2; exit code 0, signal 9");
  slurm::JobState limit = slurm::ParseScontrolLine("JobState=TIMEOUT Reason=TimeLimit ExitCode=0:0 NodeList=node1");
  CHECK(amlc::runtime::SlurmEndReason("15", limit) == "Slurm job 15 reached its Slurm time limit (TIMEOUT, reason TimeLimit) on node1");
  CHECK(slurm::IsFinal("TIMEOUT"));
  CHECK(slurm::IsFinal("OUT_OF_MEMORY"));
  CHECK_FALSE(slurm::IsFinal("PENDING"));
  CHECK_FALSE(slurm::IsFinal("COMPLETING"));
}

TEST_CASE("the quickstart on an amlcompute cluster trains on Slurm, then registers, builds and serves", "[slurm]") {
  REQUIRE_CLUSTER();
  QuickstartFolder quickstart;
  const SpecDir& dir = quickstart.dir();
  std::filesystem::remove(dir.path() / "compute.yaml");
  WriteCluster(dir.str());
  std::string train = ReadFile(dir.path() / "train.yaml");
  train = std::regex_replace(train, std::regex("compute: azureml:local"), "compute: azureml:cpu-cluster");
  Put(dir.str(), "train.yaml", train);
  std::string out;
  int status = quickstart.Apply(&out);
  INFO(out);
  REQUIRE(status == 0);
  json run = TopRun(dir);
  REQUIRE_FALSE(run.is_null());
  json shown = Show(dir, run.value("id", ""));
  CHECK(shown.value("compute", "") == "slurm");
  CHECK(shown.value("status", "") == "Completed");
  std::string job = Tag(shown, "slurm.job_id");
  REQUIRE_FALSE(job.empty());
  CHECK(std::regex_match(Tag(shown, "slurm.nodes"), std::regex("node[12]")));
  CHECK(shown["metrics"].value("accuracy", 0.0) > 0.9);
  slurm::JobState state = SlurmJob(job);
  CHECK(state.state == "COMPLETED");
  std::string text;
  Run(Amlc("runs show " + run.value("id", "") + " --workspace " + dir.str() + "/.amlc"), &text);
  // The text form lists tags one per line: "  slurm.job_id   ID".
  CHECK(std::regex_search(text, std::regex("\n  slurm\\.job_id +" + job + "\n")));
  // Then as it does locally: the model, the image, the web service.
  CHECK(quickstart.Score(quickstart.Key()) == 200);
}

TEST_CASE("a sweep of 8 trials is 8 Slurm jobs, at most max_concurrent_trials at once", "[slurm]") {
  REQUIRE_CLUSTER();
  SpecDir dir;
  WriteCluster(dir.str());
  std::string spans = dir.str() + "/spans.txt";
  // Each trial appends when it started and ended (seconds since the epoch).
  dir.Write("src/trial.py",
            "import sys, time\nfrom amlc import run\nstart = time.time()\ntime.sleep(1.5)\n"
            "run.log('score', float(sys.argv[1]))\n"
            "open(sys.argv[2], 'a').write('%f %f\\n' % (start, time.time()))\n");
  dir.Write("sweep.yaml",
            "$schema: https://azuremlschemas.azureedge.net/latest/sweepJob.schema.json\n"
            "type: sweep\nname: tune\nexperiment_name: slurm-sweep\ncompute: azureml:cpu-cluster\n"
            "trial:\n  code: ./src\n  command: python trial.py ${{inputs.x}} " + spans + "\n"
            "  environment: azureml:py:1\n"
            "inputs:\n  x: ${{search_space.x}}\n"
            "search_space:\n  x:\n    type: choice\n    values: [1, 2, 3, 4, 5, 6, 7, 8]\n"
            "sampling_algorithm: grid\nobjective:\n  goal: maximize\n  primary_metric: score\n"
            "limits:\n  max_total_trials: 8\n  max_concurrent_trials: 3\n");
  std::string out;
  int status = Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out);
  INFO(out);
  REQUIRE(status == 0);
  std::set<std::string> jobs;
  for (const json& run : Runs(dir)) {
    if (run.value("parent", "").empty()) continue;
    CHECK(run.value("status", "") == "Completed");
    std::string job = Tag(Show(dir, run.value("id", "")), "slurm.job_id");
    CHECK(SlurmJob(job).state == "COMPLETED");
    jobs.insert(job);
  }
  CHECK(jobs.size() == 8);
  // The most trials running at one moment, from their own clocks.
  std::vector<std::pair<double, int>> events;
  std::istringstream in(ReadFile(spans));
  for (double start, end; in >> start >> end;) {
    events.push_back({start, 1});
    events.push_back({end, -1});
  }
  REQUIRE(events.size() == 16);
  std::sort(events.begin(), events.end());
  int running = 0, most = 0;
  for (const auto& [time, change] : events) most = std::max(most, running += change);
  CHECK(most <= 3);
  CHECK(most >= 1);
}

TEST_CASE("a pipeline's steps run as Slurm jobs wired output to input", "[slurm]") {
  REQUIRE_CLUSTER();
  SpecDir dir;
  WriteCluster(dir.str());
  WriteTwoStepPipeline(dir, "cpu-cluster", "slurm-pipes");
  std::string out;
  int status = Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out);
  INFO(out);
  REQUIRE(status == 0);
  int steps = 0;
  for (const json& run : Runs(dir)) {
    if (run.value("parent", "").empty()) continue;
    json shown = Show(dir, run.value("id", ""));
    CHECK(shown.value("compute", "") == "slurm");
    CHECK(SlurmJob(Tag(shown, "slurm.job_id")).state == "COMPLETED");
    ++steps;
    if (run.value("job", "").find("count") == std::string::npos) continue;
    std::string path = shown["outputs"]["n"].value("path", "");
    CHECK(ReadFile(path + "/count.txt") == "6\n");  // "HELLO\n"
  }
  CHECK(steps == 2);
}

TEST_CASE("a two-node pytorch-style job gets RANK, WORLD_SIZE and MASTER_ADDR and talks over TCP", "[slurm]") {
  REQUIRE_CLUSTER();
  SpecDir dir;
  WriteCluster(dir.str());
  // Rank 0 listens on MASTER_ADDR:MASTER_PORT; every other rank sends it its
  // rank; rank 0 writes the sum and the nodes it heard from.
  dir.Write("src/ddp.py", R"PY(
import os, socket, sys, time
rank, world = int(os.environ['RANK']), int(os.environ['WORLD_SIZE'])
addr, port = os.environ['MASTER_ADDR'], int(os.environ['MASTER_PORT'])
node = os.environ['SLURMD_NODENAME']
print('rank', rank, 'of', world, 'local', os.environ['LOCAL_RANK'], 'on', node, flush=True)
if rank == 0:
    server = socket.create_server((addr, port))
    total, nodes = 0, [node]
    for _ in range(world - 1):
        conn, _ = server.accept()
        value, peer = conn.makefile().readline().split()
        total += int(value); nodes.append(peer)
    open(os.path.join(sys.argv[1], 'sum.txt'), 'w').write('%d %s\n' % (total, ','.join(sorted(nodes))))
else:
    for attempt in range(600):
        try:
            conn = socket.create_connection((addr, port)); break
        except OSError:
            time.sleep(0.1)
    conn.sendall(('%d %s\n' % (rank * 10, node)).encode())
)PY");
  WriteJob(dir, "ddp", "python ddp.py ${{outputs.result}}",
           "outputs:\n  result:\nresources:\n  instance_count: 2\n"
           "distribution:\n  type: pytorch\n  process_count_per_instance: 1\n");
  std::string out;
  int status = Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out);
  INFO(out);
  json run = TopRun(dir);
  REQUIRE_FALSE(run.is_null());
  std::string logs = Logs(dir, run.value("id", ""));
  INFO(logs);
  REQUIRE(status == 0);
  json shown = Show(dir, run.value("id", ""));
  CHECK(Tag(shown, "slurm.nodes") == "node[1-2]");
  CHECK(ReadFile(shown["outputs"]["result"].value("path", "") + "/sum.txt") == "10 node1,node2\n");
  CHECK(logs.find("rank 1 of 2 local 0") != std::string::npos);
}

TEST_CASE("a Slurm run canceled with amlc runs cancel ends Canceled and its job CANCELLED", "[slurm]") {
  REQUIRE_CLUSTER();
  SpecDir dir;
  pid_t apply = 0;
  json shown = StartSlurmJob(dir, "long", "echo started; sleep 300\n", apply);
  std::string job = Tag(shown, "slurm.job_id");
  REQUIRE_FALSE(job.empty());
  // The job's output is in the run's log while it runs.
  CHECK(WaitFor([&] { return Logs(dir, shown.value("id", "")) == "started\n"; }, 60));
  REQUIRE(Run(Amlc("runs cancel " + shown.value("id", "") + " --workspace " + dir.str() + "/.amlc")) == 0);
  CHECK(WaitExit(apply) != 0);
  shown = Show(dir, shown.value("id", ""));
  CHECK(shown.value("status", "") == "Canceled");
  CHECK(shown.value("error", "") == "canceled by amlc runs cancel");
  CHECK(WaitFor([&] { return SlurmJob(job).state == "CANCELLED"; }, 60));
}

TEST_CASE("a Slurm run past limits.timeout is scancelled and ends Canceled", "[slurm]") {
  REQUIRE_CLUSTER();
  SpecDir dir;
  WriteCluster(dir.str());
  dir.Write("src/wait.sh", "sleep 300\n");
  WriteJob(dir, "slow", "sh wait.sh", "limits:\n  timeout: 3\n");
  std::string out;
  CHECK(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) != 0);
  json shown = Show(dir, TopRun(dir).value("id", ""));
  CHECK(shown.value("status", "") == "Canceled");
  CHECK(shown.value("error", "") == "timed out after 3 s");
  CHECK(WaitFor([&] { return SlurmJob(Tag(shown, "slurm.job_id")).state == "CANCELLED"; }, 60));
}

TEST_CASE("a Slurm run whose node dies ends Failed with NODE_FAIL, not requeued", "[slurm]") {
  REQUIRE_CLUSTER();
  SpecDir dir;
  pid_t apply = 0;
  json shown = StartSlurmJob(dir, "doomed", "sleep 300\n", apply);
  std::string node = Tag(shown, "slurm.nodes");
  REQUIRE(std::regex_match(node, std::regex("node[12]")));
  REQUIRE(Cluster("kill-node", node) == 0);
  // Slurm declares the node down after SlurmdTimeout (6 s here), then ends the job.
  CHECK(WaitExit(apply) != 0);
  shown = Show(dir, shown.value("id", ""));
  CHECK(shown.value("status", "") == "Failed");
  CHECK(shown.value("error", "").find("NODE_FAIL") != std::string::npos);
  CHECK(shown.value("error", "").find("lost a node") != std::string::npos);
  // Back in service; the job's orphaned script is killed when the node re-registers.
  CHECK(Cluster("start-node", node) == 0);
  CHECK(Cluster("wait-idle") == 0);
}

TEST_CASE("a Slurm run goes on to Completed while slurmctld restarts", "[slurm]") {
  REQUIRE_CLUSTER();
  SpecDir dir;
  std::string gate = dir.str() + "/gate";
  pid_t apply = 0;
  json shown = StartSlurmJob(dir, "gated", "echo waiting; while [ ! -e " + gate + " ]; do sleep 0.2; done; echo done\n", apply);
  REQUIRE_FALSE(Tag(shown, "slurm.job_id").empty());
  REQUIRE(Cluster("restart-ctld") == 0);
  dir.Write("gate", "");
  CHECK(WaitExit(apply) == 0);
  shown = Show(dir, shown.value("id", ""));
  CHECK(shown.value("status", "") == "Completed");
  CHECK(WaitFor([&] { return SlurmJob(Tag(shown, "slurm.job_id")).state == "COMPLETED"; }, 60));
  CHECK(Logs(dir, shown.value("id", "")) == "waiting\ndone\n");
}

TEST_CASE("after kill -9 of amlc apply, the next apply adopts the same Slurm job", "[slurm]") {
  REQUIRE_CLUSTER();
  SpecDir dir;
  WriteCluster(dir.str());
  std::string gate = dir.str() + "/gate";
  dir.Write("src/gated.py",
            "import os, time\nfrom amlc import run\nrun.log('step', 1)\n"
            "while not os.path.exists('" + gate + "'):\n    time.sleep(0.2)\nrun.log('step', 2)\n");
  WriteJob(dir, "adopted", "python gated.py");
  pid_t apply = StartApply(dir, dir.str() + "/apply.log");
  json shown = WaitRunning(dir);
  std::string run = shown.value("id", "");
  std::string job = Tag(shown, "slurm.job_id");
  REQUIRE_FALSE(job.empty());
  // Metrics reach the state store while the job runs.
  CHECK(WaitFor([&] { return Show(dir, run)["metrics"].value("step", 0.0) == 1.0; }, 60));
  kill(apply, SIGKILL);
  waitpid(apply, nullptr, 0);
  CHECK(SlurmJob(job).state == "RUNNING");  // the job outlives the apply that submitted it

  pid_t again = StartApply(dir, dir.str() + "/again.log");
  // The second apply has the lock once it ended the dead one's activities.
  CHECK(WaitFor([&] {
    json activities = AmlcJson(dir.str(), "activities");
    for (const json& a : activities) {
      if (a.value("status", "") == "Interrupted") return true;
    }
    return false;
  }, 60));
  CHECK(SlurmJob(job).state == "RUNNING");
  dir.Write("gate", "");
  CHECK(WaitExit(again) == 0);
  CHECK(ReadFile(dir.str() + "/again.log").find("run " + run + " Completed") != std::string::npos);
  json runs = Runs(dir);
  REQUIRE(runs.size() == 1);  // no second run, so no second submission
  shown = Show(dir, run);
  CHECK(shown.value("status", "") == "Completed");
  CHECK(Tag(shown, "slurm.job_id") == job);
  CHECK(shown["metrics"].value("step", 0.0) == 2.0);
  std::string named;
  Run("squeue -h -t all -n amlc-" + run + " -o %i", &named);
  CHECK(named == job + "\n");
}

TEST_CASE("two-node tensorflow and mpi jobs get TF_CONFIG and PMI's rank and size on each node", "[slurm]") {
  REQUIRE_CLUSTER();
  SpecDir dir;
  WriteCluster(dir.str());
  // Each worker writes the TF_CONFIG it was given, named by its own index.
  dir.Write("src/tf.py",
            "import json, os, sys\nconfig = json.loads(os.environ['TF_CONFIG'])\n"
            "path = os.path.join(sys.argv[1], 'worker-%d.json' % config['task']['index'])\n"
            "open(path, 'w').write(json.dumps(config, sort_keys=True))\n");
  dir.Write("src/pmi.sh", "echo \"$PMI_RANK $PMI_SIZE $SLURMD_NODENAME\" > \"$1/rank-$PMI_RANK.txt\"\n");
  const std::string two_nodes = "outputs:\n  result:\nresources:\n  instance_count: 2\n";
  WriteJob(dir, "tf", "python tf.py ${{outputs.result}}",
           two_nodes + "distribution:\n  type: tensorflow\n  worker_count: 2\n");
  WriteJob(dir, "mpi", "sh pmi.sh ${{outputs.result}}",
           two_nodes + "distribution:\n  type: mpi\n  process_count_per_instance: 1\n");
  std::string out;
  int status = Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out);
  INFO(out);
  REQUIRE(status == 0);
  std::map<std::string, std::string> results;  // job -> its output folder
  for (const json& run : Runs(dir)) {
    json shown = Show(dir, run.value("id", ""));
    CHECK(Tag(shown, "slurm.nodes") == "node[1-2]");
    std::string job = run.value("job", "");
    results[job.find("mpi") != std::string::npos ? "mpi" : "tf"] = shown["outputs"]["result"].value("path", "");
  }
  REQUIRE(results.size() == 2);
  std::set<std::string> workers;
  for (int index = 0; index < 2; ++index) {
    json config = json::parse(ReadFile(results["tf"] + "/worker-" + std::to_string(index) + ".json"), nullptr, false);
    REQUIRE(config.is_object());
    CHECK(config["task"] == json({{"type", "worker"}, {"index", index}}));
    REQUIRE(config["cluster"]["worker"].size() == 2);
    for (const json& worker : config["cluster"]["worker"]) workers.insert(worker.get<std::string>());
  }
  CHECK(workers.size() == 2);  // one address:port per worker, the same list for both
  CHECK(ReadFile(results["mpi"] + "/rank-0.txt") == "0 2 node1\n");
  CHECK(ReadFile(results["mpi"] + "/rank-1.txt") == "1 2 node2\n");
}

TEST_CASE("a Slurm run goes into its environment's image with podman, and its timeout removes the container",
          "[slurm][podman]") {
  REQUIRE_CLUSTER();
  BusyboxImage image;
  if (!image.missing().empty()) {
    WARN(image.missing() + "; not tested");
    return;
  }
  SpecDir dir;
  WriteCluster(dir.str());
  dir.Write("bb.yaml", "$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\n"
                       "name: bb\nversion: 1\nimage: " + BusyboxImage::name() + "\nrequire_image: true\n");
  dir.Write("data/words.txt", "three little words\n");
  // No python in the image: the metric is one tracking record written by the shell.
  dir.Write("src/run.sh",
            "cat /etc/amlc-image\ncat \"$1\"\n"
            "echo \"{\\\"t\\\":\\\"metric\\\",\\\"run\\\":\\\"$AMLC_RUN_ID\\\",\\\"name\\\":\\\"accuracy\\\","
            "\\\"step\\\":0,\\\"value\\\":0.91,\\\"ts\\\":$(date +%s)000}\" >> \"$AMLC_TRACKING_FILE\"\n"
            "echo weights > \"$2/model.txt\"\n");
  auto write_job = [&](const std::string& command, const std::string& extra) {
    dir.Write("job.yaml", "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
                          "type: command\nname: boxed\nexperiment_name: slurm-tests\ncompute: azureml:cpu-cluster\n"
                          "environment: azureml:bb:1\ncode: ./src\ncommand: " + command + "\n" + extra);
  };
  write_job("sh run.sh ${{inputs.words}} ${{outputs.model}}",
            "inputs:\n  words:\n    type: uri_file\n    path: ./data/words.txt\noutputs:\n  model:\n");
  std::string out;
  REQUIRE(Run(image.env() + Amlc("plan " + dir.str() + " 2>&1"), &out) == 0);
  CHECK(out.find("Warnings:") == std::string::npos);
  int status = Run(image.env() + Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out);
  INFO(out);
  REQUIRE(status == 0);
  json shown = Show(dir, TopRun(dir).value("id", ""));
  CHECK(shown.value("status", "") == "Completed");
  CHECK(SlurmJob(Tag(shown, "slurm.job_id")).state == "COMPLETED");
  CHECK(Logs(dir, shown.value("id", "")) == "inside the busybox image\nthree little words\n");
  CHECK(shown["metrics"].value("accuracy", 0.0) == Approx(0.91));
  CHECK(ReadFile(shown["outputs"]["model"].value("path", "") + "/model.txt") == "weights\n");

  write_job("echo started; sleep 120", "limits:\n  timeout: 3\n");
  CHECK(Run(image.env() + Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) != 0);
  shown = Show(dir, TopRun(dir).value("id", ""));
  CHECK(shown.value("status", "") == "Canceled");
  CHECK(shown.value("error", "") == "timed out after 3 s");
  // scancel signals the batch script, whose trap removes the container.
  CHECK(WaitFor([&] {
    std::string containers;
    image.Podman("ps --all --quiet", &containers);
    return containers.empty();
  }, 60));
}

namespace {

// Why the cluster has no accounting ("" when slurmdbd runs and sacct answers).
std::string AccountingMissing() {
  std::string missing = ReadFile(ClusterDir() + "/no-accounting");
  if (!missing.empty()) return "the test cluster has no Slurm accounting: " + missing;
  std::string out;
  if (Run("sacct -n -X -j 1 -o JobID 2>&1", &out) != 0) return "sacct does not answer: " + out;
  return "";
}

// Lowers the cluster's MinJobAge for one test, so slurmctld forgets a
// finished job within seconds; sets it back to 300 s however the test ends.
struct ShortJobMemory {
  ShortJobMemory() { REQUIRE(Cluster("set-min-job-age", "2") == 0); }
  ~ShortJobMemory() { Cluster("set-min-job-age", "300"); }
};

bool ControllerKnows(const std::string& job) { return Run("scontrol show job " + job + " >/dev/null 2>&1") == 0; }

}  // namespace

TEST_CASE("runs whose Slurm jobs ended and aged out of slurmctld while no amlc ran end from sacct's record",
          "[slurm]") {
  REQUIRE_CLUSTER();
  if (std::string why = AccountingMissing(); !why.empty()) {
    WARN(why + "; test skipped");
    return;
  }
  // Three runs on the cluster, each held by a gate; their applies are killed.
  //   done:    exits 0 and writes its exit_code file (amlc reads it; sacct names the node)
  //   killed:  its batch shell is killed with SIGKILL (an OOM killer, an admin), so no exit_code file
  //   exit3:   exits 3, and its exit_code file is lost (a shared folder that did not sync)
  SpecDir done, killed, exit3;
  std::map<std::string, SpecDir*> dirs = {{"done", &done}, {"killed", &killed}, {"exit3", &exit3}};
  std::map<std::string, json> shown;
  std::map<std::string, std::string> jobs;
  for (auto& [name, dir] : dirs) {
    std::string gate = dir->str() + "/gate";
    std::string then = name == "exit3" ? "exit 3" : name == "done" ? "echo done" : "sleep 300";
    pid_t apply = 0;
    shown[name] = StartSlurmJob(*dir, name, "echo waiting; while [ ! -e " + gate + " ]; do sleep 0.2; done; " + then + "\n",
                                apply);
    jobs[name] = Tag(shown[name], "slurm.job_id");
    REQUIRE_FALSE(jobs[name].empty());
    kill(apply, SIGKILL);
    waitpid(apply, nullptr, 0);
  }
  {
    ShortJobMemory short_memory;
    auto aged_from = std::chrono::steady_clock::now();
    done.Write("gate", "");
    exit3.Write("gate", "");
    REQUIRE(Run("scancel --batch --signal=KILL " + jobs["killed"]) == 0);
    // slurmctld purges finished jobs older than MinJobAge in its background
    // loop (about every 15 s here), after which only sacct knows them.
    for (auto& [name, job] : jobs) {
      INFO(name << ": Slurm job " << job);
      REQUIRE(WaitFor([&] { return !ControllerKnows(job); }, 120));
    }
    WARN("slurmctld forgot the three jobs in "
         << std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - aged_from).count()
         << " s");
  }
  // sacct alone now answers for them.
  slurm::Query asked = slurm::QueryJob(jobs["killed"]);
  REQUIRE(asked.answer == slurm::Answer::kKnown);
  CHECK(asked.job.state == "FAILED");
  CHECK(asked.job.signal == 9);
  asked = slurm::QueryJob(jobs["exit3"]);
  REQUIRE(asked.answer == slurm::Answer::kKnown);
  CHECK(asked.job.state == "FAILED");
  CHECK(asked.job.exit_code == 3);
  CHECK(asked.job.reason == "NonZeroExitCode");
  std::string exit_file = exit3.str() + "/.amlc/runs/" + shown["exit3"].value("id", "") + "/exit_code";
  REQUIRE(std::filesystem::exists(exit_file));
  std::filesystem::remove(exit_file);

  // The next apply of each workspace adopts its run (no new submission) and
  // ends it from what Slurm's accounting recorded.
  for (auto& [name, dir] : dirs) {
    INFO(name << ": Slurm job " << jobs[name]);
    std::string out;
    int code = Run(Amlc("apply --auto-approve " + dir->str() + " 2>&1"), &out);
    INFO(out);
    CHECK((code == 0) == (name == "done"));
    json runs = Runs(*dir);
    REQUIRE(runs.size() == 1);
    json run = Show(*dir, shown[name].value("id", ""));
    CHECK(Tag(run, "slurm.job_id") == jobs[name]);
    CHECK(std::regex_match(Tag(run, "slurm.nodes"), std::regex("node[12]")));
    std::string error = run.value("error", "");
    if (name == "done") {
      CHECK(run.value("status", "") == "Completed");
      CHECK(run.value("exit_code", -1) == 0);
      CHECK(Logs(*dir, run.value("id", "")) == "waiting\ndone\n");
    } else if (name == "killed") {
      CHECK(run.value("status", "") == "Failed");
      CHECK(run.value("exit_code", -1) == 128 + 9);
      CHECK(error == "Slurm job " + jobs[name] + " failed (FAILED) on " + Tag(run, "slurm.nodes") + "; exit code 0, signal 9");
    } else {
      CHECK(run.value("status", "") == "Failed");
      CHECK(run.value("exit_code", -1) == 3);
      CHECK(error == "Slurm job " + jobs[name] + " failed (FAILED, reason NonZeroExitCode) on " +
                         Tag(run, "slurm.nodes") + "; exit code 3");
    }
  }
}
