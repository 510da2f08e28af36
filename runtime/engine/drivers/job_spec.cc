#include "runtime/engine/drivers/job_spec.h"

namespace amlc::runtime {

using compiler::ir::Graph;
using compiler::ir::Resource;
using compiler::ir::Value;

namespace {

// The expression inside "${{ EXPR }}" when `text` is one, else "".
std::string WholeExpression(const std::string& text) {
  if (text.size() <= 5 || text.rfind("${{", 0) != 0) return "";
  std::string expression = text.substr(3, text.find("}}") - 3);
  expression.erase(0, expression.find_first_not_of(' '));
  expression.erase(expression.find_last_not_of(' ') + 1);
  return expression;
}

// A step takes its component's fields and input defaults where it has none.
void MergeComponent(const Graph& graph, const Resource& job, Value& spec) {
  const Value* component = job.spec.Find("component");
  if (!component || !component->is_ref()) return;
  auto target = graph.Find(component->as_ref().target);
  if (!target) return;
  const Value& base = graph.resource(*target).spec;
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

// ${{parent.inputs.X}} and ${{parent.jobs.S.outputs.O}} in a step's inputs.
void BindParent(const Graph& graph, const Resource& job, Value& spec) {
  auto parent = graph.Find(job.parent);
  const Value* parent_inputs = parent ? graph.resource(*parent).spec.Find("inputs") : nullptr;
  Value* inputs = spec.Find("inputs");
  if (!inputs || !inputs->is_map()) return;
  Value resolved = Value::EmptyMap();
  for (const auto& [name, input] : inputs->entries()) {
    std::string expression = WholeExpression(input.is_string() ? input.as_string() : "");
    if (expression.rfind("parent.inputs.", 0) == 0 && parent_inputs) {
      const Value* value = parent_inputs->Find(expression.substr(14));
      resolved.Set(name, value ? *value : Value());
    } else if (expression.rfind("parent.jobs.", 0) == 0) {
      std::string rest = expression.substr(12);  // STEP.outputs.OUT
      std::string step = rest.substr(0, rest.find('.'));
      Value typed = Value::EmptyMap();
      typed.Set("type", Value::String("uri_folder"));
      typed.Set("path", Value::Reference({job.parent + "/" + step, rest.substr(step.size() + 1), false}));
      resolved.Set(name, typed);
    } else {
      resolved.Set(name, input);
    }
  }
  spec.Set("inputs", resolved);
  // Step outputs bound to the pipeline's (${{parent.outputs.X}}) are plain output folders.
  if (Value* outputs = spec.Find("outputs"); outputs && outputs->is_map()) {
    Value plain = Value::EmptyMap();
    for (const auto& [name, output] : outputs->entries()) plain.Set(name, output.is_string() ? Value() : output);
    spec.Set("outputs", plain);
  }
}

}  // namespace

Value TrialSpec(const Graph& graph, const Resource& sweep) {
  Value trial = Value::EmptyMap();
  if (const Value* inline_trial = sweep.spec.Find("trial"); inline_trial && inline_trial->is_map()) {
    trial = *inline_trial;
  } else if (inline_trial && inline_trial->is_ref()) {
    if (auto component = graph.Find(inline_trial->as_ref().target)) trial = graph.resource(*component).spec;
  }
  // The sweep's inputs (with ${{search_space.X}}) feed the trial's command.
  Value inputs = trial.Find("inputs") ? *trial.Find("inputs") : Value::EmptyMap();
  if (const Value* sweep_inputs = sweep.spec.Find("inputs"); sweep_inputs && sweep_inputs->is_map()) {
    for (const auto& [name, input] : sweep_inputs->entries()) inputs.Set(name, input);
  }
  trial.Set("inputs", inputs);
  for (const char* field : {"compute", "experiment_name"}) {
    if (!trial.Find(field) && sweep.spec.Find(field)) trial.Set(field, *sweep.spec.Find(field));
  }
  return trial;
}

Value EffectiveSpec(const Graph& graph, const Resource& job) {
  Value spec = job.spec;
  if (job.type == "sweep") {  // the trial's code, command and environment
    Value trial = TrialSpec(graph, job);
    for (const char* field : {"code", "command", "environment"}) {
      if (trial.Find(field)) spec.Set(field, *trial.Find(field));
    }
    return spec;
  }
  MergeComponent(graph, job, spec);
  if (!job.parent.empty()) BindParent(graph, job, spec);
  return spec;
}

}  // namespace amlc::runtime
