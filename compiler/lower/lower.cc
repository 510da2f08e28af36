#include "compiler/lower/lower.h"

#include <optional>

#include "compiler/lower/template.h"

namespace amlc::compiler::lower {

using ir::Expression;
using ir::JobInput;
using ir::JobSpec;
using ir::Resource;
using ir::TemplatePart;
using ir::Value;
using Kind = Expression::Kind;

namespace {

const ast::Node* Field(const ast::Node* node, std::string_view key) {
  return node && node->is_mapping() ? node->Find(key) : nullptr;
}

// `spec` without the fields JobSpec holds typed.
Value FieldsOf(const Value& spec) {
  Value fields = Value::EmptyMap();
  if (!spec.is_map()) return fields;
  for (const auto& [key, value] : spec.entries()) {
    if (key != "command" && key != "inputs") fields.Set(key, value);
  }
  return fields;
}

// Whether an input gives its job something to put in a command.
bool HasValue(const JobInput& input) {
  if (input.binding) return true;
  if (!input.value.is_map()) return !input.value.is_null();
  return input.value.Find("path") || input.value.Find("value") || input.value.Find("default");
}

// A step takes its component's fields and input defaults where it has none
// (the same rule pipeline steps always had, so their run keys stay).
void MergeComponent(const Value& base, Value& spec) {
  for (const char* field : {"command", "code", "environment", "environment_variables", "resources"}) {
    if (!spec.Find(field) && base.Find(field)) spec.Set(field, *base.Find(field));
  }
  Value inputs = spec.Find("inputs") ? *spec.Find("inputs") : Value::EmptyMap();
  if (const Value* declared = base.Find("inputs"); declared && declared->is_map()) {
    for (const auto& [name, input] : declared->entries()) {
      if (inputs.Find(name)) continue;
      const Value* fallback = input.is_map() ? input.Find("default") : &input;
      if (fallback) inputs.Set(name, *fallback);
    }
  }
  spec.Set("inputs", inputs);
  if (!spec.Find("outputs") && base.Find("outputs")) spec.Set("outputs", *base.Find("outputs"));
}

// Why an expression has no value in a command, or "" when it has one there.
std::string NoValueInCommand(const Expression& expression) {
  switch (expression.kind) {
    case Kind::kParentOutput:
    case Kind::kParentStepOutput:
      return "a step's command reads its own inputs and writes its own outputs: bind them in the step's "
             "inputs or outputs and use ${{inputs.X}} or ${{outputs.X}}";
    case Kind::kDefaultDatastore:
    case Kind::kDefaultCompute:
      return "it names a setting of Azure ML pipelines, for output paths; a command has no use for it";
    default:
      return "";
  }
}

// Lowers the jobs of one graph; see LowerJobs.
class Lowering {
 public:
  Lowering(ir::Graph& graph, const std::vector<const ast::Node*>& bodies, const SourceManager& sources,
           DiagnosticEngine& diagnostics)
      : graph_(graph), bodies_(bodies), sources_(sources), diagnostics_(diagnostics) {}

  void Lower(size_t index) {
    Resource& job = graph_.resource(index);
    if (job.kind != "job") return;
    if (job.type == "sweep") {
      LowerSweep(index);
    } else {
      job.effective = LowerCommand(index);
    }
  }

 private:
  // What the inputs of one job may be bound to.
  struct Scope {
    size_t job = 0;
    const Value* parent_inputs = nullptr;  // a pipeline step's pipeline's
    bool in_step = false;
    bool in_sweep = false;
  };

  const ast::Node* Body(size_t index) const { return index < bodies_.size() ? bodies_[index] : nullptr; }

  Locate LocateIn(const ast::Node* node, SourceRange fallback) const {
    return [this, node, fallback](size_t offset, size_t length) {
      if (!node || !node->is_scalar() || !node->range.valid()) return fallback;
      return ast::PartRange(*node, sources_.contents(node->range.file), offset, length);
    };
  }

  // Sema parsed and checked every template already; its problems are its own.
  ir::Template Parse(const std::string& text, const ast::Node* node, SourceRange fallback) const {
    std::vector<TemplateProblem> problems;
    return ParseTemplate(text, LocateIn(node, fallback), problems);
  }

  std::optional<size_t> Target(const Value* ref) const {
    if (!ref || !ref->is_ref() || ref->as_ref().external) return std::nullopt;
    return graph_.Find(ref->as_ref().target);
  }

  Scope ScopeOf(size_t index) const {
    const Resource& job = graph_.resource(index);
    Scope scope;
    scope.job = index;
    scope.in_sweep = job.type == "sweep";
    if (auto parent = job.parent.empty() ? std::nullopt : graph_.Find(job.parent)) {
      scope.in_step = true;
      scope.parent_inputs = graph_.resource(*parent).spec.Find("inputs");
    }
    return scope;
  }

