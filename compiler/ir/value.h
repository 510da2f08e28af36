#ifndef AMLC_COMPILER_IR_VALUE_H_
#define AMLC_COMPILER_IR_VALUE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace amlc::compiler::ir {

/// A reference to another resource, resolved by analysis: the target's
/// identity ("compute/local", "model/iris:3") and, for job outputs, the
/// member ("outputs.model"). External references (Azure ML registries,
/// resources that live only in the workspace) keep their original text.
struct Ref {
  std::string target;
  std::string member;
  bool external = false;
  bool operator==(const Ref&) const = default;
};

/// A typed value of a resource's desired state. Mappings are kept sorted by
/// key, so two equal specs have one canonical form whatever the source order
/// or format; that form is what digests are taken of.
class Value {
 public:
  enum class Type { kNull, kBool, kInt, kDouble, kString, kList, kMap, kRef };
  using Map = std::vector<std::pair<std::string, Value>>;
  using List = std::vector<Value>;

  Value() = default;
  static Value Bool(bool b);
  static Value Int(int64_t i);
  static Value Double(double d);
  static Value String(std::string s);
  static Value Reference(Ref ref);
  static Value EmptyList();
  static Value EmptyMap();
  /// A map of `entries` given in any order, sorted once: O(n log n), where n
  /// calls of Set in source order could move O(n^2) entries. Of repeated
  /// keys the last one stays, as with Set.
  static Value MapOf(Map entries);

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_map() const { return type_ == Type::kMap; }
  bool is_list() const { return type_ == Type::kList; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_ref() const { return type_ == Type::kRef; }

  bool as_bool() const { return bool_; }
  int64_t as_int() const { return int_; }
  double as_double() const { return type_ == Type::kInt ? static_cast<double>(int_) : double_; }
  const std::string& as_string() const { return string_; }
  const Ref& as_ref() const { return ref_; }
  const List& items() const { return list_; }
  List& items() { return list_; }
  const Map& entries() const { return map_; }

  /// Map access; Set keeps keys sorted and replaces an existing key. Find is
  /// O(log n); Set is O(1) for a key past the last one, O(n) elsewhere.
  const Value* Find(std::string_view key) const;
  Value* Find(std::string_view key);
  void Set(std::string key, Value value);
  /// A map entry's string, or "" when absent or not a string.
  std::string StringAt(std::string_view key) const;
  /// A map entry's integer, or `fallback` when absent or not an integer.
  int64_t IntAt(std::string_view key, int64_t fallback) const;
  /// A map entry's number (integer or double), or `fallback`.
  double NumberAt(std::string_view key, double fallback) const;
  void Append(Value value) { list_.push_back(std::move(value)); }

  bool operator==(const Value& other) const;

  /// Canonical JSON (sorted keys, no spaces); refs print as {"$ref": "..."}.
  std::string ToJson() const;
  void AppendJson(std::string& out) const;

 private:
  Type type_ = Type::kNull;
  bool bool_ = false;
  int64_t int_ = 0;
  double double_ = 0;
  std::string string_;
  List list_;
  Map map_;
  Ref ref_;
};

/// Appends `text` to `out` as a quoted JSON string.
void AppendJsonString(std::string& out, std::string_view text);

}  // namespace amlc::compiler::ir

#endif  // AMLC_COMPILER_IR_VALUE_H_
