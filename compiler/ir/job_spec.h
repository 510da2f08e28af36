#ifndef AMLC_COMPILER_IR_JOB_SPEC_H_
#define AMLC_COMPILER_IR_JOB_SPEC_H_

// A job as it runs, left in the IR by the lowering pass (compiler/lower/):
// its component's fields and input defaults applied, its inputs bound to
// the pipeline's inputs and sibling steps' outputs, and every ${{...}} it
// holds a typed Expression with its source location. The runtime reads
// these values; it never parses ${{ itself.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "compiler/ir/value.h"
#include "compiler/support/source_manager.h"

namespace amlc::compiler::ir {

/// One ${{...}} reference.
struct Expression {
  enum class Kind {
    kInput,             // ${{inputs.NAME}}
    kOutput,            // ${{outputs.NAME}}
    kSearchSpace,       // ${{search_space.NAME}}: a sweep trial's value
    kParentInput,       // ${{parent.inputs.NAME}}
    kParentOutput,      // ${{parent.outputs.NAME}}
    kParentStepOutput,  // ${{parent.jobs.STEP.outputs.NAME}}
    kJobName,           // ${{name}}
    kDefaultDatastore,  // ${{default_datastore}}
    kDefaultCompute,    // ${{default_compute}}
  };
  Kind kind = Kind::kInput;
  std::string name;   // the input, output or search-space entry named
  std::string step;   // kParentStepOutput: the sibling step
  std::string text;   // as written, "${{ inputs.lr }}"
  SourceRange range;  // where it is written
};

/// A piece of a Template: literal text, one expression, or an optional
/// segment ($[[ ... ]]) that is left out when an expression in it has no value.
struct TemplatePart {
  enum class Kind { kLiteral, kExpression, kOptional };
  Kind kind = Kind::kLiteral;
  std::string literal;
  Expression expression;
  std::vector<TemplatePart> optional;
};

/// A string with ${{...}} in it (a command), as literal and expression parts.
struct Template {
  std::string source;  // the text as written: what run keys and listings show
  std::vector<TemplatePart> parts;
};

/// What an expression stands for where a template is rendered; nullopt when
/// it has no value (an optional input not given).
using ExpressionValue = std::function<std::optional<std::string>(const Expression&)>;

/// The template's text with each expression replaced by its value. An
/// optional segment is left out when any expression in it has none; outside
/// one, an expression without a value renders as "" (the lowering rejects
/// the templates where that can happen).
std::string Render(const Template& text, const ExpressionValue& value);

/// Every expression of a template, optional segments included, in order.
std::vector<const Expression*> ExpressionsOf(const Template& text);

/// One input of a job as it runs.
struct JobInput {
  /// A literal (string, number, boolean), or a mapping ({type, path, mode,
  /// value, default}) whose path is a local path or URL string, or a Ref to
  /// an upstream job's output. Null while `binding` is set.
  Value value;
  /// Set when the input is a ${{search_space.NAME}} each trial binds.
  std::optional<Expression> binding;
  /// How the input was written before binding: `value`, or the binding's
  /// text (the sweep's own run record and run key show this).
  Value AsWritten() const { return binding ? Value::String(binding->text) : value; }
};

/// A job's effective spec. A command job's is its own; a pipeline step's
/// takes its component's command, code, environment, environment
/// variables, resources, outputs and input defaults where it has none of its
/// own; a sweep's takes its trial's code, command and environment; a sweep's
/// trial is its inline command or component with the sweep's inputs and
/// compute.
struct JobSpec {
  /// Every other field (code, environment, compute, environment_variables,
  /// resources, limits, outputs, ...), typed as in Resource::spec. It holds
  /// no "command" and no "inputs": those are below.
  Value fields = Value::EmptyMap();
  Template command;
  std::map<std::string, JobInput> inputs;
};

}  // namespace amlc::compiler::ir

#endif  // AMLC_COMPILER_IR_JOB_SPEC_H_
