#ifndef AMLC_RUNTIME_WORKSPACE_PYTHON_MODULE_H_
#define AMLC_RUNTIME_WORKSPACE_PYTHON_MODULE_H_

#include <string>

namespace amlc::runtime {

/// The folder holding amlc's Python module, which runs, scoring workers and
/// images put on PYTHONPATH: $AMLC_PYTHON_DIR, else PREFIX/share/amlc/python
/// beside an installed binary (PREFIX/bin/amlc), else the source tree's python/.
std::string PythonModuleDir();

/// The folder of stand-ins for packages a run's interpreter may lack
/// (`mlflow`): PythonModuleDir()/fallback. Each stand-in hands over to the
/// real package when the interpreter has one further along its path.
std::string PythonFallbackDir();

/// What a run's PYTHONPATH starts with: PythonModuleDir(), then PythonFallbackDir().
std::string RunPythonPath();

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_WORKSPACE_PYTHON_MODULE_H_