  // A step without a compute of its own runs on its pipeline's
  // settings.default_compute, else on the pipeline's compute (as in Azure ML).
  const Value* PipelineCompute(const Resource& step) const {
    auto parent = graph_.Find(step.parent);
    if (!parent) return nullptr;
    const Value& pipeline = graph_.resource(*parent).spec;
    const Value* settings = pipeline.Find("settings");
    const Value* fallback = settings && settings->is_map() ? settings->Find("default_compute") : nullptr;
    return fallback ? fallback : pipeline.Find("compute");
  }

  // The pipeline's declaration of the output a step output binds with
  // "${{parent.outputs.X}}", or null (a plain folder) for anything else.
  Value BoundParentOutput(const Resource& step, const std::string& binding) const {
    std::vector<TemplateProblem> problems;
    ir::Template bound = ParseTemplate(binding, [](size_t, size_t) { return SourceRange{}; }, problems);
    if (bound.parts.size() != 1 || bound.parts[0].kind != TemplatePart::Kind::kExpression ||
        bound.parts[0].expression.kind != Kind::kParentOutput) {
      return Value();
    }
    auto parent = graph_.Find(step.parent);
    const Value* outputs = parent ? graph_.resource(*parent).spec.Find("outputs") : nullptr;
    const Value* declared = outputs && outputs->is_map() ? outputs->Find(bound.parts[0].expression.name) : nullptr;
    return declared && declared->is_map() ? *declared : Value();
  }

  JobSpec LowerCommand(size_t index);
  void LowerSweep(size_t index);
  std::map<std::string, JobInput> BindInputs(const Value* inputs, const ast::Node* nodes, const Scope& scope);
  JobInput BindInput(const std::string& name, const std::string& text, const ast::Node* node, const Scope& scope);
  void CheckCommand(const JobSpec& spec, const std::string& who, const std::vector<TemplatePart>& parts,
                    bool optional);

