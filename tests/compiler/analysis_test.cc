#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "tests/test_support.h"

using namespace amlc::compiler;
using namespace amlc::testing;

namespace {

const char* kJobSchema = "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n";

bool Has(const Compilation& c, const std::string& text) {
  return Rendered(c).find(text) != std::string::npos;
}

const ir::Resource& ResourceById(const Compilation& c, const std::string& id) {
  auto index = c.graph.Find(id);
  REQUIRE(index);
  return c.graph.resource(*index);
}

}  // namespace

TEST_CASE("an unknown DSL kind suggests the closest kind", "[sema]") {
  auto c = CompileFiles({{"a.aml", "jbo \"x\" { command = \"true\" }\n"}});
  CHECK(ErrorLocations(*c) == std::vector<std::string>{"a.aml:1:1: unknown-kind"});
  CHECK(Has(*c, "unknown kind 'jbo' (did you mean 'job'?)"));
}

TEST_CASE("an unknown $schema suggests the closest schema", "[sema]") {
  auto c = CompileFiles({{"a.yaml", "$schema: https://x/commandJb.schema.json\ncommand: x\n"}});
  CHECK(Has(*c, "unknown schema 'commandJb' (did you mean 'commandJob'?)"));
}

TEST_CASE("missing required fields and wrong types are errors", "[sema]") {
  auto c = CompileFiles({{"a.yaml", std::string(kJobSchema) + "name: t\nresources:\n  instance_count: many\n"}});
  CHECK(ErrorLocations(*c) == std::vector<std::string>{"a.yaml:1:1: missing-field",
                                                       "a.yaml:4:19: type"});
  CHECK(Has(*c, "missing required field 'command'"));
  CHECK(Has(*c, "'resources.instance_count' must be integer, not the text 'many'"));
}

TEST_CASE("enum values match case-insensitively and Azure compute types map onto amlc's", "[sema]") {
  auto c = CompileFiles({{"c.yaml",
                          "$schema: https://azuremlschemas.azureedge.net/latest/amlCompute.schema.json\n"
                          "name: cpu-cluster\ntype: AmlCompute\nmin_instances: 0\nmax_instances: 4\n"}});
  REQUIRE_FALSE(c->diagnostics.has_errors());
  CHECK(ResourceById(*c, "compute/cpu-cluster").type == "slurm");
  auto bad = CompileFiles({{"c.yaml", "$schema: compute.schema.json\nname: c\ntype: slrum\n"}});
  CHECK(Has(*bad, "'slrum' is not a valid value for 'type' (did you mean 'slurm'?)"));
}

TEST_CASE("Azure-style references to undeclared resources are warnings; DSL ones errors", "[sema]") {
  auto c = CompileFiles({{"j.yaml", std::string(kJobSchema) + "command: echo\ncompute: azureml:cpu-cluster\n"}});
  CHECK_FALSE(c->diagnostics.has_errors());
  CHECK(c->diagnostics.warning_count() == 1);
  CHECK(Has(*c, "compute 'cpu-cluster' is not defined in these specs; it must exist in the workspace"));
  auto d = CompileFiles({{"j.aml", "job \"j\" {\n  command = \"echo\"\n  compute = compute.cpu\n}\n"}});
  CHECK(ErrorLocations(*d) == std::vector<std::string>{"j.aml:3:13: dangling-reference"});
}

TEST_CASE("a DSL reference of the wrong kind is an error", "[sema]") {
  auto c = CompileFiles({{"j.aml", "compute \"c\" { type = local }\n"
                                   "job \"j\" { command = \"x\"  environment = compute.c }\n"}});
  CHECK(Has(*c, "'environment' must refer to a environment, not 'compute.c'"));
}

TEST_CASE("jobs without a name are named after their file; experiments default to the job", "[sema]") {
  auto c = CompileFiles({{"hello-world.yml", std::string(kJobSchema) + "command: echo hi\n"}});
  REQUIRE_FALSE(c->diagnostics.has_errors());
  const ir::Resource& job = ResourceById(*c, "job/hello-world");
  CHECK(job.spec.Find("experiment_name")->as_ref().target == "experiment/hello-world");
}

