#ifndef AMLC_BASE_STATUS_H_
#define AMLC_BASE_STATUS_H_

#include <optional>
#include <string>
#include <utility>

namespace amlc {

/// Canonical codes for recoverable operational failures (I/O, git, HTTP), after
/// absl::StatusCode. Callers decide on retries by code: kUnavailable means try
/// the action again later, kFailedPrecondition means stop and report.
enum class StatusCode {
  kOk,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kUnavailable,
  kInternal,
};

/// An operational outcome: ok, or a code with a message that says what failed
/// and on what (a path, a URL).
class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return {}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

/// A value or the Status that explains why there is none.
template <typename T>
class StatusOr {
 public:
  StatusOr(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  StatusOr(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace amlc

#endif  // AMLC_BASE_STATUS_H_
