// The lowering pass (compiler/lower/): each job's effective spec in the IR,
// with component defaults applied and ${{...}} as typed expressions, and the
// commands that would run with a value missing as caret diagnostics.
#include <catch2/catch.hpp>

#include <filesystem>

#include "compiler/lower/template.h"
#include "tests/test_support.h"

using namespace amlc::compiler;
using namespace amlc::testing;
using Kind = ir::Expression::Kind;

namespace {

const char* kPipeline = "$schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json\n";
const char* kSweep = "$schema: https://azuremlschemas.azureedge.net/latest/sweepJob.schema.json\n";
const char* kComponent = "$schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json\n";

const ir::Resource& ById(const Compilation& c, const std::string& id) {
  auto index = c.graph.Find(id);
  REQUIRE(index);
  return c.graph.resource(*index);
}

// "file:line:col" of a range, to check where an expression was written.
std::string Where(const Compilation& c, SourceRange range) {
  LineColumn at = c.sources.Resolve(range.file, range.begin);
  return std::filesystem::path(c.sources.path(range.file)).filename().string() + ":" + std::to_string(at.line) + ":" + std::to_string(at.column);
}

// A command rendered with every input, output and trial value named.
std::string RenderNamed(const ir::Template& command) {
  return ir::Render(command, [](const ir::Expression& e) -> std::optional<std::string> {
    if (e.kind == Kind::kInput && e.name == "missing") return std::nullopt;
    return "<" + e.name + ">";
  });
}

std::string PipelineWithComponent() {
  return std::string(kPipeline) +
         "type: pipeline\nname: p\ninputs:\n  text: hello\n  n: 3\n"
         "jobs:\n"
         "  prep:\n    command: prep ${{inputs.text}} ${{outputs.clean}}\n"
         "    inputs:\n      text: ${{parent.inputs.text}}\n    outputs:\n      clean:\n"
         "  train:\n    component: ./train.yaml\n"
         "    inputs:\n      data: ${{parent.jobs.prep.outputs.clean}}\n      epochs: ${{parent.inputs.n}}\n";
}

const char* kTrainComponent =
    "name: trainer\nversion: 1\ncode: ./src\n"
    "command: >-\n  python train.py --data ${{inputs.data}} --epochs ${{inputs.epochs}}\n"
    "  --lr ${{inputs.lr}} $[[--seed ${{inputs.seed}}]] --out ${{outputs.model}}\n"
    "inputs:\n  data:\n    type: uri_folder\n  epochs:\n    type: integer\n"
    "  lr:\n    type: number\n    default: 0.01\n  seed:\n    type: integer\n    optional: true\n"
    "outputs:\n  model:\n    type: uri_folder\n";

}  // namespace

TEST_CASE("a template splits into literal, expression and optional parts", "[lower]") {
  std::vector<lower::TemplateProblem> problems;
  auto none = [](size_t, size_t) { return SourceRange{}; };
  ir::Template t = lower::ParseTemplate("run ${{ inputs.a }} $[[--b ${{inputs.missing}}]] x]] ${{name}}", none, problems);
  CHECK(problems.empty());
  REQUIRE(t.parts.size() == 6);
  CHECK(t.parts[0].literal == "run ");
  CHECK(t.parts[1].expression.kind == Kind::kInput);
  CHECK(t.parts[1].expression.text == "${{ inputs.a }}");
  CHECK(t.parts[3].kind == ir::TemplatePart::Kind::kOptional);
  CHECK(t.parts[4].literal == " x]] ");  // ]] outside a segment is text
  CHECK(t.parts[5].expression.kind == Kind::kJobName);
  // The optional segment goes, since its input has no value; the rest renders.
  CHECK(RenderNamed(t) == "run <a>  x]] <>");

  CHECK(lower::ParseExpression("parent.jobs.prep.outputs.clean")->step == "prep");
  CHECK(lower::ParseExpression("parent.jobs.prep.outputs.clean")->kind == Kind::kParentStepOutput);
  CHECK(lower::ParseExpression(" search_space.alpha ")->kind == Kind::kSearchSpace);
  CHECK_FALSE(lower::ParseExpression("inputs."));
  CHECK_FALSE(lower::ParseExpression("jobs.x.outputs.y"));

  for (const char* bad : {"a ${{inputs.x", "$[[a ${{inputs.x}}", "$[[a $[[b]] c]]", "${{foo.bar}}"}) {
    problems.clear();
    lower::ParseTemplate(bad, none, problems);
    CHECK(problems.size() == 1);
  }
}