TEST_CASE("local paths are checked relative to the spec file", "[sema]") {
  auto c = CompileFiles({{"jobs/j.yaml", std::string(kJobSchema) + "command: x\ncode: ../src\n"}});
  CHECK(ErrorLocations(*c) == std::vector<std::string>{"j.yaml:3:7: missing-file"});
  SpecDir dir;
  dir.Write("jobs/j.yaml", std::string(kJobSchema) + "command: x\ncode: ../src\n");
  dir.Write("src/train.py", "print(1)\n");
  auto ok = CompilePath(dir.str());
  REQUIRE_FALSE(ok->diagnostics.has_errors());
  CHECK(ResourceById(*ok, "job/j").spec.Find("code")->as_string() == "src");
}

TEST_CASE("local paths outside the spec folder are errors unless AMLC_ALLOWED_ROOTS names their root", "[sema]") {
  SpecDir outside;
  outside.Write("shared/train.py", "print(1)\n");
  outside.Write("specs/src/train.py", "print(1)\n");
  std::string specs = outside.str() + "/specs";
  std::string job = std::string(kJobSchema) + "command: x\ncode: ";
  std::ofstream(specs + "/up.yaml") << job << "../shared\n";
  std::ofstream(specs + "/abs.yaml") << job << outside.str() << "/shared\n";
  std::ofstream(specs + "/root.yaml") << job << "../../../../../..\n";
  std::ofstream(specs + "/ok.yaml") << job << "src\n";
  unsetenv("AMLC_ALLOWED_ROOTS");
  auto c = CompilePath(specs);
  CHECK(ErrorLocations(*c) == std::vector<std::string>{"abs.yaml:3:7: outside-root", "root.yaml:3:7: outside-root",
                                                       "up.yaml:3:7: outside-root"});
  std::string rendered = Rendered(*c);
  CHECK(rendered.find("'code' names '../shared' (" + outside.str() + "/shared), which is outside the spec folder") !=
        std::string::npos);
  CHECK(rendered.find("AMLC_ALLOWED_ROOTS=" + outside.str() + "/shared (absolute folders separated by ':')") !=
        std::string::npos);

  setenv("AMLC_ALLOWED_ROOTS", (outside.str() + "/elsewhere:" + outside.str() + "/shared").c_str(), 1);
  auto allowed = CompilePath(specs);
  unsetenv("AMLC_ALLOWED_ROOTS");
  CHECK(ErrorLocations(*allowed) == std::vector<std::string>{"root.yaml:3:7: outside-root"});
  CHECK(Rendered(*allowed).find("and every root in AMLC_ALLOWED_ROOTS") != std::string::npos);
}

TEST_CASE("versioned references resolve; an unknown version is an error", "[sema]") {
  std::string env = "$schema: environment.schema.json\nname: env\nversion: 2\nimage: python:3.11\n";
  auto ok = CompileFiles({{"e.yaml", env},
                          {"j.yaml", std::string(kJobSchema) + "command: x\nenvironment: azureml:env:2\n"},
                          {"k.yaml", std::string(kJobSchema) + "command: x\nenvironment: azureml:env@latest\n"}});
  REQUIRE_FALSE(ok->diagnostics.has_errors());
  CHECK(ResourceById(*ok, "job/j").spec.Find("environment")->as_ref().target == "environment/env:2");
  CHECK(ResourceById(*ok, "job/k").spec.Find("environment")->as_ref().target == "environment/env:2");
  auto bad = CompileFiles({{"e.yaml", env},
                           {"j.yaml", std::string(kJobSchema) + "command: x\nenvironment: azureml:env:7\n"}});
  CHECK(ErrorLocations(*bad) == std::vector<std::string>{"j.yaml:3:14: invalid-value"});
  CHECK(Has(*bad, "unknown version '7' of environment 'env'"));
}

TEST_CASE("job outputs referenced by models must exist", "[sema]") {
  std::string job = std::string(kJobSchema) + "name: train\ncommand: x\noutputs:\n  model:\n";
  auto ok = CompileFiles({{"j.yaml", job},
                          {"m.yaml", "$schema: model.schema.json\nname: m\npath: azureml://jobs/train/outputs/model\n"}});
  REQUIRE_FALSE(ok->diagnostics.has_errors());
  CHECK(ResourceById(*ok, "model/m").spec.Find("path")->as_ref().member == "outputs.model");
  auto bad = CompileFiles({{"j.yaml", job},
                           {"m.yaml", "$schema: model.schema.json\nname: m\npath: azureml://jobs/train/outputs/modle\n"}});
  CHECK(Has(*bad, "job 'train' has no output 'modle' (did you mean 'model'?)"));
}

