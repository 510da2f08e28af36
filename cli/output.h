#ifndef AMLC_CLI_OUTPUT_H_
#define AMLC_CLI_OUTPUT_H_

#include <string>

#include "compiler/compile.h"

namespace amlc::cli {

/// Process exit codes, the same for every command. `plan --detailed-exitcode`
/// and `preview` use 2 for "changes present", as Terraform and Argo CD do; for
/// them every error, usage errors too, is 1. A workspace server's refusal
/// (401: no valid token; 403: the role needed is missing) is 3.
enum ExitCode { kExitOk = 0, kExitSpecErrors = 1, kExitUsage = 2, kExitChanges = 2, kExitDenied = 3 };

/// Whether output to `fd` may be coloured: it is a terminal, TERM is not
/// "dumb", NO_COLOR (https://no-color.org) is unset or empty, and the command
/// was not given --no-color (`no_color_flag`).
bool ColorFor(int fd, bool no_color_flag = false);
/// Whether stderr takes colour (ColorFor(stderr)).
bool UseColor();

/// "amlc: error: MESSAGE" on stderr.
void PrintError(const std::string& message);

/// A compilation's diagnostics as a JSON array of objects (severity, code, file, line, column,
/// end_line, end_column, message, hint, notes).
std::string DiagnosticsJson(const compiler::Compilation& compilation);

}  // namespace amlc::cli

#endif  // AMLC_CLI_OUTPUT_H_
