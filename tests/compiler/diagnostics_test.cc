// Diagnostics as a user sees them. The acceptance example: five
// distinct mistakes across two files (YAML and DSL) give exactly five errors,
// at the right lines and columns; then schedule triggers.
#include <catch2/catch.hpp>

#include <filesystem>

#include "compiler/ir/schedule.h"
#include "tests/test_support.h"

using namespace amlc::testing;

TEST_CASE("five mistakes across two files give exactly five errors", "[diagnostics]") {
  auto c = CompilePath(SourcePath("tests/fixtures/five-mistakes"));
  REQUIRE(c);
  CHECK(ErrorLocations(*c) == std::vector<std::string>{
                                  "a.yaml:3:1: unknown-field",
                                  "a.yaml:7:19: invalid-value",
                                  "b.aml:3:5: duplicate",
                                  "b.aml:9:13: dangling-reference",
                                  "b.aml:10:22: invalid-value",
                              });
  std::string text = Rendered(*c);
  CHECK(text.find("unknown field 'comand' (did you mean 'command'?)") != std::string::npos);
  CHECK(text.find("'resources.instance_count' must be at least 1, not -2") != std::string::npos);
  CHECK(text.find("a.yaml:2:7: note: first defined here") != std::string::npos);
  CHECK(text.find("compute 'gpu' is not defined") != std::string::npos);
  CHECK(text.find("malformed duration '5 minutes'") != std::string::npos);
  // The caret line underlines the whole offending value.
  CHECK(text.find("    compute = compute.gpu\n              ^~~~~~~~~~~\n") != std::string::npos);
}

