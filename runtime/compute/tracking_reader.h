#ifndef AMLC_RUNTIME_COMPUTE_TRACKING_READER_H_
#define AMLC_RUNTIME_COMPUTE_TRACKING_READER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/state/state_store.h"

namespace amlc::runtime {

/// A metric point of a tracking record's fields (python/README.md): `name`,
/// `step`, `ts`, and `value` (a number, or "NaN", "Infinity", "-Infinity")
/// or `text`. Used for the tracking file and for batches sent over HTTP.
MetricPoint MetricPointOf(const nlohmann::json& record, const std::string& run_id);

/// The record of child run `id` of `parent` just started, named `name`: it
/// takes its parent's experiment, job and compute, and is Running.
RunRecord ChildRunOf(const RunRecord& parent, const std::string& id, const std::string& name, int64_t now_ms);

/// Reads what a run's script logged through the amlc Python module: a
/// JSON-lines file (python/README.md) the script appends whole lines to. Each
/// Poll ingests the complete lines added since the last one into the state
/// store, in one batch; a partial last line waits for the next Poll.
class TrackingReader {
 public:
  /// `run` is the run whose script writes the file; child runs it announces
  /// are recorded under it.
  TrackingReader(std::string path, StateStore& state, const RunRecord& run)
      : path_(std::move(path)), state_(state), run_(run) {}

  /// Ingests new records; returns the number of metric points stored.
  StatusOr<int> Poll();
  /// "accuracy=0.9778" for the last metric seen, for progress lines.
  const std::string& latest() const { return latest_; }
  /// Ends the child runs still open when the parent ends: each takes its own
  /// reported status if it sent one, else the parent's.
  void FinishChildren(RunStatus parent_status);

 private:
  void Parse(std::string_view line, std::vector<MetricPoint>& points);
  void StartChild(const std::string& id, const std::string& name);
  void EndChild(const std::string& id, RunStatus status, const std::string& message);

  std::string path_;
  StateStore& state_;
  RunRecord run_;
  std::map<std::string, bool> children_;  // child id -> ended
  // Params read in this Poll, per run, stored together at its end.
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> pending_params_;
  uint64_t offset_ = 0;
  std::string latest_;
};

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_COMPUTE_TRACKING_READER_H_
