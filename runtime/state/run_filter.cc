#include "runtime/state/run_filter.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <map>

namespace amlc::runtime {

namespace {

constexpr const char* kFilterExample =
    "write e.g. \"metrics.accuracy > 0.9 and params.alpha = 0.5 and tags.dataset = diabetes\"";

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::optional<double> Number(std::string_view text) {
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

// Reads tokens of the filter language from left to right.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  bool AtEnd() {
    SkipSpace();
    return pos_ >= text_.size();
  }
  size_t position() const { return pos_; }

  // `metrics.x`, `params.`my key``, `tags."a b"`: the prefix and the key.
  StatusOr<std::pair<RunField, std::string>> Identifier() {
    SkipSpace();
    size_t dot = text_.find('.', pos_);
    if (dot == std::string_view::npos) return Error("a field such as metrics.NAME");
    std::string prefix = Lower(text_.substr(pos_, dot - pos_));
    static const std::map<std::string, RunField> kPrefixes = {
        {"metrics", RunField::kMetric}, {"metric", RunField::kMetric}, {"params", RunField::kParam},
        {"param", RunField::kParam},    {"parameters", RunField::kParam}, {"tags", RunField::kTag},
        {"tag", RunField::kTag},        {"attributes", RunField::kAttribute},
        {"attribute", RunField::kAttribute}, {"attr", RunField::kAttribute}, {"run", RunField::kAttribute}};
    auto found = kPrefixes.find(prefix);
    if (found == kPrefixes.end()) {
      return Status(StatusCode::kInvalidArgument,
                    "unknown field '" + prefix + "' at column " + std::to_string(pos_ + 1) +
                        ": use metrics., params., tags. or attributes.; " + kFilterExample);
    }
    pos_ = dot + 1;
    std::string key;
    if (pos_ < text_.size() && (text_[pos_] == '`' || text_[pos_] == '"')) {
      auto quoted = Quoted();
      if (!quoted.ok()) return quoted.status();
      key = *quoted;
    } else {
      size_t start = pos_;
      while (pos_ < text_.size() && !std::isspace(static_cast<unsigned char>(text_[pos_])) &&
             !std::strchr("<>=!", text_[pos_])) {
        ++pos_;
      }
      key = std::string(text_.substr(start, pos_ - start));
    }
    if (key.empty()) return Error("a name after '" + prefix + ".'");
    return std::make_pair(found->second, key);
  }

  StatusOr<std::string> Operator() {
    SkipSpace();
    for (std::string_view op : {">=", "<=", "!=", "==", "=", ">", "<"}) {
      if (text_.substr(pos_, op.size()) == op) {
        pos_ += op.size();
        return std::string(op == "==" ? "=" : op);
      }
    }
    for (std::string_view word : {"ilike", "like"}) {
      if (Lower(text_.substr(pos_, word.size())) == word) {
        pos_ += word.size();
        return Lower(word) == "like" ? std::string("LIKE") : std::string("ILIKE");
      }
    }
    return Error("a comparison (=, !=, >, >=, <, <=, LIKE, ILIKE)");
  }