// Schedules are read by the compiler, with the caret on the offending cron
// field or value, so that `amlc validate` rejects what the reconciler could
// not run.
namespace {

const char* kJob = "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
                   "name: nightly\ncommand: echo\n";

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("a six-field cron is an error at its seconds field", "[diagnostics][schedule]") {
  auto c = CompileFiles({{"job.yaml", std::string(kJob) + "schedule:\n  type: cron\n  expression: \"30 0 2 * * *\"\n"}});
  REQUIRE(c);
  CHECK(ErrorLocations(*c) == std::vector<std::string>{"job.yaml:6:16: invalid-value"});
  std::string text = Rendered(*c);
  INFO(text);
  CHECK(Contains(text, "job.yaml:6:16: error: cron expression '30 0 2 * * *' has six fields; seconds are not "
                       "supported\n    expression: \"30 0 2 * * *\"\n                 ^~\n"));
  CHECK(Contains(text, "drop the seconds field and write \"0 2 * * *\""));
  CHECK_FALSE(c->graph.resource(*c->graph.Find("job/nightly")).scheduled);
}

TEST_CASE("a bad cron field value is an error at that field, in YAML and in the DSL", "[diagnostics][schedule]") {
  auto c = CompileFiles(
      {{"job.yaml", std::string(kJob) + "schedule: {type: cron, expression: '0 9-17 * * mon-fry'}\n"},
       {"s.aml", "job \"train\" { command = \"echo\" }\n"
                 "schedule \"hourly\" {\n"
                 "  trigger { type = cron  expression = \"61 * * * *\" }\n"
                 "  create_job = job.train\n"
                 "}\n"}});
  REQUIRE(c);
  CHECK(ErrorLocations(*c) == std::vector<std::string>{"job.yaml:4:52: invalid-value", "s.aml:3:40: invalid-value"});
  std::string text = Rendered(*c);
  INFO(text);
  CHECK(Contains(text, "day-of-week 'fry' is not a number or a name (sun..sat)\n"
                       "  schedule: {type: cron, expression: '0 9-17 * * mon-fry'}\n"
                       "                                                     ^~~\n"));
  CHECK(Contains(text, "s.aml:3:40: error: cron expression '61 * * * *': minute 61 is out of range 0-59\n"
                       "    trigger { type = cron  expression = \"61 * * * *\" }\n"
                       "                                         ^~\n"));
}

TEST_CASE("a recurrence's bad hour is an error at that list item", "[diagnostics][schedule]") {
  auto c = CompileFiles({{"job.yaml", std::string(kJob) + "schedule:\n  type: recurrence\n  frequency: day\n"
                                                         "  schedule:\n    hours: [9, 24]\n"}});
  REQUIRE(c);
  CHECK(ErrorLocations(*c) == std::vector<std::string>{"job.yaml:8:16: invalid-value"});
  CHECK(Contains(Rendered(*c), "schedule.hours takes whole numbers from 0 to 23, got 24"));
}

TEST_CASE("a time zone amlc cannot run is a warning at the zone, and the schedule is left out",
          "[diagnostics][schedule]") {
  auto c = CompileFiles({{"job.yaml", std::string(kJob) + "schedule:\n  type: cron\n  expression: 0 2 * * *\n"
                                                         "  time_zone: Pacific Standard Time\n"}});
  REQUIRE(c);
  CHECK_FALSE(c->diagnostics.has_errors());
  std::string text = Rendered(*c);
  INFO(text);
  CHECK(Contains(text, "job.yaml:7:14: warning: time zone 'Pacific Standard Time' is not supported yet, so this "
                       "schedule is not run\n    time_zone: Pacific Standard Time\n               ^~~~~~~~~~~~~~~~~~~~~\n"));
  CHECK_FALSE(c->graph.resource(*c->graph.Find("job/nightly")).scheduled);
}

TEST_CASE("a schedule the compiler accepts is handed to the reconciler parsed", "[diagnostics][schedule]") {
  auto c = CompileFiles({{"job.yaml", std::string(kJob) + "schedule:\n  type: cron\n  expression: 0 2 * * *\n"
                                                         "  time_zone: UTC\n"},
                         {"s.yaml", "$schema: schedule.schema.json\nname: weekly\ntrigger:\n  type: recurrence\n"
                                    "  frequency: week\n  schedule: {week_days: [monday], hours: 9, minutes: 0}\n"
                                    "create_job: azureml:nightly\n"},
                         {"off.yaml", "$schema: schedule.schema.json\nname: off\nis_enabled: false\n"
                                      "trigger: {type: interval, interval: 6h}\ncreate_job: azureml:nightly\n"}});
  REQUIRE(c);
  INFO(Rendered(*c));
  CHECK(c->diagnostics.diagnostics().empty());
  const auto& job = c->graph.resource(*c->graph.Find("job/nightly"));
  REQUIRE(job.scheduled);
  CHECK(job.scheduled->job_id == "job/nightly");
  CHECK(amlc::compiler::ir::DescribeSchedule(job.scheduled->schedule) == "cron 0 2 * * *");
  const auto& weekly = c->graph.resource(*c->graph.Find("schedule/weekly"));
  REQUIRE(weekly.scheduled);
  CHECK(weekly.scheduled->job_id == "job/nightly");
  CHECK(amlc::compiler::ir::DescribeSchedule(weekly.scheduled->schedule) == "every week on mon at 09:00");
  CHECK_FALSE(c->graph.resource(*c->graph.Find("schedule/off")).scheduled);
}

TEST_CASE("schedules that would start nothing are warnings that say why", "[diagnostics][schedule]") {
  auto c = CompileFiles({{"job.yaml", std::string(kJob) + "schedule: {type: cron, expression: 0 0 30 2 *}\n"},
                         {"s.yaml", "$schema: schedule.schema.json\nname: s\ntrigger: {type: cron, expression: 0 2 * * *}\n"
                                    "create_job:\n  job: ./job.yaml\n  tags: {a: b}\n"},
                         {"t.yaml", "$schema: schedule.schema.json\nname: t\n"
                                    "trigger: {type: cron, expression: 0 2 * * *, frequency: day}\n"}});
  REQUIRE(c);
  std::string text = Rendered(*c);
  INFO(text);
  CHECK_FALSE(c->diagnostics.has_errors());
  CHECK(Contains(text, "job.yaml:4:36: warning: this schedule never fires: no date matches it"));
  CHECK(Contains(text, "s.yaml:5:3: warning: schedule 's' is not run: a create_job with fields of its own"));
  CHECK(Contains(text, "t.yaml:3:57: warning: 'frequency' has no meaning in a cron trigger; it is ignored"));
  CHECK(Contains(text, "warning: schedule 't' has no create_job, so it starts nothing"));
}

TEST_CASE("Azure ML's schedule example compiles, with warnings naming what is not run", "[diagnostics][schedule]") {
  std::string folder = SourcePath("../shared/corpus/azureml/cli/schedules");
  if (!std::filesystem::exists(folder)) {
    WARN("no corpus at " << folder);
    return;
  }
  auto c = CompilePath(folder);
  REQUIRE(c);
  std::string text = Rendered(*c);
  INFO(text);
  CHECK_FALSE(c->diagnostics.has_errors());
  CHECK(Contains(text, "time zone 'Pacific Standard Time' is not supported yet"));
  CHECK(Contains(text, "a create_job with fields of its own (a job file plus overrides) is not supported yet"));
}
