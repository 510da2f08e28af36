// Expression checks: every ${{...}} in a resource's strings must name
// something that exists where it is written. Commands see their own inputs
// and outputs; pipeline steps also see ${{parent.inputs.X}},
// ${{parent.outputs.X}} and their siblings' outputs
// (${{parent.jobs.STEP.outputs.X}}, which also orders the steps); sweeps see
// ${{search_space.X}}.
#include <algorithm>
#include <set>

#include "compiler/lower/template.h"
#include "compiler/sema/analyzer.h"
#include "compiler/support/spelling.h"

namespace amlc::compiler::sema {

namespace {

std::vector<std::string> Keys(const ir::Value* map) {
  std::vector<std::string> keys;
  if (map && map->is_map()) {
    for (const auto& [key, value] : map->entries()) keys.push_back(key);
  }
  return keys;
}

bool Contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string Trim(std::string text) {
  size_t begin = text.find_first_not_of(" \t");
  size_t end = text.find_last_not_of(" \t");
  return begin == std::string::npos ? "" : text.substr(begin, end - begin + 1);
}

}  // namespace

// What the expressions of one resource may name.
struct ExpressionScope {
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  std::vector<std::string> search_space;
  bool in_step = false;
  std::vector<std::string> parent_inputs;
  std::vector<std::string> parent_outputs;
  std::map<std::string, std::vector<std::string>> siblings;  // step -> its outputs
  std::map<std::string, size_t> sibling_index;               // step -> declared_ index
  bool sibling_outputs_known(const std::string& step) const {
    auto it = siblings.find(step);
    return it != siblings.end() && !it->second.empty();
  }
};

class ExpressionChecker {
 public:
  ExpressionChecker(const ExpressionScope& scope, const SourceManager& sources,
                    DiagnosticEngine& diagnostics)
      : scope_(scope), sources_(sources), diagnostics_(diagnostics) {}

  // Checks every string under `node`; fills `sibling_uses` with the steps named.
  void Walk(const ast::Node& node, std::vector<std::pair<std::string, SourceRange>>& sibling_uses) {
    switch (node.kind) {
      case ast::NodeKind::kScalar:
        if (lower::HasExpression(node.text) || node.text.find("$[[") != std::string::npos) {
          CheckString(node, sibling_uses);
        }
        break;
      case ast::NodeKind::kSequence:
        for (const ast::Node& item : node.items) Walk(item, sibling_uses);
        break;
      case ast::NodeKind::kMapping:
        for (const ast::Entry& entry : node.entries) {
          if (skip_jobs_ && entry.key == "jobs") continue;
          Walk(entry.value, sibling_uses);
        }
        break;
      default:
        break;
    }
  }

  void set_skip_jobs(bool skip) { skip_jobs_ = skip; }

 private:
  // The one parser (lower/template.h) splits the string; its problems and
  // each expression's names are reported here, at the expression.
  void CheckString(const ast::Node& node,
                   std::vector<std::pair<std::string, SourceRange>>& sibling_uses) {
    std::vector<lower::TemplateProblem> problems;
    auto locate = [&](size_t offset, size_t length) { return ExpressionRange(node, offset, length); };
    ir::Template parsed = lower::ParseTemplate(node.text, locate, problems);
    for (const lower::TemplateProblem& problem : problems) {
      diagnostics_.Error(DiagCode::kInvalidValue, locate(problem.offset, problem.length), problem.message)
          .Hint(problem.hint);
    }
    for (const ir::Expression* expression : ir::ExpressionsOf(parsed)) CheckOne(*expression, sibling_uses);
  }

  // The expression's own place in the file, so the caret underlines just it.
  SourceRange ExpressionRange(const ast::Node& node, size_t offset, size_t length) const {
    if (!node.range.valid()) return node.range;
    return ast::PartRange(node, sources_.contents(node.range.file), offset, length);
  }

