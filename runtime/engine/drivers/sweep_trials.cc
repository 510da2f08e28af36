#include "runtime/engine/drivers/sweep_trials.h"

#include <algorithm>
#include <cmath>

namespace amlc::runtime {

using compiler::ir::Value;

namespace {

// Settings objects are optional in a sweep spec.
int64_t IntAt(const Value* map, std::string_view key, int64_t fallback) {
  return map ? map->IntAt(key, fallback) : fallback;
}

// A uniform draw in [0, 1) from the top 53 bits of one output.
double Unit(std::mt19937_64& random) { return static_cast<double>(random() >> 11) * 0x1.0p-53; }

// A standard normal draw (Box-Muller; 1 - u keeps the logarithm finite).
double StandardNormal(std::mt19937_64& random) {
  double u = 1.0 - Unit(random), v = Unit(random);
  return std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * M_PI * v);
}

}  // namespace

Value DrawFrom(const Value& distribution, std::mt19937_64& random) {
  std::string type = distribution.StringAt("type");
  if (type == "choice") {
    const Value* values = distribution.Find("values");
    if (!values || values->items().empty()) return {};
    return values->items()[random() % values->items().size()];
  }
  if (type == "randint") {
    return Value::Int(static_cast<int64_t>(random() % std::max<int64_t>(1, distribution.NumberAt("upper", 1))));
  }
  double lo = distribution.NumberAt("min_value", 0), hi = distribution.NumberAt("max_value", 1);
  double mu = distribution.NumberAt("mu", 0), sigma = distribution.NumberAt("sigma", 1);
  double value = 0;
  if (type == "uniform" || type == "quniform") value = lo + (hi - lo) * Unit(random);
  if (type == "loguniform" || type == "qloguniform") value = std::exp(lo + (hi - lo) * Unit(random));
  if (type == "normal" || type == "qnormal") value = mu + sigma * StandardNormal(random);
  if (type == "lognormal" || type == "qlognormal") value = std::exp(mu + sigma * StandardNormal(random));
  if (type[0] == 'q') {
    double q = distribution.NumberAt("q", 1);
    value = std::round(value / q) * q;
  }
  return Value::Double(value);
}

std::string EarlyTerminationVerdict(const Value& policy, bool maximize, const std::vector<double>& trial,
                                    const std::vector<std::vector<double>>& others) {
  std::string type = policy.StringAt("type");
  int64_t interval = std::max<int64_t>(1, IntAt(&policy, "evaluation_interval", 1));
  int64_t delay = IntAt(&policy, "delay_evaluation", 0);
  size_t n = trial.size();
  if (n == 0 || static_cast<int64_t>(n) <= delay || (static_cast<int64_t>(n) - delay) % interval != 0) return "";
  // Compare like with like: every trial at its first n reports (or all it has).
  auto best_of = [&](const std::vector<double>& values, size_t count) {
    double best = values[0];
    for (size_t i = 1; i < count; ++i) best = maximize ? std::max(best, values[i]) : std::min(best, values[i]);
    return best;
  };
  auto average_of = [](const std::vector<double>& values, size_t count) {
    double sum = 0;
    for (size_t i = 0; i < count; ++i) sum += values[i];
    return sum / count;
  };
  // A peer that has reported less (it started later, or finished sooner)
  // counts with what it has: skipping it would let a poor trial that got
  // ahead of a good one, or outlived it, run on unjudged.
  std::vector<double> peers, peer_averages;
  for (const auto& other : others) {
    size_t m = std::min(n, other.size());
    if (m == 0) continue;
    peers.push_back(best_of(other, m));
    peer_averages.push_back(average_of(other, m));
  }
  if (peers.empty()) return "";
  double mine = best_of(trial, n);
  auto worse = [&](double a, double b) { return maximize ? a < b : a > b; };
  if (type == "bandit") {
    double best = peers[0];
    for (double p : peers) best = maximize ? std::max(best, p) : std::min(best, p);
    double factor = policy.NumberAt("slack_factor", 0), amount = policy.NumberAt("slack_amount", 0);
    double allowed = factor > 0 ? (maximize ? best / (1 + factor) : best * (1 + factor))
                                : (maximize ? best - amount : best + amount);
    if (worse(mine, allowed)) return "stopped early by the bandit policy: " + std::to_string(mine) +
                                     " is outside the slack of the best trial's " + std::to_string(best);
  } else if (type == "median_stopping") {
    std::sort(peer_averages.begin(), peer_averages.end());
    double median = peer_averages[peer_averages.size() / 2];
    if (worse(average_of(trial, n), median)) {
      return "stopped early by the median stopping policy: its running average is worse than the median " +
             std::to_string(median);
    }
  } else if (type == "truncation_selection") {
    double percent = policy.NumberAt("truncation_percentage", 10);
    size_t beaten = 0;
    for (double p : peers) beaten += worse(mine, p);
    if (100.0 * beaten / (peers.size() + 1) >= 100.0 - percent) {
      return "stopped early by the truncation selection policy: it is in the worst " +
             std::to_string(static_cast<int>(percent)) + "%";
    }
  }
  return "";
}

std::vector<std::map<std::string, Value>> SweepTrials(const Value& spec) {
  const Value* space = spec.Find("search_space");
  const Value* limits = spec.Find("limits");
  int64_t max_trials = IntAt(limits, "max_total_trials", 1);
  std::vector<std::map<std::string, Value>> trials;
  if (!space || !space->is_map()) return trials;
  std::string sampling = spec.StringAt("sampling_algorithm");
  const Value* sampling_object = spec.Find("sampling_algorithm");
  if (sampling_object && sampling_object->is_map()) sampling = sampling_object->StringAt("type");
  if (sampling == "grid") {
    trials.push_back({});
    for (const auto& [name, distribution] : space->entries()) {
      const Value* values = distribution.Find("values");
      std::vector<std::map<std::string, Value>> grown;
      for (const auto& trial : trials) {
        for (const Value& value : values ? values->items() : std::vector<Value>{}) {
          auto next = trial;
          next[name] = value;
          grown.push_back(std::move(next));
        }
      }
      trials = std::move(grown);
    }
    if (static_cast<int64_t>(trials.size()) > max_trials) trials.resize(max_trials);
    return trials;
  }
  std::mt19937_64 random(static_cast<uint64_t>(IntAt(sampling_object, "seed", 0)));
  for (int64_t i = 0; i < max_trials; ++i) {
    std::map<std::string, Value> trial;
    for (const auto& [name, distribution] : space->entries()) trial[name] = DrawFrom(distribution, random);
    trials.push_back(std::move(trial));
  }
  return trials;
}

}  // namespace amlc::runtime
