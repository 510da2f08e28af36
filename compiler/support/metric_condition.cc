#include "compiler/support/metric_condition.h"

#include <algorithm>
#include <sstream>

namespace amlc {

namespace {

const std::vector<std::string> kOps = {">", ">=", "<", "<=", "==", "!="};

std::string Number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

}  // namespace

bool MetricComparison::Holds(double actual) const {
  if (op == ">") return actual > value;
  if (op == ">=") return actual >= value;
  if (op == "<") return actual < value;
  if (op == "<=") return actual <= value;
  if (op == "==") return actual == value;
  return actual != value;
}

bool MetricCondition::Holds(const std::function<std::optional<double>(const std::string&)>& latest,
                            std::string* why) const {
  for (const MetricComparison& c : all) {
    std::optional<double> actual = latest(c.metric);
    if (!actual) {
      if (why) *why = "the run logged no metric '" + c.metric + "'";
      return false;
    }
    if (!c.Holds(*actual)) {
      if (why) *why = "metrics." + c.metric + " is " + Number(*actual) + ", not " + c.op + " " + Number(c.value);
      return false;
    }
  }
  return true;
}

StatusOr<MetricCondition> ParseMetricCondition(const std::string& text) {
  MetricCondition condition;
  condition.text = text;
  std::istringstream in(text);
  auto invalid = [&] {
    return Status(StatusCode::kInvalidArgument,
                  "cannot read the condition '" + text +
                      "'; write e.g. \"metrics.accuracy >= 0.9\" or \"metrics.accuracy > 0.9 and metrics.loss < 0.3\"");
  };
  while (true) {
    std::string field;
    MetricComparison comparison;
    in >> field >> comparison.op >> comparison.value;
    if (in.fail() || field.rfind("metrics.", 0) != 0 || field.size() == 8 ||
        std::find(kOps.begin(), kOps.end(), comparison.op) == kOps.end()) {
      return invalid();
    }
    comparison.metric = field.substr(8);
    condition.all.push_back(comparison);
    std::string conjunction;
    if (!(in >> conjunction)) break;
    if (conjunction != "and") return invalid();
  }
  return condition;
}

}  // namespace amlc
