// Azure's curated environment names resolve through amlc's catalog (built
// in, overridable with $AMLC_CURATED_ENVIRONMENTS) to a local interpreter
// that has their packages, through the amlc binary on real runs.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "tests/test_support.h"

using namespace amlc::testing;
namespace fs = std::filesystem;

namespace {

void WriteJob(SpecDir& dir, const std::string& environment) {
  dir.Write("compute.yaml", "$schema: compute.schema.json\nname: local\ntype: local\n");
  dir.Write("src/which.py", "import sys, sklearn\nprint('PY', sys.executable)\n");
  dir.Write("job.yaml",
            "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
            "name: which\ncode: src\ncompute: azureml:local\ncommand: python which.py\n"
            "environment: " + environment + "\n");
}

// The interpreter the job's last run printed.
std::string RunPython(const SpecDir& dir) {
  std::string id, logs;
  Run(Amlc("runs list --json --workspace " + dir.str() + "/.amlc") + " | python3 -c "
          "'import json,sys; print(json.load(sys.stdin)[0][\"id\"])'",
      &id);
  Run(Amlc("runs logs " + id.substr(0, id.find('\n')) + " --workspace " + dir.str() + "/.amlc"), &logs);
  size_t at = logs.find("PY ");
  return at == std::string::npos ? "" : logs.substr(at + 3, logs.find('\n', at) - at - 3);
}

}  // namespace

TEST_CASE("curated environment names run with the catalog's interpreter, without a warning",
          "[apply][curated]") {
  for (const char* name : {"azureml:AzureML-sklearn-1.5@latest",
                           "azureml://registries/azureml/environments/sklearn-1.5/labels/latest"}) {
    SpecDir dir;
    WriteJob(dir, name);
    std::string out;
    REQUIRE(Run(Amlc("validate " + dir.str() + " 2>&1"), &out) == 0);
    CHECK(out.find("environment") == std::string::npos);  // no "not defined" warning
    int status = Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out);
    INFO(out);
    REQUIRE(status == 0);
    CHECK(RunPython(dir) == "/usr/bin/python3");
  }
}

TEST_CASE("the curated catalog is overridden by $AMLC_CURATED_ENVIRONMENTS and says what is missing",
          "[apply][curated]") {
  SpecDir dir;
  WriteJob(dir, "azureml:AzureML-sklearn-1.5@latest");
  fs::create_directories(dir.path() / "bin");
  fs::create_symlink("/usr/bin/python3", dir.path() / "bin/sk15");
  std::string catalog = (dir.path() / "bin/catalog.json").string();
  dir.Write("bin/catalog.json", "{\"sklearn-*\": {\"python\": \"" + (dir.path() / "bin/sk15").string() +
                                    "\", \"modules\": [\"sklearn\"]}}");
  std::string env = "AMLC_CURATED_ENVIRONMENTS=" + catalog + " ";
  std::string out;
  REQUIRE(Run(env + Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  CHECK(RunPython(dir) == (dir.path() / "bin/sk15").string());
  REQUIRE(Run(env + Amlc("plan " + dir.str()), &out) == 0);
  CHECK(out.find("No changes.") != std::string::npos);
  // Another mapping is another environment: the run key changes.
  REQUIRE(Run(Amlc("plan " + dir.str()), &out) == 0);
  CHECK(out.find("environment changed") != std::string::npos);

  dir.Write("bin/catalog.json", "{\"sklearn-1.5\": {\"python\": \"/usr/bin/python3\", "
                                "\"modules\": [\"sklearn\", \"no_such_module_here\"]}}");
  CHECK(Run(env + Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) != 0);
  CHECK(out.find("curated environment 'sklearn-1.5' (" + catalog + " catalog): /usr/bin/python3 cannot import "
                 "no_such_module_here") != std::string::npos);

  WriteJob(dir, "azureml:AzureML-quantum-0.1@latest");
  CHECK(Run(Amlc("plan " + dir.str() + " 2>&1"), &out) != 0);
  CHECK(out.find("curated environment 'quantum-0.1' is not in amlc's catalog") != std::string::npos);
}
