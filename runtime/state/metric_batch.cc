#include "runtime/state/metric_batch.h"

#include <algorithm>
#include <unordered_map>
#include <utility>

namespace amlc::runtime::internal {
namespace {

using SeriesKey = std::pair<std::string_view, std::string_view>;

struct SeriesKeyHash {
  size_t operator()(const SeriesKey& key) const {
    std::hash<std::string_view> hash;
    return hash(key.first) * 31 + hash(key.second);
  }
};

using SeriesIndex = std::unordered_map<SeriesKey, uint32_t, SeriesKeyHash>;

// A batch rarely holds more than a few series, and a linear scan of those
// costs less per point than hashing two strings; past this many series a hash
// index takes over.
constexpr size_t kScanLimit = 8;

// The index in `series` of the series of `point`, appended if new.
uint32_t FindSeries(const MetricPoint& point, std::vector<Series>& series, SeriesIndex& index) {
  SeriesKey key(point.run_id, point.name);
  if (series.size() <= kScanLimit) {
    for (uint32_t i = 0; i < series.size(); ++i) {
      if (series[i].name == key.second && series[i].run_id == key.first) return i;
    }
  } else if (auto found = index.find(key); found != index.end()) {
    return found->second;
  }
  auto slot = static_cast<uint32_t>(series.size());
  series.push_back({key.first, key.second});
  if (series.size() == kScanLimit + 1) {
    for (uint32_t i = 0; i < series.size(); ++i) {
      index.emplace(SeriesKey(series[i].run_id, series[i].name), i);
    }
  } else if (series.size() > kScanLimit + 1) {
    index.emplace(key, slot);
  }
  return slot;
}

bool StoredBefore(const Placed& a, const Placed& b) {
  if (a.point->step != b.point->step) return a.point->step < b.point->step;
  if (a.point->timestamp != b.point->timestamp) return a.point->timestamp < b.point->timestamp;
  return a.seq < b.seq;
}

}  // namespace

std::vector<Series> GroupBySeries(const std::vector<MetricPoint>& points,
                                  std::vector<uint32_t>* series_of) {
  std::vector<Series> series;
  SeriesIndex index;
  series_of->reserve(points.size());
  for (const MetricPoint& point : points) {
    uint32_t slot = FindSeries(point, series, index);
    ++series[slot].count;
    series_of->push_back(slot);
  }
  return series;
}

std::vector<Placed> PlacePoints(const std::vector<MetricPoint>& points,
                                const std::vector<uint32_t>& series_of,
                                std::vector<Series>& series) {
  size_t offset = 0;
  for (Series& one : series) {
    one.begin = offset;
    offset += one.count;
  }
  std::vector<size_t> next(series.size());
  for (size_t i = 0; i < series.size(); ++i) next[i] = series[i].begin;
  std::vector<Placed> placed(points.size());
  for (size_t i = 0; i < points.size(); ++i) {
    const Series& one = series[series_of[i]];
    size_t at = next[series_of[i]]++;
    placed[at] = {&points[i], one.id, one.first_seq + static_cast<int64_t>(at - one.begin)};
  }
  for (const Series& one : series) {
    auto begin = placed.begin() + one.begin;
    auto end = begin + one.count;
    if (!std::is_sorted(begin, end, StoredBefore)) std::sort(begin, end, StoredBefore);
  }
  return placed;
}

std::string DescribeBatch(const std::vector<MetricPoint>& points, const std::vector<Series>& series) {
  std::vector<std::string_view> run_ids;
  for (const Series& one : series) run_ids.push_back(one.run_id);
  std::sort(run_ids.begin(), run_ids.end());
  size_t runs = std::unique(run_ids.begin(), run_ids.end()) - run_ids.begin();
  std::string text = "appending " + std::to_string(points.size()) + " metric point" +
                     (points.size() == 1 ? "" : "s") + " of ";
  return runs == 1 ? text + "run " + points.front().run_id : text + std::to_string(runs) + " runs";
}

}  // namespace amlc::runtime::internal
