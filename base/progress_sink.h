#ifndef AMLC_BASE_PROGRESS_SINK_H_
#define AMLC_BASE_PROGRESS_SINK_H_

// What long work (an action of an apply, a run on a compute target) tells
// whoever shows it: short text statuses, and the bytes of its transfers.
// One value carries both so that every layer between the executor and a copy
// loop passes one parameter, and code that only says text stays as it was:
// `progress("building iris")` still works, and a plain lambda still converts.
#include <cstddef>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>

#include "base/byte_progress.h"

namespace amlc {

class ProgressSink {
 public:
  using Text = std::function<void(const std::string&)>;

  ProgressSink() = default;
  ProgressSink(std::nullptr_t) {}  // NOLINT(google-explicit-constructor): nobody listens, as for std::function
  ProgressSink(Text text, ByteSink bytes) : text_(std::move(text)), bytes_(std::move(bytes)) {}
  /// Any callable taking a status line: text only, bytes go nowhere.
  template <typename F, typename = std::enable_if_t<std::is_invocable_v<F&, const std::string&> &&
                                                    !std::is_same_v<std::decay_t<F>, ProgressSink>>>
  ProgressSink(F text) : text_(std::move(text)) {}  // NOLINT(google-explicit-constructor): see above

  /// A short status ("run train-1234", "pushing to ..."); ignored when nobody listens.
  void operator()(const std::string& status) const {
    if (text_) text_(status);
  }
  /// Whether anyone hears statuses (callers skip building a line nobody reads).
  explicit operator bool() const { return static_cast<bool>(text_); }
  /// Where byte reports go, for a ByteReporter or RegistryOptions::on_bytes;
  /// empty when nobody shows bytes.
  const ByteSink& bytes() const { return bytes_; }

 private:
  Text text_;
  ByteSink bytes_;
};

}  // namespace amlc

#endif  // AMLC_BASE_PROGRESS_SINK_H_
