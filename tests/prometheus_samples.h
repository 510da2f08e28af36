#ifndef AMLC_TESTS_PROMETHEUS_SAMPLES_H_
#define AMLC_TESTS_PROMETHEUS_SAMPLES_H_

// /metrics texts read by the Prometheus client's own parser
// (tests/server/check_prometheus.py, python3-prometheus-client).
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/test_support.h"

namespace amlc::testing {

/// Each sample of `text` as {"family", "type", "name", "labels", "value"};
/// fails the test when the parser refuses the text.
inline std::vector<nlohmann::json> ParsedSamples(const std::string& text, const std::string& scratch_dir) {
  std::string file = scratch_dir + "/metrics.txt";
  std::ofstream(file) << text;
  std::string out;
  INFO(text);
  REQUIRE(Run("/usr/bin/python3 " + SourcePath("tests/server/check_prometheus.py") + " < " + file, &out) == 0);
  std::vector<nlohmann::json> samples;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) samples.push_back(nlohmann::json::parse(line));
  return samples;
}

/// The value of the sample `name` with exactly `labels`; fails the test when absent.
inline double SampleValue(const std::vector<nlohmann::json>& samples, const std::string& name,
                          const nlohmann::json& labels) {
  for (const nlohmann::json& sample : samples) {
    if (sample["name"] == name && sample["labels"] == labels) return sample["value"].get<double>();
  }
  FAIL("no sample " << name << " " << labels.dump());
  return -1;
}

}  // namespace amlc::testing

#endif  // AMLC_TESTS_PROMETHEUS_SAMPLES_H_
