#include "runtime/workspace/python_module.h"

#include <cstdlib>
#include <filesystem>

#ifndef AMLC_SOURCE_PYTHON_DIR
#define AMLC_SOURCE_PYTHON_DIR "python"
#endif

namespace amlc::runtime {

namespace {

namespace fs = std::filesystem;

// An installed amlc (cmake --install, the .deb) keeps the module beside its
// prefix: PREFIX/bin/amlc and PREFIX/share/amlc/python/amlc.
std::string InstalledDir() {
  std::error_code error;
  fs::path self = fs::read_symlink("/proc/self/exe", error);
  if (error) return "";
  fs::path dir = self.parent_path().parent_path() / "share/amlc/python";
  return fs::exists(dir / "amlc/__init__.py", error) ? dir.string() : "";
}

}  // namespace

std::string PythonModuleDir() {
  if (const char* dir = std::getenv("AMLC_PYTHON_DIR"); dir && *dir) return dir;
  static const std::string installed = InstalledDir();
  return installed.empty() ? AMLC_SOURCE_PYTHON_DIR : installed;
}

std::string PythonFallbackDir() { return PythonModuleDir() + "/fallback"; }

std::string RunPythonPath() { return PythonModuleDir() + ":" + PythonFallbackDir(); }

}  // namespace amlc::runtime