TEST_CASE("endpoint traffic must sum to 100 and name its deployments", "[sema]") {
  std::string deployment = "$schema: deployment.schema.json\nname: blue\nendpoint_name: e\nimage: azureml:img:1\n";
  auto c = CompileFiles({{"e.yaml", "$schema: endpoint.schema.json\nname: e\ntraffic:\n  blue: 60\n  bleu: 30\n"},
                         {"d.yaml", deployment}});
  CHECK(ErrorLocations(*c) == std::vector<std::string>{"e.yaml:3:1: invalid-value", "e.yaml:5:3: dangling-reference"});
  CHECK(Has(*c, "traffic of endpoint 'e' sums to 90%, not 100%"));
  CHECK(Has(*c, "(did you mean 'blue'?)"));
}

TEST_CASE("a dependency cycle across files prints its path with every location", "[sema]") {
  auto c = CompileFiles({{"a.aml", "job \"a\" { command = \"x\"  inputs { m { type = uri_folder  path = job.b.outputs.o } }  outputs { o = {} } }\n"},
                         {"b.aml", "job \"b\" { command = \"x\"  inputs { m { type = uri_folder  path = job.a.outputs.o } }  outputs { o = {} } }\n"}});
  REQUIRE(c->diagnostics.error_count() == 1);
  CHECK(Has(*c, "dependency cycle: job/a -> job/b -> job/a"));
  CHECK(Has(*c, "note: job/a needs job/b here"));
  CHECK(Has(*c, "note: job/b needs job/a here"));
}

TEST_CASE("pipeline steps become child resources ordered by their data flow", "[sema]") {
  std::string pipeline =
      "$schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json\n"
      "type: pipeline\nname: p\ninputs:\n  raw: 3\noutputs:\n  final:\n"
      "jobs:\n"
      "  train:\n    command: train ${{inputs.d}} ${{outputs.m}}\n"
      "    inputs:\n      d: ${{parent.jobs.prep.outputs.clean}}\n    outputs:\n      m: ${{parent.outputs.final}}\n"
      "  prep:\n    command: prep ${{inputs.r}} ${{outputs.clean}}\n"
      "    inputs:\n      r: ${{parent.inputs.raw}}\n    outputs:\n      clean:\n";
  auto c = CompileFiles({{"p.yaml", pipeline}});
  REQUIRE_FALSE(c->diagnostics.has_errors());
  std::vector<std::string> order;
  for (size_t i : c->graph.TopologicalOrder()) order.push_back(c->graph.resource(i).id());
  CHECK(order == std::vector<std::string>{"job/p/prep", "job/p/train", "job/p"});
  CHECK(ResourceById(*c, "job/p/train").parent == "job/p");

  std::string bad = pipeline;
  bad.replace(bad.find("jobs.prep.outputs.clean"), 23, "jobs.perp.outputs.clean");
  auto e = CompileFiles({{"p.yaml", bad}});
  CHECK(Has(*e, "expression '${{parent.jobs.perp.outputs.clean}}' names no step 'perp' of the pipeline (did you mean 'prep'?)"));
}

TEST_CASE("commands may only name declared inputs and outputs", "[sema]") {
  auto c = CompileFiles({{"j.yaml", std::string(kJobSchema) +
                                        "command: run ${{inputs.lr}} ${{inputs.epochs}}\ninputs:\n  lr: 0.1\n"}});
  CHECK(ErrorLocations(*c) == std::vector<std::string>{"j.yaml:2:29: dangling-reference"});
  CHECK(Has(*c, "names no declared input 'epochs'"));
}

TEST_CASE("pipeline steps load their component files on demand", "[sema]") {
  SpecDir dir;
  dir.Write("pipe/pipeline.yml",
            "$schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json\n"
            "type: pipeline\njobs:\n  train:\n    component: ../components/train.yml\n"
            "    inputs:\n      epochs: 3\n");
  dir.Write("components/train.yml",
            "$schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json\n"
            "name: train_component\nversion: 1\ncommand: train ${{inputs.epochs}}\ninputs:\n  epochs:\n    type: integer\n");
  auto c = CompilePath(dir.str() + "/pipe/pipeline.yml");
  REQUIRE(c);
  INFO(Rendered(*c));
  REQUIRE_FALSE(c->diagnostics.has_errors());
  CHECK(c->graph.Find("component/train_component:1"));
  CHECK(ResourceById(*c, "job/pipeline/train").spec.Find("component")->as_ref().target ==
        "component/train_component:1");
}