TEST_CASE("a pipeline step takes its component's defaults and binds parent expressions", "[lower]") {
  SpecDir dir;
  dir.Write("p.yaml", PipelineWithComponent());
  dir.Write("train.yaml", std::string(kComponent) + kTrainComponent);
  dir.Write("src/train.py", "");
  auto c = CompilePath(dir.str());
  INFO(Rendered(*c));
  REQUIRE_FALSE(c->diagnostics.has_errors());

  const ir::Resource& train = ById(*c, "job/p/train");
  REQUIRE(train.effective);
  const ir::JobSpec& spec = *train.effective;
  CHECK(spec.fields.StringAt("code") == "src");                     // the component's
  CHECK(spec.fields.Find("outputs")->Find("model"));                // the component's
  CHECK_FALSE(spec.fields.Find("command"));                          // typed below, not here
  CHECK(spec.inputs.at("lr").value.as_double() == 0.01);             // the component's default
  CHECK(spec.inputs.at("epochs").value.as_int() == 3);               // the pipeline's input
  CHECK_FALSE(spec.inputs.count("seed"));                            // optional, not given
  const ir::Value& data = spec.inputs.at("data").value;              // the sibling's output
  CHECK(data.Find("path")->as_ref().target == "job/p/prep");
  CHECK(data.Find("path")->as_ref().member == "outputs.clean");
  CHECK(RenderNamed(spec.command) ==
        "python train.py --data <data> --epochs <epochs> --lr <lr> --seed <seed> --out <model>");
  // The command's expressions point into the component's file, where they are written.
  std::vector<const ir::Expression*> expressions = ir::ExpressionsOf(spec.command);
  REQUIRE(expressions.size() == 5);
  CHECK(Where(*c, expressions[0]->range) == "train.yaml:6:26");
  CHECK(expressions[3]->text == "${{inputs.seed}}");

  const ir::JobSpec& prep = *ById(*c, "job/p/prep").effective;
  CHECK(prep.inputs.at("text").value.as_string() == "hello");
  CHECK(prep.command.source == "prep ${{inputs.text}} ${{outputs.clean}}");
  CHECK(ById(*c, "job/p").effective);  // the pipeline itself: its inputs, no command
  CHECK(ById(*c, "job/p").effective->inputs.at("n").value.as_int() == 3);
}

TEST_CASE("a sweep's trial binds search-space entries in its inputs and in its command", "[lower]") {
  auto c = CompileFiles({{"s.yaml",
                          std::string(kSweep) +
                              "type: sweep\nname: s\ncompute: azureml:local\n"
                              "trial:\n  code: ./src\n  command: >-\n    python train.py --alpha ${{search_space.alpha}}\n"
                              "    --kernel ${{inputs.kernel}} --data ${{inputs.data}}\n"
                              "inputs:\n  kernel: ${{search_space.kernel}}\n  data: d.csv\n"
                              "search_space:\n  alpha:\n    type: uniform\n    min_value: 0.1\n    max_value: 0.9\n"
                              "  kernel:\n    type: choice\n    values: [rbf, linear]\n"
                              "objective:\n  goal: minimize\n  primary_metric: loss\n"},
                         {"compute.yaml", "$schema: compute.schema.json\nname: local\ntype: local\n"},
                         {"src/train.py", ""}});
  INFO(Rendered(*c));
  REQUIRE_FALSE(c->diagnostics.has_errors());
  const ir::Resource& sweep = ById(*c, "job/s");
  REQUIRE(sweep.trial);
  REQUIRE(sweep.effective);
  const ir::JobInput& kernel = sweep.trial->inputs.at("kernel");
  REQUIRE(kernel.binding);
  CHECK(kernel.binding->kind == Kind::kSearchSpace);
  CHECK(kernel.binding->name == "kernel");
  CHECK(kernel.AsWritten().as_string() == "${{search_space.kernel}}");  // what the sweep's run key holds
  CHECK(Where(*c, kernel.binding->range) == "s.yaml:11:11");
  std::vector<const ir::Expression*> expressions = ir::ExpressionsOf(sweep.trial->command);
  REQUIRE(expressions.size() == 3);
  CHECK(expressions[0]->kind == Kind::kSearchSpace);
  CHECK(expressions[0]->name == "alpha");
  CHECK(sweep.trial->fields.Find("compute")->as_ref().target == "compute/local");  // the sweep's
  CHECK(sweep.effective->fields.StringAt("code") == "src");                         // the trial's
  CHECK(sweep.effective->command.source == sweep.trial->command.source);
}

