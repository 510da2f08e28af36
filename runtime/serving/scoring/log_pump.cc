#include "runtime/serving/scoring/log_pump.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

#include "base/clock.h"
#include "base/time.h"

namespace amlc::runtime::serving {

namespace {

int64_t SteadyMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

constexpr size_t kMaxLine = 64 * 1024;  // longer output is cut into lines of this size

}  // namespace

StatusOr<std::unique_ptr<LogSink>> LogSink::Open(const std::string& path) {
  if (path.empty()) return std::unique_ptr<LogSink>(new LogSink(stderr, false));
  FILE* file = std::fopen(path.c_str(), "ae");
  if (file == nullptr) {
    return Status(StatusCode::kFailedPrecondition,
                  "cannot open the log file " + path + ": " + std::strerror(errno));
  }
  return std::unique_ptr<LogSink>(new LogSink(file, true));
}

LogSink::~LogSink() {
  if (owned_) std::fclose(file_);
}

void LogSink::Line(std::string_view who, std::string_view text) {
  std::string line = IsoUtcMillis(NowMillis());
  line += " [";
  line += who;
  line += "] ";
  line += text;
  line += '\n';
  std::lock_guard lock(mutex_);
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);
}

LogPump::LogPump(LogSink& sink) : sink_(sink) {
  if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) wake_[0] = wake_[1] = -1;
  thread_ = std::thread([this] { Loop(); });
}

LogPump::~LogPump() { Stop(0); }

void LogPump::Add(int fd, std::string who) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  {
    std::lock_guard lock(mutex_);
    sources_[fd] = Source{std::move(who), {}};
  }
  Wake();
}

void LogPump::Wake() {
  char byte = 1;
  if (wake_[1] >= 0) (void)!write(wake_[1], &byte, 1);
}

void LogPump::Stop(int wait_ms) {
  {
    std::lock_guard lock(mutex_);
    if (!thread_.joinable()) return;
    if (!stopping_) {
      stopping_ = true;
      stop_deadline_ms_ = SteadyMillis() + wait_ms;
    }
  }
  Wake();
  thread_.join();
  for (int& fd : wake_) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
}

void LogPump::Drain(int fd, Source& source, bool eof) {
  size_t start = 0;
  for (size_t newline; (newline = source.partial.find('\n', start)) != std::string::npos;
       start = newline + 1) {
    std::string_view line(source.partial.data() + start, newline - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    sink_.Line(source.who, line);
  }
  source.partial.erase(0, start);
  if (source.partial.size() >= kMaxLine || (eof && !source.partial.empty())) {
    sink_.Line(source.who, source.partial);
    source.partial.clear();
  }
}

void LogPump::Loop() {
  std::vector<pollfd> polled;
  char buffer[65536];
  for (;;) {
    polled.clear();
    polled.push_back({wake_[0], POLLIN, 0});
    int timeout = 1000;
    {
      std::lock_guard lock(mutex_);
      for (const auto& [fd, source] : sources_) polled.push_back({fd, POLLIN, 0});
      if (stopping_) {
        int64_t left = stop_deadline_ms_ - SteadyMillis();
        if (sources_.empty() || left <= 0) {
          for (auto& [fd, source] : sources_) {
            Drain(fd, source, true);
            close(fd);
          }
          sources_.clear();
          return;
        }
        timeout = static_cast<int>(std::min<int64_t>(left, 100));
      }
    }
    if (poll(polled.data(), polled.size(), timeout) < 0 && errno != EINTR) return;
    if (polled[0].revents != 0) {
      while (read(wake_[0], buffer, sizeof buffer) > 0) {
      }
    }
    std::lock_guard lock(mutex_);
    for (size_t i = 1; i < polled.size(); ++i) {
      if (polled[i].revents == 0) continue;
      int fd = polled[i].fd;
      auto found = sources_.find(fd);
      if (found == sources_.end()) continue;
      ssize_t got = read(fd, buffer, sizeof buffer);
      if (got > 0) {
        found->second.partial.append(buffer, static_cast<size_t>(got));
        Drain(fd, found->second, false);
      } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
        Drain(fd, found->second, true);
        close(fd);
        sources_.erase(found);
      }
    }
  }
}

}  // namespace amlc::runtime::serving
