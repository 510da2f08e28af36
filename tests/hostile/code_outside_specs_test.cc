// A spec whose code folder points out of the spec folder (../outside_dir, an
// absolute path, ../../.. up to /) would have amlc snapshot another user's
// files, or /proc, into the datastore. validate and apply refuse it, naming
// the path and the setting that allows a root on purpose.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "tests/test_support.h"

using namespace amlc::testing;
namespace fs = std::filesystem;

namespace {

const char* kJob =
    "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
    "name: leak\ncompute: azureml:local\ncommand: ls\ncode: ";

// Files in the datastore's snapshot store: what apply would have copied.
int SnapshotFiles(const SpecDir& dir) {
  fs::path store = dir.path() / "specs/.amlc/datastore/snapshots";
  if (!fs::exists(store)) return 0;
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(store)) files += entry.is_regular_file();
  return files;
}

}  // namespace

TEST_CASE("code folders outside the spec folder are refused by validate and apply", "[hostile]") {
  SpecDir dir;
  dir.Write("outside_dir/private.txt", "not for the datastore\n");
  dir.Write("specs/compute.yaml", "$schema: compute.schema.json\nname: local\ntype: local\n");
  std::string specs = dir.str() + "/specs";
  const char* shapes[] = {"relative", "absolute", "up to /"};
  std::string codes[] = {"../outside_dir", dir.str() + "/outside_dir", "../../../../../../../../.."};
  for (int i = 0; i < 3; ++i) {
    const std::string& code = codes[i];
    DYNAMIC_SECTION("code: " << shapes[i]) {  // a stable name: the folder differs on every run
      dir.Write("specs/job.yaml", std::string(kJob) + code + "\n");
      std::string out;
      CHECK(Run("env -u AMLC_ALLOWED_ROOTS " + Amlc("validate " + specs + " 2>&1"), &out) == 1);
      CHECK(out.find("job.yaml:5:7: error: 'code' names '" + code + "'") != std::string::npos);
      CHECK(out.find("which is outside the spec folder") != std::string::npos);
      CHECK(out.find("Permission denied") == std::string::npos);
      CHECK(Run("env -u AMLC_ALLOWED_ROOTS " + Amlc("apply --auto-approve " + specs + " 2>&1"), &out) == 1);
      CHECK(out.find("nothing was planned or applied") != std::string::npos);
      CHECK(SnapshotFiles(dir) == 0);
    }
  }
}

TEST_CASE("AMLC_ALLOWED_ROOTS lets a named outside folder be snapshotted", "[hostile]") {
  SpecDir dir;
  dir.Write("outside_dir/private.txt", "shared on purpose\n");
  dir.Write("specs/compute.yaml", "$schema: compute.schema.json\nname: local\ntype: local\n");
  dir.Write("specs/job.yaml", std::string(kJob) + "../outside_dir\n");
  std::string specs = dir.str() + "/specs";
  std::string out;
  INFO(out);
  REQUIRE(Run("AMLC_ALLOWED_ROOTS=" + dir.str() + "/outside_dir " + Amlc("apply --auto-approve " + specs + " 2>&1"),
              &out) == 0);
  CHECK(SnapshotFiles(dir) >= 1);
}
