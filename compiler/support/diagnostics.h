#ifndef AMLC_COMPILER_SUPPORT_DIAGNOSTICS_H_
#define AMLC_COMPILER_SUPPORT_DIAGNOSTICS_H_

#include <string>
#include <vector>

#include "compiler/support/source_manager.h"

namespace amlc::compiler {

enum class Severity { kError, kWarning, kNote };

/// Stable identifiers of what went wrong; shown in --json output so tools can
/// match on them without parsing messages.
enum class DiagCode {
  kSyntax,             // the file is not valid YAML / DSL
  kNotASpec,           // a YAML file that is no spec (no $schema, no type)
  kUnknownKind,        // $schema or type names no kind amlc knows
  kUnknownField,       // a field the kind does not have
  kMissingField,       // a required field is absent
  kType,               // a value of the wrong type
  kInvalidValue,       // right type, wrong value (negative count, bad duration, ...)
  kDuplicate,          // two resources (or keys) with one identity
  kDanglingReference,  // a reference to nothing
  kExternalReference,  // a reference to something not in these specs (warning)
  kCycle,              // a dependency cycle
  kMissingFile,        // a local path that does not exist
  kUnsupported,        // a real Azure ML feature amlc does not carry out
  kLimit,              // input too deeply nested or too large to process safely
  kOutsideRoot,        // a local path outside the spec folder and every allowed root
};

const char* DiagCodeName(DiagCode code);

/// One user-facing problem: what, where (a source range), and what to do
/// (a hint). Notes point at related places, e.g. "first defined here".
struct Diagnostic {
  Severity severity = Severity::kError;
  DiagCode code = DiagCode::kSyntax;
  SourceRange range;
  std::string message;
  std::string hint;
  std::vector<Diagnostic> notes;

  /// Adds a note and returns *this, so reports read as one expression.
  Diagnostic& Note(SourceRange where, std::string text);
  Diagnostic& Hint(std::string text);
};

/// Collects every diagnostic of a compilation. Phases report and go on, so a
/// user sees all problems of a run at once; callers check has_errors() at the
/// end of a phase.
class DiagnosticEngine {
 public:
  Diagnostic& Error(DiagCode code, SourceRange range, std::string message);
  Diagnostic& Warning(DiagCode code, SourceRange range, std::string message);

  bool has_errors() const { return error_count_ > 0; }
  int error_count() const { return error_count_; }
  int warning_count() const { return static_cast<int>(diagnostics_.size()) - error_count_; }
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

  /// Takes over every diagnostic of `other` (e.g. one file parsed on another thread).
  void Absorb(const DiagnosticEngine& other);

  /// Diagnostics ordered by file path, then position, then severity.
  std::vector<Diagnostic> Sorted(const SourceManager& sources) const;

 private:
  Diagnostic& Add(Severity severity, DiagCode code, SourceRange range, std::string message);
  std::vector<Diagnostic> diagnostics_;
  int error_count_ = 0;
};

struct RenderOptions {
  bool color = false;
};

/// clang-style text: "file:line:col: error: message", the source line, a caret
/// line under the whole range, then hint and notes.
std::string RenderDiagnostic(const SourceManager& sources, const Diagnostic& diagnostic,
                             const RenderOptions& options);

/// "2 errors, 1 warning" (empty when there are none).
std::string SummarizeCounts(int errors, int warnings);

}  // namespace amlc::compiler

#endif  // AMLC_COMPILER_SUPPORT_DIAGNOSTICS_H_
