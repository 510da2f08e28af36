#include "compiler/support/diagnostics.h"

#include <algorithm>
#include <tuple>

#include "base/utf8.h"

namespace amlc::compiler {

const char* DiagCodeName(DiagCode code) {
  switch (code) {
    case DiagCode::kSyntax: return "syntax";
    case DiagCode::kNotASpec: return "not-a-spec";
    case DiagCode::kUnknownKind: return "unknown-kind";
    case DiagCode::kUnknownField: return "unknown-field";
    case DiagCode::kMissingField: return "missing-field";
    case DiagCode::kType: return "type";
    case DiagCode::kInvalidValue: return "invalid-value";
    case DiagCode::kDuplicate: return "duplicate";
    case DiagCode::kDanglingReference: return "dangling-reference";
    case DiagCode::kExternalReference: return "external-reference";
    case DiagCode::kCycle: return "cycle";
    case DiagCode::kMissingFile: return "missing-file";
    case DiagCode::kUnsupported: return "unsupported";
    case DiagCode::kLimit: return "limit";
    case DiagCode::kOutsideRoot: return "outside-root";
  }
  return "unknown";
}

Diagnostic& Diagnostic::Note(SourceRange where, std::string text) {
  Diagnostic note;
  note.severity = Severity::kNote;
  note.code = code;
  note.range = where;
  note.message = std::move(text);
  notes.push_back(std::move(note));
  return *this;
}

Diagnostic& Diagnostic::Hint(std::string text) {
  hint = std::move(text);
  return *this;
}

Diagnostic& DiagnosticEngine::Add(Severity severity, DiagCode code, SourceRange range,
                                  std::string message) {
  Diagnostic diagnostic;
  diagnostic.severity = severity;
  diagnostic.code = code;
  diagnostic.range = range;
  diagnostic.message = std::move(message);
  diagnostics_.push_back(std::move(diagnostic));
  return diagnostics_.back();
}

Diagnostic& DiagnosticEngine::Error(DiagCode code, SourceRange range, std::string message) {
  ++error_count_;
  return Add(Severity::kError, code, range, std::move(message));
}

Diagnostic& DiagnosticEngine::Warning(DiagCode code, SourceRange range, std::string message) {
  return Add(Severity::kWarning, code, range, std::move(message));
}

void DiagnosticEngine::Absorb(const DiagnosticEngine& other) {
  diagnostics_.insert(diagnostics_.end(), other.diagnostics_.begin(), other.diagnostics_.end());
  error_count_ += other.error_count_;
}

std::vector<Diagnostic> DiagnosticEngine::Sorted(const SourceManager& sources) const {
  std::vector<Diagnostic> sorted = diagnostics_;
  auto key = [&](const Diagnostic& d) {
    static const std::string kEmpty;
    const std::string& path = d.range.valid() ? sources.path(d.range.file) : kEmpty;
    return std::tie(path, d.range.begin, d.severity);
  };
  std::stable_sort(sorted.begin(), sorted.end(),
                   [&](const Diagnostic& a, const Diagnostic& b) { return key(a) < key(b); });
  return sorted;
}

namespace {

const char* SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kError: return "error";
    case Severity::kWarning: return "warning";
    case Severity::kNote: return "note";
  }
  return "error";
}

const char* SeverityColor(Severity severity) {
  switch (severity) {
    case Severity::kError: return "\033[1;31m";
    case Severity::kWarning: return "\033[1;35m";
    case Severity::kNote: return "\033[1;36m";
  }
  return "";
}

// Long lines are cut around the range so the caret stays visible; the cut
// never splits a UTF-8 sequence.
constexpr size_t kMaxShownLine = 160;

void RenderSourceLines(const SourceManager& sources, const Diagnostic& d, bool color,
                       std::string& out) {
  LineColumn begin = sources.Resolve(d.range.file, d.range.begin);
  LineColumn end = sources.Resolve(d.range.file, std::max(d.range.end, d.range.begin));
  std::string_view line = sources.LineText(d.range.file, begin.line);
  size_t caret_begin = std::min<size_t>(begin.column - 1, line.size());
  // A range over several lines is underlined to the end of its first line.
  size_t caret_end = end.line == begin.line ? std::min<size_t>(end.column - 1, line.size())
                                            : line.size();
  if (caret_end <= caret_begin) caret_end = caret_begin + 1;

  size_t shown_begin = 0;
  if (line.size() > kMaxShownLine && caret_begin > kMaxShownLine / 2) {
    shown_begin = Utf8CharStart(line, caret_begin - kMaxShownLine / 2);
  }
  size_t shown_end = Utf8CharStart(line, std::min(line.size(), shown_begin + kMaxShownLine));
  if (shown_end < line.size() && shown_end <= shown_begin) shown_end = line.size();
  std::string_view shown = line.substr(shown_begin, shown_end - shown_begin);

  out += "  ";
  out += shown_begin > 0 ? "..." : "";
  out += shown;
  out += shown_end < line.size() ? "...\n" : "\n";

  std::string caret = "  ";
  caret += shown_begin > 0 ? "   " : "";
  for (size_t i = shown_begin; i < caret_begin && i < shown_end; ++i) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    if ((c & 0xC0) == 0x80) continue;  // one column per character
    caret += line[i] == '\t' ? '\t' : ' ';
  }
  if (color) caret += "\033[1;32m";
  caret += '^';
  for (size_t i = caret_begin + 1; i < caret_end && i < shown_end; ++i) {
    if ((static_cast<unsigned char>(line[i]) & 0xC0) != 0x80) caret += '~';
  }
  if (color) caret += "\033[0m";
  out += caret;
  out += '\n';
}

void RenderOne(const SourceManager& sources, const Diagnostic& d, bool color, std::string& out) {
  if (color) out += "\033[1m";
  if (d.range.valid()) {
    LineColumn where = sources.Resolve(d.range.file, d.range.begin);
    out += sources.path(d.range.file) + ":" + std::to_string(where.line) + ":" +
           std::to_string(where.column) + ": ";
  } else {
    out += "amlc: ";
  }
  if (color) out += SeverityColor(d.severity);
  out += SeverityName(d.severity);
  out += ": ";
  if (color) out += "\033[0m\033[1m";
  out += d.message;
  if (color) out += "\033[0m";
  out += '\n';
  if (d.range.valid()) RenderSourceLines(sources, d, color, out);
  if (!d.hint.empty()) out += "  hint: " + d.hint + "\n";
}

}  // namespace

std::string RenderDiagnostic(const SourceManager& sources, const Diagnostic& diagnostic,
                             const RenderOptions& options) {
  std::string out;
  RenderOne(sources, diagnostic, options.color, out);
  for (const Diagnostic& note : diagnostic.notes) RenderOne(sources, note, options.color, out);
  return out;
}

std::string SummarizeCounts(int errors, int warnings) {
  std::string out;
  auto plural = [](int n, const char* word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
  };
  if (errors > 0) out += plural(errors, "error");
  if (warnings > 0) out += (out.empty() ? "" : ", ") + plural(warnings, "warning");
  return out;
}

}  // namespace amlc::compiler
