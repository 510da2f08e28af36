#ifndef AMLC_CLI_OUTPUT_H_
#define AMLC_CLI_OUTPUT_H_

#include <string>

#include "compiler/compile.h"

namespace amlc::cli {

/// Process exit codes, the same for every command.
enum ExitCode { kExitOk = 0, kExitSpecErrors = 1, kExitUsage = 2 };

/// Whether stderr is a terminal that takes colour (and NO_COLOR is unset).
bool UseColor();

/// A compilation's diagnostics as a JSON array of objects (severity, code, file, line, column,
/// end_line, end_column, message, hint, notes).
std::string DiagnosticsJson(const compiler::Compilation& compilation);

}  // namespace amlc::cli

#endif  // AMLC_CLI_OUTPUT_H_
