#ifndef AMLC_RUNTIME_WORKSPACE_PYTHON_MODULE_H_
#define AMLC_RUNTIME_WORKSPACE_PYTHON_MODULE_H_

#include <string>

namespace amlc::runtime {

/// The folder holding amlc's Python module, which runs, scoring workers and
/// images put on PYTHONPATH: $AMLC_PYTHON_DIR, else the source tree's python/.
std::string PythonModuleDir();

/// The folder of stand-ins for packages a run's interpreter may lack
/// (`mlflow`): PythonModuleDir()/fallback.
std::string PythonFallbackDir();

/// What a run's PYTHONPATH starts with: PythonModuleDir(), then
/// PythonFallbackDir() when `interpreter` ("" = python3 on PATH) cannot
/// import the real `mlflow`, so an installed MLflow always wins. The answer
/// is asked of the interpreter once per process and interpreter.
std::string RunPythonPath(const std::string& interpreter);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_WORKSPACE_PYTHON_MODULE_H_
