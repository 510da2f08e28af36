#include "compiler/ir/value.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace amlc::compiler::ir {

Value Value::Bool(bool b) {
  Value v;
  v.type_ = Type::kBool;
  v.bool_ = b;
  return v;
}

Value Value::Int(int64_t i) {
  Value v;
  v.type_ = Type::kInt;
  v.int_ = i;
  return v;
}

Value Value::Double(double d) {
  Value v;
  v.type_ = Type::kDouble;
  v.double_ = d;
  return v;
}

Value Value::String(std::string s) {
  Value v;
  v.type_ = Type::kString;
  v.string_ = std::move(s);
  return v;
}

Value Value::Reference(Ref ref) {
  Value v;
  v.type_ = Type::kRef;
  v.ref_ = std::move(ref);
  return v;
}

Value Value::EmptyList() {
  Value v;
  v.type_ = Type::kList;
  return v;
}

Value Value::EmptyMap() {
  Value v;
  v.type_ = Type::kMap;
  return v;
}

Value Value::MapOf(Map entries) {
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& left, const auto& right) { return left.first < right.first; });
  Value v;
  v.type_ = Type::kMap;
  v.map_.reserve(entries.size());
  for (auto& entry : entries) {
    if (!v.map_.empty() && v.map_.back().first == entry.first) {
      v.map_.back().second = std::move(entry.second);
    } else {
      v.map_.push_back(std::move(entry));
    }
  }
  return v;
}

namespace {
bool KeyLess(const std::pair<std::string, Value>& entry, std::string_view key) {
  return entry.first < key;
}
}  // namespace

const Value* Value::Find(std::string_view key) const {
  auto it = std::lower_bound(map_.begin(), map_.end(), key, KeyLess);
  return it != map_.end() && it->first == key ? &it->second : nullptr;
}

Value* Value::Find(std::string_view key) {
  auto it = std::lower_bound(map_.begin(), map_.end(), key, KeyLess);
  return it != map_.end() && it->first == key ? &it->second : nullptr;
}

void Value::Set(std::string key, Value value) {
  type_ = Type::kMap;
  if (map_.empty() || map_.back().first < key) {  // keys given in order, as from another map
    map_.emplace_back(std::move(key), std::move(value));
    return;
  }
  auto it = std::lower_bound(map_.begin(), map_.end(), key, KeyLess);
  if (it != map_.end() && it->first == key) {
    it->second = std::move(value);
  } else {
    map_.emplace(it, std::move(key), std::move(value));
  }
}

std::string Value::StringAt(std::string_view key) const {
  const Value* value = Find(key);
  return value && value->is_string() ? value->as_string() : "";
}

int64_t Value::IntAt(std::string_view key, int64_t fallback) const {
  const Value* value = Find(key);
  return value && value->type() == Type::kInt ? value->as_int() : fallback;
}

double Value::NumberAt(std::string_view key, double fallback) const {
  const Value* value = Find(key);
  return value && (value->type() == Type::kInt || value->type() == Type::kDouble) ? value->as_double()
                                                                                 : fallback;
}

bool Value::operator==(const Value& other) const {
  if (type_ != other.type_) return false;
  switch (type_) {
    case Type::kNull: return true;
    case Type::kBool: return bool_ == other.bool_;
    case Type::kInt: return int_ == other.int_;
    case Type::kDouble: return double_ == other.double_;
    case Type::kString: return string_ == other.string_;
    case Type::kList: return list_ == other.list_;
    case Type::kMap: return map_ == other.map_;
    case Type::kRef: return ref_ == other.ref_;
  }
  return false;
}

void AppendJsonString(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04x", static_cast<unsigned char>(c));
          out += buffer;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void Value::AppendJson(std::string& out) const {
  switch (type_) {
    case Type::kNull: out += "null"; break;
    case Type::kBool: out += bool_ ? "true" : "false"; break;
    case Type::kInt: out += std::to_string(int_); break;
    case Type::kDouble: {
      if (!std::isfinite(double_)) {
        out += "null";
        break;
      }
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "%.17g", double_);
      std::string text = buffer;
      // Shortest form that reads back the same double, and always a number with a '.' or 'e'.
      for (int precision = 1; precision < 17; ++precision) {
        std::snprintf(buffer, sizeof buffer, "%.*g", precision, double_);
        if (std::strtod(buffer, nullptr) == double_) {
          text = buffer;
          break;
        }
      }
      if (text.find_first_of(".eE") == std::string::npos) text += ".0";
      out += text;
      break;
    }
    case Type::kString: AppendJsonString(out, string_); break;
    case Type::kList:
      out += '[';
      for (size_t i = 0; i < list_.size(); ++i) {
        if (i) out += ',';
        list_[i].AppendJson(out);
      }
      out += ']';
      break;
    case Type::kMap:
      out += '{';
      for (size_t i = 0; i < map_.size(); ++i) {
        if (i) out += ',';
        AppendJsonString(out, map_[i].first);
        out += ':';
        map_[i].second.AppendJson(out);
      }
      out += '}';
      break;
    case Type::kRef:
      out += "{\"$ref\":";
      AppendJsonString(out, ref_.member.empty() ? ref_.target : ref_.target + "#" + ref_.member);
      if (ref_.external) out += ",\"external\":true";
      out += '}';
      break;
  }
}

std::string Value::ToJson() const {
  std::string out;
  AppendJson(out);
  return out;
}

}  // namespace amlc::compiler::ir
