#include "runtime/workspace/python_module.h"

#include <cstdlib>
#include <map>
#include <mutex>

#include <sys/wait.h>

#include "base/process.h"

#ifndef AMLC_SOURCE_PYTHON_DIR
#define AMLC_SOURCE_PYTHON_DIR "python"
#endif

namespace amlc::runtime {

namespace {

// Whether `interpreter` imports a real mlflow (not ours: the probe runs
// without PYTHONPATH). A probe that cannot start counts as "no".
bool HasRealMlflow(const std::string& interpreter) {
  ProcessSpec spec;
  spec.argv = {interpreter.empty() ? "python3" : interpreter, "-c",
               "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('mlflow') else 1)"};
  std::map<std::string, std::string> env = {{"PYTHONPATH", ""}};
  spec.env = EnvironmentWith(env);
  spec.output_file = "/dev/null";
  spec.new_session = false;
  StatusOr<Process> process = Spawn(spec);
  if (!process.ok()) return false;
  StatusOr<int> status = process->Wait();
  return status.ok() && WIFEXITED(*status) && WEXITSTATUS(*status) == 0;
}

}  // namespace

std::string PythonModuleDir() {
  if (const char* dir = std::getenv("AMLC_PYTHON_DIR"); dir && *dir) return dir;
  return AMLC_SOURCE_PYTHON_DIR;
}

std::string PythonFallbackDir() { return PythonModuleDir() + "/fallback"; }

std::string RunPythonPath(const std::string& interpreter) {
  static std::mutex mutex;
  static std::map<std::string, bool> has_mlflow;
  bool real = false;
  {
    std::lock_guard lock(mutex);
    auto found = has_mlflow.find(interpreter);
    if (found != has_mlflow.end()) {
      real = found->second;
    } else {
      real = has_mlflow[interpreter] = HasRealMlflow(interpreter);
    }
  }
  return real ? PythonModuleDir() : PythonModuleDir() + ":" + PythonFallbackDir();
}

}  // namespace amlc::runtime
