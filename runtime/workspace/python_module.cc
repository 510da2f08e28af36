#include "runtime/workspace/python_module.h"

#include <cstdlib>

#ifndef AMLC_SOURCE_PYTHON_DIR
#define AMLC_SOURCE_PYTHON_DIR "python"
#endif

namespace amlc::runtime {

std::string PythonModuleDir() {
  if (const char* dir = std::getenv("AMLC_PYTHON_DIR"); dir && *dir) return dir;
  return AMLC_SOURCE_PYTHON_DIR;
}

std::string PythonFallbackDir() { return PythonModuleDir() + "/fallback"; }

std::string RunPythonPath() { return PythonModuleDir() + ":" + PythonFallbackDir(); }

}  // namespace amlc::runtime
