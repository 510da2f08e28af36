// plan and apply end to end through the amlc binary, on real folders, real
// processes and a real SQLite state store.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/test_support.h"

using namespace amlc::testing;
namespace fs = std::filesystem;

namespace {

const char* kJob = "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n";

// The ids `amlc runs list --json OPTIONS` prints, in its order (newest first);
// with `top_level`, only runs without a parent.
std::vector<std::string> RunIds(const std::string& dir, const std::string& options = "",
                                bool top_level = false) {
  std::string out;
  Run(Amlc("runs list --json --workspace " + dir + "/.amlc " + options), &out);
  std::vector<std::string> ids;
  nlohmann::json runs = nlohmann::json::parse(out, nullptr, false);
  for (const auto& run : runs.is_array() ? runs : nlohmann::json::array()) {
    if (!top_level || run.value("parent", "").empty()) ids.push_back(run.value("id", ""));
  }
  return ids;
}

int RunCount(const std::string& dir, const std::string& status = "") {
  return static_cast<int>(RunIds(dir, status.empty() ? "" : "--status " + status).size());
}

// A `sleep` command no other process on the machine runs (other test trees may
// run this same test at once), so pgrep finds only this test's children.
std::string UniqueSleep(int seconds) {
  return "sleep " + std::to_string(seconds) + "." + std::to_string(getpid());
}

// A spec folder with one local compute, a python environment and the given jobs.
void WriteBase(SpecDir& dir) {
  dir.Write("compute.yaml", "$schema: compute.schema.json\nname: local\ntype: local\n");
  dir.Write("env.yaml", "$schema: environment.schema.json\nname: py\nversion: 1\npython: /usr/bin/python3\n");
}

}  // namespace

TEST_CASE("the quickstart trains once and a second apply changes nothing", "[apply]") {
  SpecDir dir;
  fs::copy(SourcePath("examples/quickstart"), dir.path(), fs::copy_options::recursive);
  fs::remove(dir.path() / "endpoint.yaml");  // services are tested in deploy_apply_test.cc
  fs::remove(dir.path() / "deployment.yaml");
  std::string out;
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  CHECK(out.find("Plan: 6 to add, 0 to change, 0 to destroy, 1 run to start.") != std::string::npos);
  CHECK(out.find("Apply complete: 7 succeeded, 0 failed, 0 skipped.") != std::string::npos);
  CHECK(RunCount(dir.str(), "Completed") == 1);
  std::string metrics;
  std::string runs;
  Run(Amlc("runs list --json --workspace " + dir.str() + "/.amlc"), &runs);
  CHECK(runs.find("\"accuracy\"") != std::string::npos);

  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  CHECK(out.find("No changes. The workspace matches the specs.") != std::string::npos);
  CHECK(RunCount(dir.str()) == 1);

  // One changed line of training code makes exactly one new run.
  std::ofstream(dir.path() / "src/train.py", std::ios::app) << "# a changed line\n";
  REQUIRE(Run(Amlc("plan " + dir.str()), &out) == 0);
  CHECK(out.find("> job/train-iris\n      code snapshot changed: 1 file\n") != std::string::npos);
  CHECK(out.find("Plan: 2 to add, 0 to change, 0 to destroy, 1 run to start.") != std::string::npos);
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  CHECK(RunCount(dir.str(), "Completed") == 2);
}

TEST_CASE("a failed run stops only what depends on it", "[apply]") {
  SpecDir dir;
  WriteBase(dir);
  dir.Write("src/ok.py", "print('fine')\n");
  dir.Write("src/bad.py", "import sys\nprint('about to fail', file=sys.stderr)\nsys.exit(3)\n");
  dir.Write("bad.yaml", std::string(kJob) + "name: bad\ncode: src\ncommand: python bad.py\n"
                        "environment: azureml:py:1\noutputs:\n  out:\n");
  dir.Write("after.yaml", std::string(kJob) + "name: after-bad\ncode: src\ncommand: python ok.py ${{inputs.d}}\n"
                          "inputs:\n  d:\n    type: uri_folder\n    path: azureml://jobs/bad/outputs/out\n");
  dir.Write("ok.yaml", std::string(kJob) + "name: ok\ncode: src\ncommand: python ok.py\nenvironment: azureml:py:1\n");
  std::string out;
  CHECK(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 1);
  CHECK(out.find("Apply finished with failures: 3 succeeded, 1 failed, 1 skipped.") != std::string::npos);
  CHECK(out.find("failed  job/bad: run bad-") != std::string::npos);
  CHECK(out.find("Failed: exit code 3; last lines of the log:\nabout to fail") != std::string::npos);
  CHECK(out.find("skipped job/after-bad: skipped: job/bad failed") != std::string::npos);
  CHECK(RunCount(dir.str(), "Completed") == 1);
  CHECK(RunCount(dir.str(), "Failed") == 1);
}

