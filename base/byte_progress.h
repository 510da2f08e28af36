#ifndef AMLC_BASE_BYTE_PROGRESS_H_
#define AMLC_BASE_BYTE_PROGRESS_H_

// Bytes as they move (image builds, pushes, snapshot uploads, downloads):
// the pure arithmetic and text of a progress line, and the throttle that keeps
// reporting cheap. No I/O and no clock reads: callers pass the time in, so
// every function is tested with exact values.
#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <utility>

namespace amlc {

using ProgressClock = std::chrono::steady_clock;

/// A family of byte units: 1024 and KiB.. or 1000 and kB...
struct ByteUnits {
  uint64_t step;
  std::array<const char*, 4> names;
  double one_decimal_below;  // "1.5 MB" below this value, "15 MB" from it
};
/// `bytes` in the largest unit it reaches: "512 B", "1.0 KiB", "37 MB".
std::string ScaledBytes(uint64_t bytes, const ByteUnits& units);

/// "512 B", "1.0 KiB", "37.2 MiB", "1.5 GiB": binary units, one decimal.
std::string BinaryBytes(uint64_t bytes);

/// "7s", "2m05s", "1h02m"; negative or not finite: "--".
std::string FormatEta(double seconds);

/// Bytes per second over the last `window` of samples (a sliding window, so
/// a stall shows as a falling rate instead of the whole transfer's average).
class RateWindow {
 public:
  explicit RateWindow(std::chrono::milliseconds window = std::chrono::seconds(5)) : window_(window) {}
  void Add(ProgressClock::time_point at, uint64_t done);
  /// 0 until two samples at different times exist.
  double BytesPerSecond() const;

 private:
  std::chrono::milliseconds window_;
  std::deque<std::pair<ProgressClock::time_point, uint64_t>> samples_;
};

/// One transfer's state as reporters see it. `total` empty: not known (a
/// stream), so the line has no ETA.
struct ByteProgress {
  std::string label;  // "layer 2/4 sha256:0123…", "snapshot 3f2a…"
  uint64_t done = 0;
  std::optional<uint64_t> total;
  double bytes_per_second = 0;
  bool finished = false;  // the last report of this transfer
};

/// "layer 2/4  37.2 MiB / 120.0 MiB  31%  12.4 MiB/s  ETA 7s"; no total: no
/// percent and no ETA; zero rate: "ETA --"; finished: "100%" and no ETA.
std::string FormatByteProgress(const ByteProgress& progress);

/// Decides which of a transfer's many chunk callbacks become reports: the
/// first, then at most one per `interval`, and always the last (done == total
/// or Finish). Also keeps the rate window. Not thread-safe: one per transfer.
class ByteMeter {
 public:
  /// `started`: when the transfer began, the rate's first sample (0 bytes),
  /// so a transfer done in one read still has a rate.
  ByteMeter(std::string label, std::optional<uint64_t> total, ProgressClock::time_point started,
            std::chrono::milliseconds interval = std::chrono::milliseconds(100));
  /// `done` bytes so far at `now`; returns the report to send, if any.
  std::optional<ByteProgress> Update(ProgressClock::time_point now, uint64_t done);
  /// The final report (once): done is what was reached.
  std::optional<ByteProgress> Finish(ProgressClock::time_point now);

 private:
  ByteProgress Snapshot(bool finished) const;

  std::string label_;
  std::optional<uint64_t> total_;
  std::chrono::milliseconds interval_;
  RateWindow rate_;
  uint64_t done_ = 0;
  std::optional<ProgressClock::time_point> last_report_;
  bool finished_ = false;
};

/// Where a transfer's reports go; may be empty (nobody is listening).
using ByteSink = std::function<void(const ByteProgress&)>;

/// A ByteMeter and its sink: what a copy loop holds, so it only says how far
/// it is. Reads the clock itself; does nothing when the sink is empty. Not
/// thread-safe: one per transfer (the sink may be shared if it locks).
class ByteReporter {
 public:
  ByteReporter(ByteSink sink, std::string label, std::optional<uint64_t> total);
  /// `bytes` more moved.
  void Add(uint64_t bytes) { Reached(done_ + bytes); }
  /// `done` bytes moved in all.
  void Reached(uint64_t done);
  /// The last report (once), when the total was not reached or not known.
  void Finish();

 private:
  ByteSink sink_;
  std::optional<ByteMeter> meter_;  // empty when nobody listens
  uint64_t done_ = 0;
};

}  // namespace amlc

#endif  // AMLC_BASE_BYTE_PROGRESS_H_
