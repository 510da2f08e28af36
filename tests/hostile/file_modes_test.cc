// Another user on the machine reading a workspace: state.db, desired.json
// and telemetry hold environment values and request bodies. After a
// quickstart apply under a permissive umask, nothing in the workspace is
// open to group or others; an older, looser workspace is narrowed when its
// owner opens it, with a note.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "tests/test_support.h"

using namespace amlc::testing;
namespace fs = std::filesystem;

namespace {

unsigned Mode(const fs::path& path) {
  struct stat info {};
  if (lstat(path.c_str(), &info) != 0) return 07777;
  return info.st_mode & 07777;
}

// Holds the umask at `mask` for the scope (the amlc processes inherit it).
class Umask {
 public:
  explicit Umask(mode_t mask) : before_(umask(mask)) {}
  ~Umask() { umask(before_); }

 private:
  mode_t before_;
};

}  // namespace

TEST_CASE("a fresh workspace is owner-only after a quickstart apply, whatever the umask", "[hostile]") {
  Umask open_umask(0);  // the loosest: every mode is as amlc asked for it
  QuickstartFolder quickstart;
  std::string out;
  INFO(out);
  REQUIRE(quickstart.Apply(&out) == 0);
  std::string key = quickstart.Key();
  REQUIRE(quickstart.Score(key) == 200);  // a request, so telemetry has a record
  fs::path home = quickstart.dir().path() / ".amlc";
  CHECK(Mode(home) == 0700);
  for (const char* name : {"state.db", "state.db-wal", "state.db-shm"}) {
    if (fs::exists(home / name)) CHECK(Mode(home / name) == 0600);
  }
  fs::path endpoint = home / "endpoints/iris";
  REQUIRE(fs::exists(endpoint / "desired.json"));
  CHECK(Mode(endpoint / "desired.json") == 0600);
  REQUIRE(fs::exists(endpoint / "telemetry/blue.jsonl"));
  CHECK(Mode(endpoint / "telemetry/blue.jsonl") == 0600);
  for (const char* folder : {"datastore", "datastore/snapshots", "runs"}) CHECK(Mode(home / folder) == 0700);
}

TEST_CASE("an existing workspace open to others is narrowed when its owner opens it, with a note", "[hostile]") {
  SpecDir dir;
  dir.Write("compute.yaml", "$schema: compute.schema.json\nname: local\ntype: local\n");
  std::string out;
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  fs::path home = dir.path() / ".amlc";
  fs::permissions(home, fs::perms(0755));
  fs::permissions(home / "state.db", fs::perms(0644));
  REQUIRE(Run(Amlc("activities --workspace " + home.string() + " 2>&1"), &out) == 0);
  CHECK(out.find("amlc: note: made owner-only") != std::string::npos);
  CHECK(out.find(home.string() + " (was 0755)") != std::string::npos);
  CHECK(out.find("state.db (was 0644)") != std::string::npos);
  CHECK(Mode(home) == 0700);
  CHECK(Mode(home / "state.db") == 0600);
  REQUIRE(Run(Amlc("activities --workspace " + home.string() + " 2>&1"), &out) == 0);
  CHECK(out.find("amlc: note:") == std::string::npos);  // said once, when it changed something
}