TEST_CASE("a run over its timeout is ended with its whole process group", "[apply]") {
  SpecDir dir;
  WriteBase(dir);
  dir.Write("src/x.txt", "x\n");
  const std::string sleep = UniqueSleep(31);
  dir.Write("slow.yaml", std::string(kJob) + "name: slow\ncode: src\n"
                         "command: sh -c '" + sleep + " & " + sleep + "; echo never'\nlimits:\n  timeout: 1\n");
  auto start = std::chrono::steady_clock::now();
  std::string out;
  CHECK(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 1);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(seconds < 10);
  CHECK(out.find("Canceled: timed out after 1 s") != std::string::npos);
  CHECK(RunCount(dir.str(), "Canceled") == 1);
  std::string processes;
  Run("pgrep -f '^" + sleep + "$' || true", &processes);
  CHECK(processes.empty());
}

TEST_CASE("a second apply waits for the workspace lock and gives up after --lock-timeout", "[apply]") {
  SpecDir dir;
  WriteBase(dir);
  dir.Write("src/x.txt", "x\n");
  dir.Write("slow.yaml", std::string(kJob) + "name: slow\ncode: src\ncommand: sleep 3\n");
  std::string first_out;
  std::thread first([&] { Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &first_out); });
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  std::string second;
  CHECK(Run(Amlc("apply --auto-approve --lock-timeout 1 " + dir.str() + " 2>&1"), &second) == 1);
  CHECK(second.find("another apply (pid") != std::string::npos);
  CHECK(second.find("gave up after 1 s") != std::string::npos);
  first.join();
  CHECK(first_out.find("Apply complete") != std::string::npos);
  CHECK(RunCount(dir.str()) == 1);
}