  ir::Graph& graph_;
  const std::vector<const ast::Node*>& bodies_;
  const SourceManager& sources_;
  DiagnosticEngine& diagnostics_;
};

JobSpec Lowering::LowerCommand(size_t index) {
  const Resource& job = graph_.resource(index);
  Value spec = job.spec;
  const ast::Node* command_node = Field(Body(index), "command");
  if (auto component = Target(job.spec.Find("component"))) {
    const Value& base = graph_.resource(*component).spec;
    if (!spec.Find("command")) command_node = Field(Body(*component), "command");
    MergeComponent(base, spec);
  }
  Scope scope = ScopeOf(index);
  JobSpec lowered;
  lowered.command = Parse(spec.StringAt("command"), command_node, job.range);
  lowered.inputs = BindInputs(spec.Find("inputs"), Field(Body(index), "inputs"), scope);
  // Step outputs bound to the pipeline's (${{parent.outputs.X}}) are the
  // step's own output folders, typed as the pipeline declares them: a
  // uri_file one is then handed to the command as a file path.
  if (Value* outputs = spec.Find("outputs"); outputs && outputs->is_map() && scope.in_step) {
    Value plain = Value::EmptyMap();
    for (const auto& [name, output] : outputs->entries()) {
      plain.Set(name, output.is_string() ? BoundParentOutput(job, output.as_string()) : output);
    }
    spec.Set("outputs", plain);
  }
  if (scope.in_step && !spec.Find("compute")) {
    if (const Value* compute = PipelineCompute(job)) spec.Set("compute", *compute);
  }
  lowered.fields = FieldsOf(spec);
  CheckCommand(lowered, (scope.in_step ? "step '" : "job '") + job.name + "'", lowered.command.parts, false);
  return lowered;
}

// A sweep runs its trial's code, command and environment; each trial gets
// the trial's inputs with the sweep's over them, and the sweep's compute.
void Lowering::LowerSweep(size_t index) {
  Resource& sweep = graph_.resource(index);
  const Value* trial_field = sweep.spec.Find("trial");
  Value trial_spec = trial_field && trial_field->is_map() ? *trial_field : Value::EmptyMap();
  const ast::Node* trial_body = Field(Body(index), "trial");
  if (auto component = Target(trial_field)) {
    trial_spec = graph_.resource(*component).spec;
    trial_body = Body(*component);
  }
  Scope scope = ScopeOf(index);
  const ast::Node* sweep_inputs = Field(Body(index), "inputs");
  JobSpec trial;
  trial.command = Parse(trial_spec.StringAt("command"), Field(trial_body, "command"), sweep.range);
  trial.inputs = BindInputs(trial_spec.Find("inputs"), Field(trial_body, "inputs"), scope);
  const std::map<std::string, JobInput> sweep_inputs_bound = BindInputs(sweep.spec.Find("inputs"), sweep_inputs, scope);
  for (const auto& [name, input] : sweep_inputs_bound) trial.inputs[name] = input;
  trial.fields = FieldsOf(trial_spec);
  for (const char* field : {"compute", "experiment_name"}) {
    if (!trial.fields.Find(field) && sweep.spec.Find(field)) trial.fields.Set(field, *sweep.spec.Find(field));
  }
  CheckCommand(trial, "the trial of sweep '" + sweep.name + "'", trial.command.parts, false);

  JobSpec effective;
  effective.fields = FieldsOf(sweep.spec);
  for (const char* field : {"code", "environment"}) {
    if (trial_spec.Find(field)) effective.fields.Set(field, *trial_spec.Find(field));
  }
  effective.command = trial.command;
  effective.inputs = sweep_inputs_bound;
  sweep.effective = std::move(effective);
  sweep.trial = std::move(trial);
}

std::map<std::string, JobInput> Lowering::BindInputs(const Value* inputs, const ast::Node* nodes,
                                                     const Scope& scope) {
  std::map<std::string, JobInput> bound;
  if (!inputs || !inputs->is_map()) return bound;
  for (const auto& [name, input] : inputs->entries()) {
    if (input.is_string() && HasExpression(input.as_string())) {
      bound[name] = BindInput(name, input.as_string(), Field(nodes, name), scope);
    } else {
      bound[name].value = input;
    }
  }
  return bound;
}

// An input written as one expression: the pipeline's input, a sibling
// step's output, or a search-space entry each trial binds.
JobInput Lowering::BindInput(const std::string& name, const std::string& text, const ast::Node* node,
                             const Scope& scope) {
  const Resource& job = graph_.resource(scope.job);
  SourceRange where = node ? node->range : job.range;
  ir::Template parsed = Parse(text, node, where);
  JobInput input;
  if (parsed.parts.size() != 1 || parsed.parts[0].kind != TemplatePart::Kind::kExpression) {
    input.value = Value::String(text);  // so the command using it is not reported too
    diagnostics_.Error(DiagCode::kInvalidValue, where, "input '" + name + "' mixes text and expressions")
        .Hint("an input bound to an expression is that expression alone, as in " + name +
              ": ${{parent.inputs." + name + "}}");
    return input;
  }
  const Expression& expression = parsed.parts[0].expression;
  if (expression.kind == Kind::kParentInput && scope.in_step) {
    const Value* value = scope.parent_inputs ? scope.parent_inputs->Find(expression.name) : nullptr;
    input.value = value ? *value : Value();
  } else if (expression.kind == Kind::kParentStepOutput && scope.in_step) {
    input.value = Value::EmptyMap();
    input.value.Set("type", Value::String("uri_folder"));
    input.value.Set("path", Value::Reference({job.parent + "/" + expression.step, "outputs." + expression.name, false}));
  } else if (expression.kind == Kind::kSearchSpace && scope.in_sweep) {
    input.binding = expression;
  } else if (expression.kind == Kind::kJobName) {
    input.value = Value::String(job.name);
  } else {
    input.value = Value::String(text);  // so the command using it is not reported too
    diagnostics_.Error(DiagCode::kInvalidValue, expression.range,
                       "expression '" + expression.text + "' has no value as input '" + name + "'")
        .Hint("an input is a literal, a path, ${{parent.inputs.X}} or ${{parent.jobs.STEP.outputs.X}} in a "
              "pipeline step, or ${{search_space.X}} in a sweep");
  }
  return input;
}

// Every expression a command renders outside $[[ ... ]] must have a value.
void Lowering::CheckCommand(const JobSpec& spec, const std::string& who, const std::vector<TemplatePart>& parts,
                            bool optional) {
  for (const TemplatePart& part : parts) {
    if (part.kind == TemplatePart::Kind::kOptional) CheckCommand(spec, who, part.optional, true);
    if (part.kind != TemplatePart::Kind::kExpression) continue;
    const Expression& expression = part.expression;
    if (std::string why = NoValueInCommand(expression); !why.empty()) {
      diagnostics_.Error(DiagCode::kInvalidValue, expression.range,
                         "expression '" + expression.text + "' has no value in a command")
          .Hint(why);
      continue;
    }
    if (expression.kind != Kind::kInput || optional) continue;
    auto input = spec.inputs.find(expression.name);
    if (input != spec.inputs.end() && HasValue(input->second)) continue;
    diagnostics_.Error(DiagCode::kMissingField, expression.range,
                       "expression '" + expression.text + "' has no value: " + who + " gives no input '" +
                           expression.name + "' and it has no default")
        .Hint("give " + expression.name + " in the job's inputs or a default in its component, or put the "
              "option in $[[ ... ]] so it is left out without one");
  }
}

}  // namespace

void LowerJobs(ir::Graph& graph, const std::vector<const ast::Node*>& bodies, const SourceManager& sources,
               DiagnosticEngine& diagnostics) {
  Lowering lowering(graph, bodies, sources, diagnostics);
  for (size_t i = 0; i < graph.size(); ++i) lowering.Lower(i);
}

}  // namespace amlc::compiler::lower
