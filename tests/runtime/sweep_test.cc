#include <catch2/catch.hpp>

#include "runtime/engine/applier.h"

using amlc::compiler::ir::Value;
using amlc::runtime::SweepTrials;

namespace {
Value Distribution(const char* type) {
  Value d = Value::EmptyMap();
  d.Set("type", Value::String(type));
  return d;
}
}  // namespace

TEST_CASE("random sweeps draw a seeded number of trials within their distributions", "[sweep]") {
  Value lr = Distribution("uniform");
  lr.Set("min_value", Value::Double(0.01));
  lr.Set("max_value", Value::Double(0.5));
  Value depth = Distribution("randint");
  depth.Set("upper", Value::Int(4));
  Value q = Distribution("quniform");
  q.Set("min_value", Value::Double(0));
  q.Set("max_value", Value::Double(10));
  q.Set("q", Value::Double(2));
  Value space = Value::EmptyMap();
  space.Set("lr", lr);
  space.Set("depth", depth);
  space.Set("q", q);
  Value limits = Value::EmptyMap();
  limits.Set("max_total_trials", Value::Int(20));
  Value spec = Value::EmptyMap();
  spec.Set("search_space", space);
  spec.Set("limits", limits);
  spec.Set("sampling_algorithm", Value::String("random"));
  auto trials = SweepTrials(spec);
  REQUIRE(trials.size() == 20);
  for (auto& trial : trials) {
    CHECK(trial["lr"].as_double() >= 0.01);
    CHECK(trial["lr"].as_double() <= 0.5);
    CHECK(trial["depth"].as_int() >= 0);
    CHECK(trial["depth"].as_int() < 4);
    CHECK(std::fmod(trial["q"].as_double(), 2.0) == 0.0);
  }
  auto again = SweepTrials(spec);
  CHECK(again[7]["lr"].as_double() == trials[7]["lr"].as_double());  // same spec, same trials
}

TEST_CASE("grid sweeps walk the product of choices up to the trial limit", "[sweep]") {
  Value a = Distribution("choice");
  Value values = Value::EmptyList();
  for (int i : {1, 2, 3}) values.Append(Value::Int(i));
  a.Set("values", values);
  Value b = a;
  Value space = Value::EmptyMap();
  space.Set("a", a);
  space.Set("b", b);
  Value limits = Value::EmptyMap();
  limits.Set("max_total_trials", Value::Int(100));
  Value spec = Value::EmptyMap();
  spec.Set("search_space", space);
  spec.Set("limits", limits);
  spec.Set("sampling_algorithm", Value::String("grid"));
  CHECK(SweepTrials(spec).size() == 9);
  limits.Set("max_total_trials", Value::Int(4));
  spec.Set("limits", limits);
  CHECK(SweepTrials(spec).size() == 4);
}

TEST_CASE("early-termination policies stop trials that fall behind", "[sweep]") {
  Value bandit = Value::EmptyMap();
  bandit.Set("type", Value::String("bandit"));
  bandit.Set("slack_factor", Value::Double(0.2));
  bandit.Set("delay_evaluation", Value::Int(2));
  std::vector<std::vector<double>> others = {{0.8, 0.85, 0.9, 0.92}};
  using amlc::runtime::EarlyTerminationVerdict;
  CHECK(EarlyTerminationVerdict(bandit, true, {0.1, 0.2}, others).empty());  // within the delay
  CHECK(EarlyTerminationVerdict(bandit, true, {0.1, 0.2, 0.3}, others).find("bandit") != std::string::npos);
  CHECK(EarlyTerminationVerdict(bandit, true, {0.8, 0.8, 0.8}, others).empty());  // 0.8 >= 0.9 / 1.2
  CHECK(EarlyTerminationVerdict(bandit, false, {0.1, 0.2, 0.3}, others).empty());  // minimizing, it leads

  Value median = Value::EmptyMap();
  median.Set("type", Value::String("median_stopping"));
  std::vector<std::vector<double>> three = {{0.5, 0.6}, {0.7, 0.8}, {0.9, 0.9}};
  CHECK(EarlyTerminationVerdict(median, true, {0.1, 0.2}, three).find("median") != std::string::npos);
  CHECK(EarlyTerminationVerdict(median, true, {0.9, 0.95}, three).empty());
  CHECK(EarlyTerminationVerdict(median, true, {0.1}, {}).empty());  // nobody to compare with
}