TEST_CASE("sweeps check their search space and its expressions", "[sema]") {
  std::string sweep =
      "$schema: https://azuremlschemas.azureedge.net/latest/sweepJob.schema.json\n"
      "type: sweep\nname: s\ntrial:\n  command: train --lr ${{inputs.lr}}\n"
      "inputs:\n  lr: ${{search_space.lr}}\n  depth: ${{search_space.dept}}\n"
      "search_space:\n  lr:\n    type: uniform\n    min_value: 0.5\n    max_value: 0.1\n"
      "  depth:\n    type: choice\n"
      "objective:\n  goal: Maximize\n  primary_metric: accuracy\n";
  auto c = CompileFiles({{"s.yaml", sweep}});
  CHECK(Has(*c, "names no declared search space entry 'dept' (did you mean 'depth'?)"));
  CHECK(Has(*c, "search space 'lr': min_value must be below max_value"));
  CHECK(Has(*c, "search space 'depth' (choice) needs 'values'"));
}

TEST_CASE("Azure ML shapes amlc does not run are warnings naming the feature", "[sema]") {
  auto c = CompileFiles({{"spark.yml",
                          "$schema: https://azuremlschemas.azureedge.net/latest/sparkJob.schema.json\n"
                          "type: spark\ncode: ./src\nentry:\n  file: x.py\n"}});
  CHECK_FALSE(c->diagnostics.has_errors());
  CHECK(Has(*c, "warning: 'sparkJob' specs are not supported: Spark jobs need a Spark cluster"));
  CHECK(c->graph.size() == 0);
}

TEST_CASE("conda environment files beside the specs are not specs", "[sema]") {
  auto c = CompileFiles({{"conda.yaml", "name: env\nchannels: [conda-forge]\ndependencies: [python=3.11]\n"},
                         {"c.yaml", "$schema: compute.schema.json\nname: c\ntype: local\n"}});
  CHECK(c->diagnostics.diagnostics().empty());
  CHECK(c->graph.size() == 1);
}

TEST_CASE("a folder holds one workspace that every resource depends on", "[sema]") {
  auto c = CompileFiles({{"w.yaml", "$schema: workspace.schema.json\nname: w\nroles:\n  owner: [a]\n"},
                         {"c.yaml", "$schema: compute.schema.json\nname: c\ntype: local\n"}});
  REQUIRE_FALSE(c->diagnostics.has_errors());
  CHECK(c->graph.TopologicalOrder().front() == *c->graph.Find("workspace/w"));
  auto two = CompileFiles({{"w.yaml", "$schema: workspace.schema.json\nname: w\n"},
                           {"v.yaml", "$schema: workspace.schema.json\nname: v\n"}});
  CHECK(Has(*two, "a second workspace"));
}

TEST_CASE("a pipeline referring to declared resources at its own level is not confused with its steps", "[sema]") {
  auto c = CompileFiles({{"x.csv", "a\n1\n"},
                         {"data.yaml", "$schema: data.schema.json\nname: d\nversion: 1\ntype: uri_file\npath: ./x.csv\n"},
                         {"p.yaml", "$schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json\n"
                                    "type: pipeline\nname: p\ninputs:\n  raw: {type: uri_file, path: azureml:d:1}\n"
                                    "jobs:\n  prep:\n    command: echo ${{parent.inputs.raw}}\n"}});
  INFO(Rendered(*c));
  CHECK_FALSE(c->diagnostics.has_errors());
  CHECK(c->graph.Find("job/p/prep"));
}

TEST_CASE("DSL components of pipeline type and schedules of job files", "[sema]") {
  auto c = CompileFiles({{"pc.aml", "component \"pc\" { type = pipeline  jobs { a { command = \"echo hi\" } } }\n"},
                         {"job.yaml", std::string(kJobSchema) + "name: nightly\ncommand: echo\n"},
                         {"s.yaml", "$schema: schedule.schema.json\nname: s\ntrigger:\n  type: cron\n"
                                    "  expression: 0 2 * * *\ncreate_job: ./job.yaml\n"}});
  INFO(Rendered(*c));
  CHECK_FALSE(c->diagnostics.has_errors());
  CHECK(c->graph.resource(*c->graph.Find("component/pc")).type == "pipeline");
  CHECK(c->graph.resource(*c->graph.Find("schedule/s")).spec.Find("create_job")->as_ref().target == "job/nightly");
}