TEST_CASE("after kill -9 of apply mid-run the next apply neither repeats nor loses the run", "[apply]") {
  SpecDir dir;
  WriteBase(dir);
  dir.Write("src/work.sh", "sleep 2\necho finished > outputs/out/done.txt\n");
  dir.Write("job.yaml", std::string(kJob) + "name: work\ncode: src\ncommand: sh work.sh\noutputs:\n  out:\n");
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", (Amlc("apply --auto-approve " + dir.str()) + " > /dev/null 2>&1").c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait until the run is recorded as Running, then kill the apply (not the run).
  for (int i = 0; i < 100 && RunCount(dir.str(), "Running") == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(RunCount(dir.str(), "Running") == 1);
  std::string pids;
  Run("pgrep -f 'apply --auto-approve " + dir.str() + "'", &pids);
  for (size_t start = 0; start < pids.size();) {
    size_t end = pids.find('\n', start);
    kill(std::stoi(pids.substr(start, end - start)), SIGKILL);
    start = end == std::string::npos ? pids.size() : end + 1;
  }
  waitpid(pid, nullptr, 0);
  std::string out;
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  CHECK(out.find("in progress; apply waits for it") != std::string::npos);
  CHECK(RunCount(dir.str()) == 1);
  CHECK(RunCount(dir.str(), "Completed") == 1);
  std::string show;
  Run(Amlc("runs list --json --workspace " + dir.str() + "/.amlc"), &show);
  CHECK(show.find("done.txt") == std::string::npos);  // outputs are folders; check the file itself
  bool found = false;
  for (const auto& entry : fs::recursive_directory_iterator(dir.path() / ".amlc/datastore/runs")) {
    found = found || entry.path().filename() == "done.txt";
  }
  CHECK(found);
}

TEST_CASE("specs with errors are never applied", "[apply]") {
  SpecDir dir;
  dir.Write("job.yaml", std::string(kJob) + "name: j\ncomand: echo\n");
  std::string out;
  CHECK(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 1);
  CHECK(out.find("nothing was planned or applied") != std::string::npos);
  CHECK_FALSE(fs::exists(dir.path() / ".amlc"));
}

TEST_CASE("metrics tags and child runs logged by the script are recorded", "[apply]") {
  SpecDir dir;
  WriteBase(dir);
  dir.Write("src/log.py",
            "from amlc import Run\n"
            "run = Run.get_context()\n"
            "for i in range(5):\n    run.log('loss', 1.0 / (i + 1))\n"
            "run.tag('stage', 'test')\n"
            "with run.child_run('trial') as child:\n    child.log('score', 0.5)\n");
  dir.Write("job.yaml", std::string(kJob) + "name: logger\ncode: src\ncommand: python log.py\n"
                        "environment: azureml:py:1\n");
  std::string out;
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  std::string runs;
  Run(Amlc("runs list --json --workspace " + dir.str() + "/.amlc"), &runs);
  CHECK(runs.find("\"loss\": 0.2") != std::string::npos);
  CHECK(runs.find("\"score\": 0.5") != std::string::npos);
  CHECK(runs.find(".trial\"") != std::string::npos);
  CHECK(RunCount(dir.str(), "Completed") == 2);  // the run and its child
  std::string csv;
  std::string id = RunIds(dir.str(), "", /*top_level=*/true).at(0);
  REQUIRE(Run(Amlc("metrics " + id + " --csv --name loss --workspace " + dir.str() + "/.amlc"), &csv) == 0);
  CHECK(csv.find("name,step,value,timestamp\nloss,0,1,") == 0);
  CHECK(csv.find("loss,4,0.2,") != std::string::npos);
}

TEST_CASE("a job without code runs in an empty folder and --rerun forces a new run", "[apply]") {
  SpecDir dir;
  dir.Write("job.yaml", std::string(kJob) + "name: hello\ncommand: echo hello from amlc\n");
  std::string out;
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  CHECK(out.find("No changes.") != std::string::npos);
  REQUIRE(Run(Amlc("apply --auto-approve --rerun hello " + dir.str() + " 2>&1"), &out) == 0);
  CHECK(out.find("--rerun") != std::string::npos);
  CHECK(RunCount(dir.str(), "Completed") == 2);
  std::string id = RunIds(dir.str()).at(0);
  std::string log;
  REQUIRE(Run(Amlc("runs logs " + id + " --workspace " + dir.str() + "/.amlc"), &log) == 0);
  CHECK(log == "hello from amlc\n");
}

TEST_CASE("apply refuses to run unconfirmed when no one can answer", "[apply]") {
  SpecDir dir;
  dir.Write("job.yaml", std::string(kJob) + "name: hello\ncommand: echo hi\n");
  std::string out;
  CHECK(Run(Amlc("apply " + dir.str() + " < /dev/null 2>&1"), &out) == 2);
  CHECK(out.find("pass --auto-approve") != std::string::npos);
  CHECK(RunCount(dir.str()) == 0);
}

TEST_CASE("activities and snapshots as zip and cancel and destroy", "[apply]") {
  SpecDir dir;
  WriteBase(dir);
  dir.Write("src/train.py", "print('trained')\n");
  dir.Write("src/.amlignore", "data/\n");
  dir.Write("src/data/big.bin", "not snapshotted\n");
  dir.Write("job.yaml", std::string(kJob) + "name: train\ncode: src\ncommand: python train.py\n"
                        "environment: azureml:py:1\n");
  std::string out;
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  std::string ws = " --workspace " + dir.str() + "/.amlc";

  REQUIRE(Run(Amlc("activities --json" + ws), &out) == 0);
  CHECK(out.find("\"kind\": \"run\"") != std::string::npos);
  CHECK(out.find("\"resource\": \"job/train\"") != std::string::npos);
  CHECK(out.find("\"status\": \"Succeeded\"") != std::string::npos);

  std::string id = RunIds(dir.str()).at(0);
  std::string zip = dir.str() + "/code.zip";
  REQUIRE(Run(Amlc("runs snapshot " + id + " -o " + zip + ws), &out) == 0);
  std::string listing;
  REQUIRE(Run("unzip -Z1 " + zip, &listing) == 0);
  CHECK(listing.find("train.py") != std::string::npos);
  CHECK(listing.find("big.bin") == std::string::npos);  // left out by .amlignore

  // Cancel a running run: the whole process group ends, the run is Canceled.
  const std::string sleep = UniqueSleep(47);
  dir.Write("slow.yaml", std::string(kJob) + "name: slow\ncommand: " + sleep + "\n");
  std::thread apply([&] { Run(Amlc("apply --auto-approve " + dir.str() + " > /dev/null 2>&1")); });
  std::string slow;
  for (int i = 0; i < 100 && slow.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    for (const std::string& id : RunIds(dir.str(), "--status running")) {
      if (id.rfind("slow-", 0) == 0) slow = id;
    }
  }
  REQUIRE_FALSE(slow.empty());
  CHECK(Run(Amlc("runs cancel " + slow + ws), &out) == 0);
  apply.join();
  CHECK(RunCount(dir.str(), "Canceled") == 1);
  std::string processes;
  Run("pgrep -f '^" + sleep + "$' || true", &processes);
  CHECK(processes.empty());
  CHECK(Run(Amlc("runs cancel " + slow + ws + " 2>&1"), &out) == 1);
  CHECK(out.find("is Canceled, not running") != std::string::npos);

  // destroy removes what the specs created; run history stays.
  REQUIRE(Run(Amlc("destroy --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  CHECK(out.find("- job/train") != std::string::npos);
  CHECK(out.find("- compute/local") != std::string::npos);
  REQUIRE(Run(Amlc("plan " + dir.str()), &out) == 0);
  CHECK(out.find("+ compute/local") != std::string::npos);
  CHECK(RunCount(dir.str()) == 2);

  // --purge takes the run history too.
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  REQUIRE(Run(Amlc("destroy --auto-approve --purge " + dir.str() + " 2>&1"), &out) == 0);
  CHECK(RunCount(dir.str()) == 0);
  CHECK(fs::is_empty(dir.path() / ".amlc/runs"));
}

TEST_CASE("runs can be filtered and ordered by metrics and compared side by side", "[apply]") {
  SpecDir dir;
  WriteBase(dir);
  dir.Write("src/fit.py", "import sys\nfrom amlc import run\nrun.log('accuracy', float(sys.argv[1]))\n");
  for (const char* c : {"0.7", "0.95", "0.9"}) {
    std::string name = std::string("fit-") + (c + 2);
    dir.Write(name + ".yaml", std::string(kJob) + "name: " + name + "\nexperiment_name: sweep\ncode: src\n"
                                  "command: python fit.py ${{inputs.c}}\ninputs:\n  c: " + c +
                                  "\nenvironment: azureml:py:1\n");
  }
  std::string out;
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  std::string ws = " --workspace " + dir.str() + "/.amlc";
  REQUIRE(Run(Amlc("runs list --experiment sweep --where 'metrics.accuracy > 0.8' --order-by 'metrics.accuracy desc'" + ws),
              &out) == 0);
  size_t first = out.find("fit-95-"), second = out.find("fit-9-");
  CHECK(first != std::string::npos);
  CHECK(second != std::string::npos);
  CHECK(first < second);
  CHECK(out.find("fit-7-") == std::string::npos);
  CHECK(Run(Amlc("runs list --where 'accuracy high'" + ws + " 2>&1"), &out) == 2);
  CHECK(out.find("--where: expected a field such as metrics.NAME at column 1") != std::string::npos);

  std::vector<std::string> ids = RunIds(dir.str(), "--order-by 'metrics.accuracy asc'");
  REQUIRE(ids.size() == 3);
  REQUIRE(Run(Amlc("runs compare " + ids[0] + " " + ids[2] + ws), &out) == 0);
  CHECK(out.find("metrics.accuracy") != std::string::npos);
  CHECK(out.find("0.7 ") != std::string::npos);
  CHECK(out.find("0.95") != std::string::npos);
  CHECK(out.find("params.c") != std::string::npos);  // a literal input is a param
}

TEST_CASE("a saved plan is applied exactly and refused once the state moved on", "[apply]") {
  SpecDir dir;
  WriteBase(dir);
  dir.Write("job.yaml", std::string(kJob) + "name: hello\ncommand: echo hi\n");
  std::string plan_file = dir.str() + "/plan.json";
  std::string out;
  REQUIRE(Run(Amlc("plan " + dir.str() + " -out " + plan_file), &out) == 0);
  CHECK(out.find("Saved the plan to") != std::string::npos);
  std::string second_plan = dir.str() + "/plan2.json";
  REQUIRE(Run(Amlc("plan " + dir.str() + " --out=" + second_plan), &out) == 0);
  REQUIRE(Run(Amlc("apply --auto-approve " + plan_file + " 2>&1"), &out) == 0);
  CHECK(out.find("Apply complete: 3 succeeded") != std::string::npos);
  CHECK(RunCount(dir.str()) == 1);
  // The second saved plan was made before the first was applied.
  CHECK(Run(Amlc("apply --auto-approve " + second_plan + " 2>&1"), &out) == 1);
  CHECK(out.find("the workspace's state changed since the plan was made; run amlc plan again") !=
        std::string::npos);
  CHECK(RunCount(dir.str()) == 1);
}

TEST_CASE("a three-step pipeline reruns a changed step and its dependant only", "[apply][pipeline]") {
  SpecDir dir;
  dir.Write("prep/prep.sh", "mkdir -p \"$2\"; echo \"$1\" > \"$2/data.txt\"\n");
  dir.Write("train/train.sh", "mkdir -p \"$2\"; cat \"$1/data.txt\" | tr a-z A-Z > \"$2/model.txt\"\n");
  dir.Write("eval/eval.sh", "mkdir -p \"$2\"; wc -c < \"$1/model.txt\" > \"$2/score.txt\"\n");
  dir.Write("train-component.yaml",
            "$schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json\n"
            "name: trainer\nversion: 1\ncode: ./train\n"
            "command: sh train.sh ${{inputs.data}} ${{outputs.model}}\n"
            "inputs:\n  data:\n    type: uri_folder\noutputs:\n  model:\n    type: uri_folder\n");
  dir.Write("pipeline.yaml",
            "$schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json\n"
            "type: pipeline\nname: p\nexperiment_name: pipes\ninputs:\n  text: hello\n"
            "jobs:\n"
            "  prep:\n    code: ./prep\n    command: sh prep.sh ${{inputs.text}} ${{outputs.clean}}\n"
            "    inputs:\n      text: ${{parent.inputs.text}}\n    outputs:\n      clean:\n"
            "  train:\n    component: ./train-component.yaml\n"
            "    inputs:\n      data: ${{parent.jobs.prep.outputs.clean}}\n"
            "  eval:\n    code: ./eval\n    command: sh eval.sh ${{inputs.model}} ${{outputs.score}}\n"
            "    inputs:\n      model: ${{parent.jobs.train.outputs.model}}\n    outputs:\n      score:\n");
  std::string out;
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  CHECK(out.find("Apply complete") != std::string::npos);
  CHECK(RunCount(dir.str(), "Completed") == 4);  // three steps and the pipeline's own run
  bool scored = false;
  for (const auto& entry : fs::recursive_directory_iterator(dir.path() / ".amlc/datastore/runs")) {
    if (entry.path().filename() == "model.txt") {
      std::ifstream in(entry.path());
      std::string text;
      std::getline(in, text);
      CHECK(text == "HELLO");
    }
    scored = scored || entry.path().filename() == "score.txt";
  }
  CHECK(scored);

  REQUIRE(Run(Amlc("plan " + dir.str()), &out) == 0);
  CHECK(out.find("No changes.") != std::string::npos);

  std::ofstream(dir.path() / "train/train.sh", std::ios::app) << "echo retrained\n";
  REQUIRE(Run(Amlc("plan " + dir.str()), &out) == 0);
  CHECK(out.find("> job/p/train\n      code snapshot changed: 1 file") != std::string::npos);
  CHECK(out.find("> job/p/eval (known after apply)") != std::string::npos);
  CHECK(out.find("> job/p (known after apply)") != std::string::npos);
  CHECK(out.find("job/p/prep") == std::string::npos);
  CHECK(out.find("3 runs to start") != std::string::npos);
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  // train ran again; its output is byte for byte the same, so eval's key is
  // unchanged and it is up to date after all: one new step run, and a new
  // pipeline run made of the step runs.
  CHECK(out.find("job/p/eval (0.0s): up to date after all") != std::string::npos);
  CHECK(RunCount(dir.str(), "Completed") == 6);

  // A change to what train produces reruns train and eval; prep stays.
  dir.Write("train/train.sh", "mkdir -p \"$2\"; cat \"$1/data.txt\" | tr a-z A-Z | sed 's/$/!/' > \"$2/model.txt\"\n");
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  CHECK(out.find("job/p/eval (0.0s): up to date after all") == std::string::npos);
  CHECK(RunCount(dir.str(), "Completed") == 9);
  int preps = 0;
  for (const std::string& id : RunIds(dir.str())) preps += id.rfind("p.prep-", 0) == 0;
  CHECK(preps == 1);
}

TEST_CASE("a step's uri_file output bound to the pipeline's is a file path inside the output folder",
          "[apply][pipeline]") {
  SpecDir dir;
  WriteBase(dir);
  dir.Write("pipeline.yaml",
            "$schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json\n"
            "type: pipeline\nname: p\ncompute: azureml:local\n"
            "outputs:\n  output:\n    type: uri_file\n"
            "    path: azureml://datastores/workspaceblobstore/paths/${{name}}/hello_world.txt\n"
            "jobs:\n  hello:\n    command: echo world > ${{outputs.output}}\n"
            "    outputs:\n      output: ${{parent.outputs.output}}\n");
  std::string out;
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  INFO(out);
  std::vector<std::string> steps;
  for (const std::string& id : RunIds(dir.str())) {
    if (id.rfind("p.hello-", 0) == 0) steps.push_back(id);
  }
  REQUIRE(steps.size() == 1);
  fs::path written = dir.path() / ".amlc/datastore/runs" / steps[0] / "outputs/output/hello_world.txt";
  CHECK(ReadFile(written) == "world\n");
}

TEST_CASE("a step's empty `artifacts` output is its run's artifact root, outputs/ inside", "[apply][pipeline]") {
  SpecDir dir;
  WriteBase(dir);
  dir.Write("pipeline.yaml",
            "$schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json\n"
            "type: pipeline\nname: p\ncompute: azureml:local\n"
            "jobs:\n  hello:\n    command: echo world > ./outputs/world.txt\n"
            "    outputs:\n      artifacts:\n"
            "  reader:\n    command: cat ${{inputs.world}}/outputs/world.txt > ./outputs/copy.txt\n"
            "    inputs:\n      world: ${{parent.jobs.hello.outputs.artifacts}}\n");
  std::string out;
  int status = Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out);
  INFO(out);
  REQUIRE(status == 0);
  std::string reader;
  for (const std::string& id : RunIds(dir.str())) {
    if (id.rfind("p.reader-", 0) == 0) reader = id;
  }
  REQUIRE(!reader.empty());
  CHECK(ReadFile(dir.path() / ".amlc/datastore/runs" / reader / "outputs/copy.txt") == "world\n");
}

TEST_CASE("a sweep runs its trials as child runs and records the best", "[apply][sweep]") {
  SpecDir dir;
  WriteBase(dir);
  dir.Write("src/fit.py",
            "import sys\nfrom amlc import run\nlr, depth = float(sys.argv[1]), int(sys.argv[2])\n"
            "run.log('accuracy', 1.0 - abs(lr - 0.1) - 0.01 * depth)\n");
  dir.Write("sweep.yaml",
            "$schema: https://azuremlschemas.azureedge.net/latest/sweepJob.schema.json\n"
            "type: sweep\nname: tune\nexperiment_name: tuning\n"
            "trial:\n  code: ./src\n  command: python fit.py ${{inputs.lr}} ${{inputs.depth}}\n"
            "  environment: azureml:py:1\n"
            "inputs:\n  lr: ${{search_space.lr}}\n  depth: ${{search_space.depth}}\n"
            "search_space:\n  lr:\n    type: choice\n    values: [0.01, 0.1, 0.5]\n"
            "  depth:\n    type: choice\n    values: [1, 3]\n"
            "sampling_algorithm: grid\n"
            "objective:\n  goal: maximize\n  primary_metric: accuracy\n"
            "limits:\n  max_total_trials: 6\n  max_concurrent_trials: 2\n");
  std::string out;
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  CHECK(RunCount(dir.str(), "Completed") == 7);  // six trials and the sweep
  std::string runs;
  Run(Amlc("runs list --json --experiment tuning --workspace " + dir.str() + "/.amlc"), &runs);
  // lr 0.1, depth 1 is the best trial: accuracy 0.99.
  size_t parent = runs.find("\"best_trial\": \"tune-");
  REQUIRE(parent != std::string::npos);
  std::string best = runs.substr(parent + 15);
  best = best.substr(0, best.find('"'));
  std::string show;
  REQUIRE(Run(Amlc("runs show --json " + best + " --workspace " + dir.str() + "/.amlc"), &show) == 0);
  CHECK(show.find("\"lr\": 0.1") != std::string::npos);
  CHECK(show.find("\"depth\": 1") != std::string::npos);
  CHECK(show.find("\"accuracy\": 0.99") != std::string::npos);
  REQUIRE(Run(Amlc("plan " + dir.str()), &out) == 0);
  CHECK(out.find("No changes.") != std::string::npos);
}

TEST_CASE("search-space values written in a sweep's trial command reach the trial", "[apply][sweep]") {
  // Azure ML's own examples write ${{search_space.X}} in trial.command
  // (specs/job-sweep.md too); the values once arrived as empty strings.
  SpecDir dir;
  WriteBase(dir);
  dir.Write("src/train.py", "import sys\nfrom amlc import run\nprint('ARGS', sys.argv[1:])\n"
                            "run.log('loss', float(sys.argv[2]))\n");
  dir.Write("sweep.yaml",
            "$schema: https://azuremlschemas.azureedge.net/latest/sweepJob.schema.json\n"
            "type: sweep\nname: direct\nexperiment_name: direct\n"
            "trial:\n  code: ./src\n  environment: azureml:py:1\n  command: >-\n"
            "    python train.py --alpha ${{search_space.alpha}}\n"
            "    --kernel ${{search_space.kernel}} $[[--depth ${{inputs.depth}}]] --n ${{inputs.n}}\n"
            "inputs:\n  n: ${{search_space.n}}\n  depth:\n    type: integer\n    optional: true\n"
            "search_space:\n  alpha:\n    type: uniform\n    min_value: 0.5\n    max_value: 0.9\n"
            "  kernel:\n    type: choice\n    values: [rbf, linear]\n"
            "  n:\n    type: choice\n    values: [7]\n"
            "sampling_algorithm:\n  type: random\n  seed: 3\n"
            "objective:\n  goal: minimize\n  primary_metric: loss\n"
            "limits:\n  max_total_trials: 2\n  max_concurrent_trials: 1\n");
  std::string out;
  int status = Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out);
  INFO(out);
  REQUIRE(status == 0);
  CHECK(RunCount(dir.str(), "Completed") == 3);
  int trials = 0;
  for (const std::string& id : RunIds(dir.str())) {
    if (id.find(".trial-") == std::string::npos) continue;
    ++trials;
    std::string logs;
    REQUIRE(Run(Amlc("runs logs " + id + " --workspace " + dir.str() + "/.amlc"), &logs) == 0);
    INFO(logs);
    // ARGS ['--alpha', '0.6...', '--kernel', 'rbf', '--n', '7']: the optional depth is left out.
    size_t alpha = logs.find("ARGS ['--alpha', '0.");
    REQUIRE(alpha != std::string::npos);
    double value = std::stod(logs.substr(alpha + std::string("ARGS ['--alpha', '").size()));
    CHECK(value >= 0.5);
    CHECK(value <= 0.9);
    CHECK((logs.find("'--kernel', 'rbf', '--n', '7']") != std::string::npos ||
           logs.find("'--kernel', 'linear', '--n', '7']") != std::string::npos));
  }
  CHECK(trials == 2);
  REQUIRE(Run(Amlc("plan " + dir.str()), &out) == 0);
  CHECK(out.find("No changes.") != std::string::npos);
}

TEST_CASE("a compute target's max_concurrent bounds the runs on it", "[apply]") {
  SpecDir dir;
  dir.Write("compute.yaml", "$schema: compute.schema.json\nname: one-at-a-time\ntype: local\nmax_concurrent: 1\n");
  for (int i = 0; i < 3; ++i) {
    dir.Write("job" + std::to_string(i) + ".yaml",
              std::string(kJob) + "name: j" + std::to_string(i) + "\ncompute: azureml:one-at-a-time\n"
              "command: sh -c 'date +%s.%N > " + dir.str() + "/start" + std::to_string(i) +
                  "; sleep 0.5; date +%s.%N > " + dir.str() + "/end" + std::to_string(i) + "'\n");
  }
  std::string out;
  REQUIRE(Run(Amlc("apply --auto-approve -j 3 " + dir.str() + " 2>&1"), &out) == 0);
  std::vector<std::pair<double, double>> spans;
  for (int i = 0; i < 3; ++i) {
    double start = 0, end = 0;
    std::ifstream(dir.path() / ("start" + std::to_string(i))) >> start;
    std::ifstream(dir.path() / ("end" + std::to_string(i))) >> end;
    spans.emplace_back(start, end);
  }
  std::sort(spans.begin(), spans.end());
  CHECK(spans[1].first >= spans[0].second);  // never two at once
  CHECK(spans[2].first >= spans[1].second);
}

TEST_CASE("a sweep's bandit policy cancels a trial that falls behind", "[apply][sweep]") {
  SpecDir dir;
  WriteBase(dir);
  dir.Write("src/fit.py",
            // The poor trial logs until it is canceled (at most 120 s, so a
            // broken policy fails the test instead of hanging it); a fixed
            // length let it finish first on a loaded machine.
            "import sys, time\nfrom amlc import run\nquality = float(sys.argv[1])\n"
            "deadline = time.time() + (120 if quality < 0.5 else 3)\n"
            "while time.time() < deadline:\n    run.log('accuracy', quality)\n    run.flush()\n    time.sleep(0.1)\n");
  dir.Write("sweep.yaml",
            "$schema: https://azuremlschemas.azureedge.net/latest/sweepJob.schema.json\n"
            "type: sweep\nname: race\n"
            "trial:\n  code: ./src\n  command: python fit.py ${{inputs.q}}\n  environment: azureml:py:1\n"
            "inputs:\n  q: ${{search_space.q}}\n"
            "search_space:\n  q:\n    type: choice\n    values: [0.9, 0.1]\n"
            "sampling_algorithm: grid\n"
            "objective:\n  goal: maximize\n  primary_metric: accuracy\n"
            "limits:\n  max_total_trials: 2\n  max_concurrent_trials: 2\n"
            "early_termination:\n  type: bandit\n  slack_factor: 0.2\n  delay_evaluation: 3\n");
  std::string out;
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  std::string runs;
  Run(Amlc("runs list --json --workspace " + dir.str() + "/.amlc"), &runs);
  CHECK(runs.find("stopped early by the bandit policy") != std::string::npos);
  CHECK(RunCount(dir.str(), "Canceled") == 1);
  CHECK(RunCount(dir.str(), "Completed") == 2);  // the good trial and the sweep
  CHECK(runs.find("\"best_trial\": \"race-") != std::string::npos);
}

TEST_CASE("runs record the git commit of the specs and list their children and files", "[apply]") {
  SpecDir dir;
  WriteBase(dir);
  dir.Write("src/fit.py", "from amlc import run\nwith run.child_run('a') as c:\n    c.log('x', 1)\n");
  dir.Write("job.yaml", std::string(kJob) + "name: fit\ncode: src\ncommand: python fit.py\nenvironment: azureml:py:1\n");
  std::string commit;
  REQUIRE(Run("cd " + dir.str() + " && git init -q && git add -A && git -c user.name=t -c user.email=t@e "
              "commit -qm specs && git rev-parse HEAD", &commit) == 0);
  commit.pop_back();
  std::string out;
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  std::string parent = RunIds(dir.str(), "", /*top_level=*/true).at(0);
  std::string show;
  REQUIRE(Run(Amlc("runs show --json " + parent + " --workspace " + dir.str() + "/.amlc"), &show) == 0);
  CHECK(show.find("\"spec_commit\": \"" + commit + "\"") != std::string::npos);
  CHECK(show.find("\"children\": [\n    \"" + parent + ".a\"") != std::string::npos);
  std::string files;
  REQUIRE(Run(Amlc("runs snapshot " + parent + " --list --workspace " + dir.str() + "/.amlc"), &files) == 0);
  CHECK(files.find("  fit.py\n") != std::string::npos);
}

TEST_CASE("an environment from a requirements list runs in a cached venv", "[apply]") {
  SpecDir dir;
  dir.Write("env.yaml", "$schema: environment.schema.json\nname: reqs\nversion: 1\n"
                        "pip_requirements:\n  - scikit-learn>=1.0\n  - numpy\n");
  dir.Write("src/where.py", "import sys, sklearn\nprint(sys.prefix)\n");
  dir.Write("job.yaml", std::string(kJob) + "name: where\ncode: src\ncommand: python where.py\n"
                        "environment: azureml:reqs:1\n");
  std::string out;
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  std::string id = RunIds(dir.str()).at(0);
  std::string log;
  REQUIRE(Run(Amlc("runs logs " + id + " --workspace " + dir.str() + "/.amlc"), &log) == 0);
  CHECK(log.find(dir.str() + "/.amlc/envs/") == 0);  // the venv made for this environment
  int venvs = 0;
  for (const auto& entry : fs::directory_iterator(dir.path() / ".amlc/envs")) venvs += entry.is_directory();
  CHECK(venvs == 1);

  SpecDir missing;
  missing.Write("env.yaml", "$schema: environment.schema.json\nname: reqs\nversion: 1\n"
                            "pip_requirements:\n  - surely-not-installed-pkg==1.0\n  - numpy<1.0\n");
  missing.Write("job.yaml", std::string(kJob) + "name: j\ncommand: python -c 'print(1)'\nenvironment: azureml:reqs:1\n");
  CHECK(Run(Amlc("apply --auto-approve " + missing.str() + " 2>&1"), &out) == 1);
  CHECK(out.find("requirements not met") != std::string::npos);
  CHECK(out.find("surely-not-installed-pkg==1.0: not installed") != std::string::npos);
  CHECK(out.find("numpy<1.0: 1.") != std::string::npos);
}
