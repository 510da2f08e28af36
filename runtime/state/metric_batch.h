#ifndef AMLC_RUNTIME_STATE_METRIC_BATCH_H_
#define AMLC_RUNTIME_STATE_METRIC_BATCH_H_

// How both state stores lay out a batch of metric points before storing it:
// grouped by series (run id, name), each series' points numbered in log order
// (seq) and sorted by the key they are stored under (step, ts, seq). Not for
// other users.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/state/state_store.h"

namespace amlc::runtime::internal {

/// One series of a batch.
struct Series {
  std::string_view run_id;
  std::string_view name;
  int64_t count = 0;      // points of this batch
  int64_t id = 0;         // metric_series.id, filled in by the store
  int64_t first_seq = 0;  // seq of this batch's first point of the series, filled in by the store
  size_t begin = 0;       // where its points start in the insertion order
};

/// A point in insertion order, with the key columns it is stored by.
struct Placed {
  const MetricPoint* point;
  int64_t series_id;
  int64_t seq;
};

/// The batch's series in order of first appearance, and each point's series.
std::vector<Series> GroupBySeries(const std::vector<MetricPoint>& points, std::vector<uint32_t>* series_of);

/// The points in the order to insert them: series by series, each in key
/// order (step, ts, seq), once the store has filled in each series' id and first seq.
std::vector<Placed> PlacePoints(const std::vector<MetricPoint>& points, const std::vector<uint32_t>& series_of,
                                std::vector<Series>& series);

/// "appending 10000 metric points of run R" (or "of 3 runs"), for messages.
std::string DescribeBatch(const std::vector<MetricPoint>& points, const std::vector<Series>& series);

}  // namespace amlc::runtime::internal

#endif  // AMLC_RUNTIME_STATE_METRIC_BATCH_H_