  void Unknown(const ir::Expression& expression, const std::string& why, const std::vector<std::string>& names,
               const std::string& word) {
    diagnostics_.Error(DiagCode::kDanglingReference, expression.range,
                       "expression '" + Shown(expression) + "' " + why + DidYouMean(word, names));
  }

  // "${{inputs.x}}" whatever spaces it was written with.
  static std::string Shown(const ir::Expression& expression) {
    std::string text = expression.text.substr(3, expression.text.size() - 5);
    return "${{" + Trim(text) + "}}";
  }

  void CheckOne(const ir::Expression& expression, std::vector<std::pair<std::string, SourceRange>>& sibling_uses) {
    using Kind = ir::Expression::Kind;
    const std::string& name = expression.name;
    switch (expression.kind) {
      case Kind::kJobName:
      case Kind::kDefaultDatastore:
      case Kind::kDefaultCompute:
        return;
      case Kind::kInput:
      case Kind::kOutput:
      case Kind::kSearchSpace: {
        const auto& names = expression.kind == Kind::kInput    ? scope_.inputs
                            : expression.kind == Kind::kOutput ? scope_.outputs
                                                               : scope_.search_space;
        std::string noun = expression.kind == Kind::kInput    ? "input"
                           : expression.kind == Kind::kOutput ? "output"
                                                              : "search space entry";
        if (!Contains(names, name)) Unknown(expression, "names no declared " + noun + " '" + name + "'", names, name);
        return;
      }
      default:
        CheckParent(expression, sibling_uses);
    }
  }

  void CheckParent(const ir::Expression& expression, std::vector<std::pair<std::string, SourceRange>>& sibling_uses) {
    using Kind = ir::Expression::Kind;
    const std::string& name = expression.name;
    if (!scope_.in_step) {
      Unknown(expression, "uses 'parent', which only pipeline steps have", {}, "");
      return;
    }
    if (expression.kind == Kind::kParentInput || expression.kind == Kind::kParentOutput) {
      bool input = expression.kind == Kind::kParentInput;
      const auto& names = input ? scope_.parent_inputs : scope_.parent_outputs;
      if (!Contains(names, name)) {
        Unknown(expression, std::string("names no ") + (input ? "input" : "output") + " '" + name + "' of the pipeline",
                names, name);
      }
      return;
    }
    std::vector<std::string> steps;
    for (const auto& [step, outputs] : scope_.siblings) steps.push_back(step);
    auto step = scope_.siblings.find(expression.step);
    if (step == scope_.siblings.end()) {
      Unknown(expression, "names no step '" + expression.step + "' of the pipeline", steps, expression.step);
      return;
    }
    if (scope_.sibling_outputs_known(expression.step) && !Contains(step->second, name)) {
      Unknown(expression, "names no output '" + name + "' of step '" + expression.step + "'", step->second, name);
      return;
    }
    sibling_uses.emplace_back(expression.step, expression.range);
  }

