#include "cli/output.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "compiler/ir/value.h"

namespace amlc::cli {

using compiler::Diagnostic;

bool ColorFor(int fd, bool no_color_flag) {
  const char* no_color = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  return !no_color_flag && isatty(fd) && !(no_color && *no_color) && !(term && std::string(term) == "dumb");
}

void PrintError(const std::string& message) { std::fprintf(stderr, "amlc: error: %s\n", message.c_str()); }

bool UseColor() { return ColorFor(STDERR_FILENO); }

namespace {

void AppendDiagnostic(const compiler::SourceManager& sources, const Diagnostic& d, std::string& out) {
  using compiler::ir::AppendJsonString;
  static const char* kSeverity[] = {"error", "warning", "note"};
  out += "{\"severity\":";
  AppendJsonString(out, kSeverity[static_cast<int>(d.severity)]);
  out += ",\"code\":";
  AppendJsonString(out, compiler::DiagCodeName(d.code));
  if (d.range.valid()) {
    compiler::LineColumn begin = sources.Resolve(d.range.file, d.range.begin);
    compiler::LineColumn end = sources.Resolve(d.range.file, d.range.end);
    out += ",\"file\":";
    AppendJsonString(out, sources.path(d.range.file));
    out += ",\"line\":" + std::to_string(begin.line) + ",\"column\":" + std::to_string(begin.column);
    out += ",\"end_line\":" + std::to_string(end.line) + ",\"end_column\":" + std::to_string(end.column);
  }
  out += ",\"message\":";
  AppendJsonString(out, d.message);
  if (!d.hint.empty()) {
    out += ",\"hint\":";
    AppendJsonString(out, d.hint);
  }
  out += ",\"notes\":[";
  for (size_t i = 0; i < d.notes.size(); ++i) {
    if (i) out += ',';
    AppendDiagnostic(sources, d.notes[i], out);
  }
  out += "]}";
}

}  // namespace

std::string DiagnosticsJson(const compiler::Compilation& compilation) {
  std::string out = "[";
  bool first = true;
  for (const Diagnostic& d : compilation.diagnostics.Sorted(compilation.sources)) {
    out += first ? "\n  " : ",\n  ";
    first = false;
    AppendDiagnostic(compilation.sources, d, out);
  }
  out += first ? "]" : "\n]";
  return out;
}

}  // namespace amlc::cli
