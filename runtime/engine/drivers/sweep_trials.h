#ifndef AMLC_RUNTIME_ENGINE_DRIVERS_SWEEP_TRIALS_H_
#define AMLC_RUNTIME_ENGINE_DRIVERS_SWEEP_TRIALS_H_

// The pure parts of a sweep: which trials it runs and when a policy stops
// one early. Plain functions of the spec, so tests pin them exactly.

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "compiler/ir/value.h"

namespace amlc::runtime {

/// The trials of a sweep: parameter sets drawn from its search space (grid:
/// the product of the choice values; random: seeded draws), at most
/// limits.max_total_trials. Random draws are made from std::mt19937_64's
/// output alone (whose sequence the standard fixes), never through
/// std::*_distribution (whose output is implementation-defined), so a spec
/// gives the same trials, and run keys, with any toolchain.
std::vector<std::map<std::string, compiler::ir::Value>> SweepTrials(const compiler::ir::Value& spec);

/// One draw from a search-space distribution (choice, randint, uniform,
/// loguniform, normal, lognormal and their q- forms).
compiler::ir::Value DrawFrom(const compiler::ir::Value& distribution, std::mt19937_64& random);

/// Whether an early-termination policy (bandit, median_stopping,
/// truncation_selection) stops a trial that has logged `trial` so far, given
/// the other trials' values; "" to go on, else the reason.
std::string EarlyTerminationVerdict(const compiler::ir::Value& policy, bool maximize,
                                    const std::vector<double>& trial,
                                    const std::vector<std::vector<double>>& others);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_ENGINE_DRIVERS_SWEEP_TRIALS_H_