  const ExpressionScope& scope_;
  const SourceManager& sources_;
  DiagnosticEngine& diagnostics_;
  bool skip_jobs_ = false;
};

namespace {

// A step's outputs: those it declares, plus its component's.
std::vector<std::string> StepOutputs(const ir::Value& step_spec, const ir::Value* component_spec) {
  std::vector<std::string> outputs = Keys(step_spec.Find("outputs"));
  if (component_spec) {
    for (const std::string& name : Keys(component_spec->Find("outputs"))) {
      if (!Contains(outputs, name)) outputs.push_back(name);
    }
  }
  return outputs;
}

}  // namespace

const ir::Value* Analyzer::ComponentOf(const Declared& step) const {
  for (const auto& [target, why] : step.edges) {
    if (declared_[target].resource.kind == "component") return &declared_[target].resource.spec;
  }
  return nullptr;
}

ExpressionScope Analyzer::ScopeOf(size_t index) const {
  const Declared& declared = declared_[index];
  const ir::Value& spec = declared.resource.spec;
  ExpressionScope scope;
  scope.inputs = Keys(spec.Find("inputs"));
  scope.outputs = Keys(spec.Find("outputs"));
  scope.search_space = Keys(spec.Find("search_space"));
  if (const ir::Value* component = ComponentOf(declared)) {
    for (const std::string& name : Keys(component->Find("inputs"))) {
      if (!Contains(scope.inputs, name)) scope.inputs.push_back(name);
    }
  }
  // Pipeline steps (split into resources) also see their pipeline and siblings.
  if (declared.resource.parent.empty()) return scope;
  const Declared& parent = declared_[by_id_.at(declared.resource.parent)];
  scope.in_step = true;
  scope.parent_inputs = Keys(parent.resource.spec.Find("inputs"));
  scope.parent_outputs = Keys(parent.resource.spec.Find("outputs"));
  for (const auto& [step_index, why] : parent.edges) {
    const Declared& sibling = declared_[step_index];
    // The pipeline's other edges (data, compute, experiment) are not steps.
    if (sibling.resource.parent != parent.resource.id()) continue;
    std::string step_name = sibling.resource.name.substr(parent.resource.name.size() + 1);
    // A step running a component that lives only in the workspace has outputs
    // we cannot see; leave its list empty so nothing is rejected for it.
    const ir::Value* component = ComponentOf(sibling);
    bool unknown = sibling.resource.spec.Find("component") && !component;
    scope.siblings[step_name] = unknown ? std::vector<std::string>{} : StepOutputs(sibling.resource.spec, component);
    scope.sibling_index[step_name] = step_index;
  }
  return scope;
}

void Analyzer::CheckExpressions(size_t index) {
  const Declared& declared = declared_[index];
  ExpressionScope scope = ScopeOf(index);
  ExpressionChecker checker(scope, specs_.sources(), diagnostics_);
  std::vector<std::pair<std::string, SourceRange>> sibling_uses;
  bool split_pipeline = declared.resource.kind == "job" && declared.resource.type == "pipeline" &&
                        declared.resource.parent.empty();
  checker.set_skip_jobs(split_pipeline || declared.resource.type == "pipeline");
  checker.Walk(*declared.body, sibling_uses);
  for (const auto& [step, range] : sibling_uses) {
    size_t target = scope.sibling_index.at(step);
    if (target == index) {
      diagnostics_.Error(DiagCode::kCycle, range,
                         "dependency cycle: step '" + step + "' reads its own output");
      continue;
    }
    PendingRef why;
    why.field = "inputs";
    why.range = range;
    declared_[index].edges.emplace_back(target, std::move(why));
  }
  if (declared.resource.kind == "component" && declared.resource.type == "pipeline") {
    CheckPipelineComponentSteps(index, scope);
  }
}

// A pipeline component's steps are checked in place: their scope is the component.
void Analyzer::CheckPipelineComponentSteps(size_t index, const ExpressionScope& component_scope) {
  const Declared& declared = declared_[index];
  const ast::Node* jobs = declared.body->Find("jobs");
  const ir::Value* jobs_spec = declared.resource.spec.Find("jobs");
  if (!jobs || !jobs_spec) return;
  ExpressionScope step_scope;
  step_scope.in_step = true;
  step_scope.parent_inputs = component_scope.inputs;
  step_scope.parent_outputs = component_scope.outputs;
  for (const auto& [name, step_spec] : jobs_spec->entries()) {
    step_scope.siblings[name] = StepOutputs(step_spec, nullptr);
  }
  for (const ast::Entry& entry : jobs->entries) {
    const ir::Value* step_spec = jobs_spec->Find(entry.key);
    ExpressionScope own = step_scope;
    if (step_spec) {
      own.inputs = Keys(step_spec->Find("inputs"));
      own.outputs = Keys(step_spec->Find("outputs"));
    }
    ExpressionChecker step_checker(own, specs_.sources(), diagnostics_);
    std::vector<std::pair<std::string, SourceRange>> ignored;
    step_checker.Walk(entry.value, ignored);
  }
}

}  // namespace amlc::compiler::sema