  // A quoted string, or everything up to the next whitespace.
  StatusOr<std::pair<std::string, bool>> Value() {
    SkipSpace();
    if (pos_ >= text_.size()) return Error("a value");
    if (text_[pos_] == '\'' || text_[pos_] == '"' || text_[pos_] == '`') {
      auto quoted = Quoted();
      if (!quoted.ok()) return quoted.status();
      return std::make_pair(*quoted, true);
    }
    size_t start = pos_;
    while (pos_ < text_.size() && !std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    return std::make_pair(std::string(text_.substr(start, pos_ - start)), false);
  }

  bool And() {
    SkipSpace();
    if (Lower(text_.substr(pos_, 3)) == "and" &&
        (pos_ + 3 == text_.size() || std::isspace(static_cast<unsigned char>(text_[pos_ + 3])))) {
      pos_ += 3;
      return true;
    }
    return false;
  }

  std::string Word() {
    SkipSpace();
    size_t start = pos_;
    while (pos_ < text_.size() && !std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }

  Status Error(const std::string& expected) const {
    return Status(StatusCode::kInvalidArgument, "expected " + expected + " at column " +
                                                    std::to_string(pos_ + 1) + "; " + kFilterExample);
  }

 private:
  void SkipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }

  StatusOr<std::string> Quoted() {
    char quote = text_[pos_];
    size_t end = text_.find(quote, pos_ + 1);
    if (end == std::string_view::npos) {
      return Status(StatusCode::kInvalidArgument, std::string("unterminated ") + quote + " quote at column " +
                                                      std::to_string(pos_ + 1));
    }
    std::string value(text_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return value;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

StatusOr<std::vector<RunCondition>> ParseRunFilter(std::string_view text) {
  Scanner scanner(text);
  std::vector<RunCondition> conditions;
  if (scanner.AtEnd()) return conditions;
  do {
    auto identifier = scanner.Identifier();
    if (!identifier.ok()) return identifier.status();
    auto op = scanner.Operator();
    if (!op.ok()) return op.status();
    auto value = scanner.Value();
    if (!value.ok()) return value.status();
    RunCondition condition;
    condition.field = identifier->first;
    condition.key = identifier->second;
    condition.op = *op;
    condition.text = value->first;
    if (!value->second) condition.number = Number(condition.text);
    if (condition.field == RunField::kMetric && !condition.number) {
      auto quoted_number = Number(condition.text);
      if (!quoted_number) {
        return Status(StatusCode::kInvalidArgument,
                      "metrics." + condition.key + " is compared with a number, not '" + condition.text + "'");
      }
      condition.number = quoted_number;
    }
    if (condition.field == RunField::kMetric && (condition.op == "LIKE" || condition.op == "ILIKE")) {
      return Status(StatusCode::kInvalidArgument, "metrics." + condition.key + ": LIKE compares text; use =, <, > ...");
    }
    if (condition.field == RunField::kAttribute && RunAttributeColumn(condition.key).empty()) {
      return Status(StatusCode::kInvalidArgument,
                    "unknown attribute '" + condition.key +
                        "'; known: status, run_id, run_name, experiment, job, start_time, end_time, created");
    }
    if (condition.field == RunField::kAttribute && Lower(condition.key) == "status") {
      condition.text = AmlcStatusName(condition.text);
    }
    conditions.push_back(std::move(condition));
  } while (scanner.And());
  if (!scanner.AtEnd()) return scanner.Error("'and' or the end");
  return conditions;
}

StatusOr<RunOrder> ParseRunOrder(std::string_view text) {
  Scanner scanner(text);
  auto identifier = scanner.Identifier();
  if (!identifier.ok()) {
    return Status(StatusCode::kInvalidArgument, "cannot read order '" + std::string(text) +
                                                    "'; write e.g. \"metrics.accuracy desc\" or \"params.alpha\"");
  }
  RunOrder order{identifier->first, identifier->second, false};
  std::string direction = Lower(scanner.Word());
  if (direction == "desc") order.descending = true;
  else if (!direction.empty() && direction != "asc") {
    return Status(StatusCode::kInvalidArgument, "order direction '" + direction + "': use asc or desc");
  }
  if (!scanner.AtEnd()) return scanner.Error("the end of the order");
  if (order.field == RunField::kAttribute && RunAttributeColumn(order.key).empty()) {
    return Status(StatusCode::kInvalidArgument, "unknown attribute '" + order.key + "' to order by");
  }
  return order;
}

std::string RunAttributeColumn(std::string_view attribute) {
  static const std::map<std::string, std::string> kColumns = {
      {"status", "status"},         {"run_id", "id"},           {"id", "id"},
      {"run_name", "id"},           {"experiment", "experiment"}, {"experiment_id", "experiment"},
      {"job", "job_id"},            {"start_time", "started_at"}, {"end_time", "ended_at"},
      {"created", "created_at"},    {"run_key", "run_key"},     {"compute", "compute"}};
  auto found = kColumns.find(Lower(attribute));
  return found == kColumns.end() ? "" : found->second;
}

std::string AmlcStatusName(std::string_view status) {
  static const std::map<std::string, std::string> kStatuses = {
      {"FINISHED", "Completed"}, {"RUNNING", "Running"}, {"SCHEDULED", "Queued"},
      {"FAILED", "Failed"},      {"KILLED", "Canceled"}};
  auto found = kStatuses.find(std::string(status));
  return found == kStatuses.end() ? std::string(status) : found->second;
}

}  // namespace amlc::runtime
