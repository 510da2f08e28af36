#ifndef AMLC_RUNTIME_WORKSPACE_PYTHON_MODULE_H_
#define AMLC_RUNTIME_WORKSPACE_PYTHON_MODULE_H_

#include <string>

namespace amlc::runtime {

/// The folder holding amlc's Python module, which runs, scoring workers and
/// images put on PYTHONPATH: $AMLC_PYTHON_DIR, else PREFIX/share/amlc/python
/// beside an installed binary (PREFIX/bin/amlc), else the source tree's python/.
std::string PythonModuleDir();

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_WORKSPACE_PYTHON_MODULE_H_
