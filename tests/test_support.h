#ifndef AMLC_TESTS_TEST_SUPPORT_H_
#define AMLC_TESTS_TEST_SUPPORT_H_

#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "compiler/compile.h"

namespace amlc::testing {

/// A temporary folder of spec files, removed when the object goes.
class SpecDir {
 public:
  SpecDir();
  ~SpecDir();
  /// Writes `contents` to `relative` (folders are created).
  void Write(const std::string& relative, const std::string& contents);
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

/// Compiles a folder (or file) on disk.
std::unique_ptr<compiler::Compilation> CompilePath(const std::string& path);
/// Compiles the given files, written to a fresh folder.
std::unique_ptr<compiler::Compilation> CompileFiles(const std::map<std::string, std::string>& files);
/// All diagnostics, rendered without colour.
std::string Rendered(const compiler::Compilation& compilation);
/// "file:line:col: code" for every error, sorted: a compact form for asserts.
std::vector<std::string> ErrorLocations(const compiler::Compilation& compilation);
/// Runs a shell command, returns its exit status and fills `output` with stdout.
int Run(const std::string& command, std::string* output = nullptr);
/// Path of a file in the source tree.
std::string SourcePath(const std::string& relative);
/// The command line running the amlc binary under test with `args`.
std::string Amlc(const std::string& args);
/// `amlc ARGS --json --workspace DIR/.amlc` parsed; null when it fails.
nlohmann::json AmlcJson(const std::string& dir, const std::string& args);
/// A file's whole contents ("" when it cannot be read).
std::string ReadFile(const std::filesystem::path& path);
/// Where the servers tests share write their addresses ($AMLC_TEST_SERVERS_DIR,
/// else the build's test-servers folder); ctest's fixtures start them.
std::string TestServersDir();
/// The address of a test server ("registry", "registry-basic", "registry-tls",
/// "registry-token"); fails the test, saying how to start them, when absent.
std::string TestServerAddress(const std::string& name);

/// The quickstart (examples/quickstart) copied to a fresh folder, to apply
/// through the amlc binary. The endpoint host is stopped when the object
/// goes (destroy), so no process outlives the test.
class QuickstartFolder {
 public:
  QuickstartFolder();
  ~QuickstartFolder();
  const SpecDir& dir() const { return dir_; }
  std::string str() const { return dir_.str(); }

  /// `amlc apply --auto-approve`'s exit status; its output in `out`.
  int Apply(std::string* out);
  /// The primary key of deployment blue.
  std::string Key();
  std::string ScoringUri();
  /// curl's status code (and body in `body`) for the sample scoring request.
  int Score(const std::string& key, std::string* body = nullptr);

 private:
  SpecDir dir_;
};

/// Writes a two-step pipeline `p` (experiment `experiment`) on compute
/// `compute`: step prep upper-cases its text input ("hello") into output
/// clean; step count prints "input PATH" (the folder it got) and writes the
/// byte count of clean.txt ("6\n") into output n.
void WriteTwoStepPipeline(SpecDir& dir, const std::string& compute, const std::string& experiment);

/// A podman store of the test's own (removed with it) holding a tiny image
/// made from busybox: `name()`, whose /etc/amlc-image reads "inside the
/// busybox image\n" and which has sh, echo, cat, date and sleep (no python).
class BusyboxImage {
 public:
  BusyboxImage();
  ~BusyboxImage();
  /// Why there is no image ("" when there is): podman or busybox-static is
  /// missing, or podman cannot run here.
  const std::string& missing() const { return missing_; }
  /// The variables that point amlc (and scripts/podman.sh) at this store, to put before a command.
  std::string env() const;
  /// scripts/podman.sh with this store and `args`; its output in `out`.
  int Podman(const std::string& args, std::string* out = nullptr) const;
  static std::string name() { return "localhost/amlc-test-busybox:1"; }

 private:
  SpecDir store_;
  std::string missing_;
};

}  // namespace amlc::testing

#endif  // AMLC_TESTS_TEST_SUPPORT_H_