TEST_CASE("a command input with no value is an error at the expression", "[lower]") {
  SpecDir dir;
  std::string pipeline = PipelineWithComponent();
  pipeline.erase(pipeline.find("      epochs: ${{parent.inputs.n}}\n"));
  dir.Write("p.yaml", pipeline);
  dir.Write("train.yaml", std::string(kComponent) + kTrainComponent);
  dir.Write("src/train.py", "");
  auto c = CompilePath(dir.str());
  CHECK(ErrorLocations(*c) == std::vector<std::string>{"train.yaml:6:52: missing-field"});
  CHECK(Rendered(*c).find("expression '${{inputs.epochs}}' has no value: step 'p/train' gives no input 'epochs' "
                          "and it has no default") != std::string::npos);

  auto trial = CompileFiles({{"s.yaml", std::string(kSweep) +
                                            "type: sweep\nname: s\ntrial: ./t.yaml\n"
                                            "search_space:\n  a:\n    type: choice\n    values: [1]\n"
                                            "objective:\n  goal: minimize\n  primary_metric: loss\n"},
                             {"t.yaml", std::string(kComponent) + "name: t\nversion: 1\ncommand: run ${{inputs.a}}\n"
                                                                 "inputs:\n  a:\n    type: integer\n"}});
  CHECK(ErrorLocations(*trial) == std::vector<std::string>{"t.yaml:4:14: missing-field"});
  CHECK(Rendered(*trial).find("the trial of sweep 's' gives no input 'a'") != std::string::npos);
}

TEST_CASE("expressions without a value where they are written are errors at the expression", "[lower]") {
  std::string pipeline = std::string(kPipeline) +
                         "type: pipeline\nname: p\ninputs:\n  n: 3\noutputs:\n  final:\n"
                         "jobs:\n"
                         "  a:\n    command: echo ${{parent.outputs.final}} > ${{outputs.o}}\n    outputs:\n      o:\n"
                         "  b:\n    command: echo ${{inputs.x}}\n    inputs:\n      x: n=${{parent.inputs.n}}\n"
                         "  c:\n    command: echo ${{inputs.y}}\n    inputs:\n      y: ${{parent.outputs.final}}\n";
  auto c = CompileFiles({{"p.yaml", pipeline}});
  CHECK(ErrorLocations(*c) == std::vector<std::string>{"p.yaml:10:19: invalid-value", "p.yaml:16:10: invalid-value",
                                                       "p.yaml:20:10: invalid-value"});
  std::string text = Rendered(*c);
  CHECK(text.find("expression '${{parent.outputs.final}}' has no value in a command") != std::string::npos);
  CHECK(text.find("bind them in the step's inputs or outputs") != std::string::npos);
  CHECK(text.find("input 'x' mixes text and expressions") != std::string::npos);
  CHECK(text.find("expression '${{parent.outputs.final}}' has no value as input 'y'") != std::string::npos);
  // validate prints them with carets.
  SpecDir dir;
  dir.Write("p.yaml", pipeline);
  std::string out;
  CHECK(Run(Amlc("validate " + dir.str() + " 2>&1"), &out) != 0);
  CHECK(out.find("p.yaml:10:19: error: expression '${{parent.outputs.final}}' has no value in a command\n"
                 "      command: echo ${{parent.outputs.final}} > ${{outputs.o}}\n" +
                 std::string(20, ' ') + "^" + std::string(24, '~') + "\n") != std::string::npos);
}

TEST_CASE("the Azure ML example jobs lower without a value missing", "[lower][corpus]") {
  namespace fs = std::filesystem;
  int files = 0;
  for (const char* root : {"../shared/corpus/azureml-jobs/cli/jobs", "../shared/corpus/azureml/cli/jobs"}) {
    fs::path corpus = SourcePath(root);
    if (!fs::exists(corpus)) {
      WARN("no corpus at " << corpus << "; nothing to check");
      continue;
    }
    for (const auto& entry : fs::recursive_directory_iterator(corpus)) {
      if (entry.path().extension() != ".yml" && entry.path().extension() != ".yaml") continue;
      auto c = CompilePath(entry.path().string());
      std::string text = Rendered(*c);
      INFO(entry.path().string() << "\n" << text);
      CHECK(text.find("has no value") == std::string::npos);
      CHECK(text.find("mixes text and expressions") == std::string::npos);
      ++files;
    }
  }
  if (files > 0) CHECK(files > 50);
}

TEST_CASE("sema reports template problems with the one parser, at the problem", "[lower][sema]") {
  const std::string job = "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n";
  auto c = CompileFiles({{"j.yaml", job + "command: run $[[--x ${{inputs.x}}\ninputs:\n  x: 1\n"}});
  CHECK(ErrorLocations(*c) == std::vector<std::string>{"j.yaml:2:14: invalid-value"});
  CHECK(Rendered(*c).find("unterminated optional segment '$[['") != std::string::npos);
  auto unknown = CompileFiles({{"j.yaml", job + "command: run ${{ input.x }}\n"}});
  CHECK(ErrorLocations(*unknown) == std::vector<std::string>{"j.yaml:2:14: invalid-value"});
  CHECK(Rendered(*unknown).find("unknown expression '${{input.x}}'") != std::string::npos);
}
