#include "base/byte_progress.h"

#include <cmath>
#include <cstdio>

namespace amlc {

std::string ScaledBytes(uint64_t bytes, const ByteUnits& units) {
  if (bytes < units.step) return std::to_string(bytes) + " B";
  double value = static_cast<double>(bytes) / units.step;
  size_t unit = 0;
  while (value >= units.step && unit + 1 < units.names.size()) {
    value /= units.step;
    ++unit;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, value < units.one_decimal_below ? "%.1f %s" : "%.0f %s", value,
                units.names[unit]);
  return buffer;
}

std::string BinaryBytes(uint64_t bytes) {
  static constexpr ByteUnits kBinary{1024, {"KiB", "MiB", "GiB", "TiB"}, 1e9};  // always one decimal
  return ScaledBytes(bytes, kBinary);
}

std::string FormatEta(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--";
  auto whole = static_cast<uint64_t>(std::ceil(seconds));
  char buffer[32];
  if (whole < 60) {
    std::snprintf(buffer, sizeof buffer, "%llus", static_cast<unsigned long long>(whole));
  } else if (whole < 3600) {
    std::snprintf(buffer, sizeof buffer, "%llum%02llus", static_cast<unsigned long long>(whole / 60),
                  static_cast<unsigned long long>(whole % 60));
  } else {
    std::snprintf(buffer, sizeof buffer, "%lluh%02llum", static_cast<unsigned long long>(whole / 3600),
                  static_cast<unsigned long long>(whole % 3600 / 60));
  }
  return buffer;
}

void RateWindow::Add(ProgressClock::time_point at, uint64_t done) {
  samples_.emplace_back(at, done);
  // Keep one sample at or before the window's start so the rate spans it all.
  while (samples_.size() > 2 && at - samples_[1].first >= window_) samples_.pop_front();
}

double RateWindow::BytesPerSecond() const {
  if (samples_.size() < 2) return 0;
  const auto& [first_at, first_done] = samples_.front();
  const auto& [last_at, last_done] = samples_.back();
  double seconds = std::chrono::duration<double>(last_at - first_at).count();
  if (seconds <= 0 || last_done < first_done) return 0;
  return static_cast<double>(last_done - first_done) / seconds;
}

std::string FormatByteProgress(const ByteProgress& progress) {
  std::string line = progress.label + "  " + BinaryBytes(progress.done);
  if (progress.total) {
    line += " / " + BinaryBytes(*progress.total);
    uint64_t percent = *progress.total ? progress.done * 100 / *progress.total : 100;
    if (progress.finished) percent = 100;
    line += "  " + std::to_string(percent) + "%";
  }
  line += "  " + BinaryBytes(static_cast<uint64_t>(progress.bytes_per_second)) + "/s";
  if (progress.finished || !progress.total) return line;
  uint64_t left = *progress.total > progress.done ? *progress.total - progress.done : 0;
  double eta = progress.bytes_per_second > 0 ? static_cast<double>(left) / progress.bytes_per_second : -1;
  return line + "  ETA " + FormatEta(eta);
}

ByteMeter::ByteMeter(std::string label, std::optional<uint64_t> total, ProgressClock::time_point started,
                     std::chrono::milliseconds interval)
    : label_(std::move(label)), total_(total), interval_(interval) {
  rate_.Add(started, 0);
}

std::optional<ByteProgress> ByteMeter::Update(ProgressClock::time_point now, uint64_t done) {
  if (finished_) return std::nullopt;
  done_ = done;
  rate_.Add(now, done);
  if (total_ && done >= *total_) return Finish(now);
  if (last_report_ && now - *last_report_ < interval_) return std::nullopt;
  last_report_ = now;
  return Snapshot(false);
}

std::optional<ByteProgress> ByteMeter::Finish(ProgressClock::time_point now) {
  if (finished_) return std::nullopt;
  finished_ = true;
  rate_.Add(now, done_);
  return Snapshot(true);
}

ByteProgress ByteMeter::Snapshot(bool finished) const {
  return {label_, done_, total_, rate_.BytesPerSecond(), finished};
}

ByteReporter::ByteReporter(ByteSink sink, std::string label, std::optional<uint64_t> total)
    : sink_(std::move(sink)) {
  if (sink_) meter_.emplace(std::move(label), total, ProgressClock::now());
}

void ByteReporter::Reached(uint64_t done) {
  done_ = done;
  if (!meter_) return;
  if (auto report = meter_->Update(ProgressClock::now(), done)) sink_(*report);
}

void ByteReporter::Finish() {
  if (!meter_) return;
  if (auto report = meter_->Finish(ProgressClock::now())) sink_(*report);
}

}  // namespace amlc
