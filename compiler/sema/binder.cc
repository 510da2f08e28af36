// Implementation notes: a field is bound by its schema's types. Plain scalars
// are typed by their text first (YAML 1.2 core: 1 is an integer, 1.5 a
// number, true a boolean) and then fitted to the schema: an integer where a
// string is wanted becomes its text (Azure ML writes `version: 1`), a quoted
// "3" where a number is wanted is an error. Strings that locate something
// (x-amlc-ref, x-amlc-path) go through BindLocator, which tells references,
// registry URIs, expressions and local paths apart.
#include "compiler/sema/binder.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "base/duration.h"
#include "compiler/support/metric_condition.h"
#include "compiler/support/spelling.h"

namespace amlc::compiler::sema {

namespace {

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsInteger(std::string_view text) {
  size_t i = (!text.empty() && (text[0] == '-' || text[0] == '+')) ? 1 : 0;
  if (i >= text.size() || text.size() > 19) return false;
  return std::all_of(text.begin() + i, text.end(), [](char c) { return std::isdigit(c); });
}

bool IsFloat(std::string_view text) {
  size_t i = (!text.empty() && (text[0] == '-' || text[0] == '+')) ? 1 : 0;
  bool digits = false;
  bool dot = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      digits = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else if ((c == 'e' || c == 'E') && digits) {
      size_t j = i + 1;
      if (j < text.size() && (text[j] == '-' || text[j] == '+')) ++j;
      if (j >= text.size()) return false;
      return std::all_of(text.begin() + j, text.end(), [](char d) { return std::isdigit(d); });
    } else {
      return false;
    }
  }
  return digits;
}

bool IsValidName(std::string_view name) {
  if (name.empty() || name.size() > 255 || !std::isalnum(static_cast<unsigned char>(name[0]))) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

bool IsUri(std::string_view text) {
  size_t colon = text.find("://");
  if (colon == std::string_view::npos || colon == 0) return false;
  return std::all_of(text.begin(), text.begin() + colon,
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '+'; });
}

std::string FormatNumber(double number) {
  if (std::floor(number) == number && std::fabs(number) < 1e15) {
    return std::to_string(static_cast<int64_t>(number));
  }
  return ir::Value::Double(number).ToJson();
}

std::string JoinField(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

}  // namespace

ir::Value InferScalar(const std::string& text) {
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") return {};
  if (text == "true" || text == "True" || text == "TRUE") return ir::Value::Bool(true);
  if (text == "false" || text == "False" || text == "FALSE") return ir::Value::Bool(false);
  if (IsInteger(text)) return ir::Value::Int(std::strtoll(text.c_str(), nullptr, 10));
  if (IsFloat(text)) return ir::Value::Double(std::strtod(text.c_str(), nullptr));
  return ir::Value::String(text);
}

std::string DescribeTypes(uint8_t types) {
  static const std::pair<uint8_t, const char*> kNames[] = {
      {kTypeBoolean, "boolean"}, {kTypeInteger, "integer"}, {kTypeNumber, "number"},
      {kTypeString, "string"},   {kTypeArray, "list"},      {kTypeObject, "mapping"},
      {kTypeNull, "null"}};
  std::vector<std::string> names;
  for (auto [bit, name] : kNames) {
    if (types & bit) names.push_back(name);
  }
  if (names.empty()) return "any value";
  std::string out = names[0];
  for (size_t i = 1; i < names.size(); ++i) out += (i + 1 == names.size() ? " or " : ", ") + names[i];
  return out;
}

Binder::Binder(const SourceTree& tree, std::string spec_file, DiagnosticEngine& diagnostics)
    : tree_(tree), spec_file_(std::move(spec_file)), diagnostics_(diagnostics) {}

void Binder::TypeError(const ast::Node& node, const Schema& schema, const std::string& field,
                       std::string_view got) {
  diagnostics_.Error(DiagCode::kType, node.range,
                     "'" + field + "' must be " + DescribeTypes(schema.types) + ", not " +
                         std::string(got));
}

const Schema* Binder::PickBranch(const ast::Node& node, const Schema& schema) const {
  for (const Schema* branch : schema.one_of) {
    uint8_t types = branch->types;
    switch (node.kind) {
      case ast::NodeKind::kMapping:
        if (types == 0 || (types & kTypeObject)) return branch;
        break;
      case ast::NodeKind::kSequence:
        if (types == 0 || (types & kTypeArray)) return branch;
        break;
      case ast::NodeKind::kReference:
        if (!branch->ref_kind.empty() || branch->path != PathKind::kNone) return branch;
        break;
      default:
        if (types == 0 || (types & ~(kTypeObject | kTypeArray))) return branch;
    }
  }
  return nullptr;
}

ir::Value Binder::Bind(const ast::Node& node, const Schema& schema, const std::string& field,
                       bool* present) {
  if (present) *present = true;
  if (!schema.one_of.empty()) {
    const Schema* branch = PickBranch(node, schema);
    if (node.kind == ast::NodeKind::kNull) {
      if (present) *present = false;
      return {};
    }
    if (!branch) {
      uint8_t types = 0;
      for (const Schema* b : schema.one_of) types |= b->types;
      Schema described;
      described.types = types;
      TypeError(node, described, field,
                node.kind == ast::NodeKind::kMapping    ? "a mapping"
                : node.kind == ast::NodeKind::kSequence ? "a list"
                                                        : "'" + node.text + "'");
      return {};
    }
    return Bind(node, *branch, field, present);
  }
  switch (node.kind) {
    case ast::NodeKind::kMapping:
      if (schema.types != 0 && !(schema.types & kTypeObject)) {
        TypeError(node, schema, field, "a mapping");
        return {};
      }
      return BindMapping(node, schema, field);
    case ast::NodeKind::kSequence:
      if (schema.types != 0 && !(schema.types & kTypeArray)) {
        TypeError(node, schema, field, "a list");
        return {};
      }
      return BindSequence(node, schema, field);
    case ast::NodeKind::kReference:
      return BindDslReference(node, schema, field);
    case ast::NodeKind::kNull:
      if (present) *present = (schema.types & kTypeNull) != 0;
      return {};
    case ast::NodeKind::kScalar:
      return BindScalar(node, schema, field, present);
  }
  return {};
}

ir::Value Binder::BindScalar(const ast::Node& node, const Schema& schema,
                             const std::string& field, bool* present) {
  ir::Value inferred = node.style == ast::ScalarStyle::kPlain ? InferScalar(node.text)
                                                              : ir::Value::String(node.text);
  uint8_t types = schema.types;
  if (inferred.is_null()) {
    if (present) *present = types == 0 || (types & kTypeNull);
    return {};
  }
  if (types == 0) {
    if (inferred.is_string()) return CheckString(node, schema, field, node.text);
    return inferred;
  }
  switch (inferred.type()) {
    case ir::Value::Type::kInt:
      if (types & kTypeInteger) return CheckNumber(node, schema, field, inferred);
      if (types & kTypeNumber) return CheckNumber(node, schema, field, ir::Value::Double(inferred.as_int()));
      break;
    case ir::Value::Type::kDouble:
      if (types & kTypeNumber) return CheckNumber(node, schema, field, inferred);
      break;
    case ir::Value::Type::kBool:
      if (types & kTypeBoolean) return inferred;
      break;
    default:
      break;
  }
  if (types & kTypeString) return CheckString(node, schema, field, node.text);
  std::string got = inferred.is_string() ? "the text '" + node.text + "'" : "'" + node.text + "'";
  TypeError(node, schema, field, got);
  return {};
}

ir::Value Binder::CheckNumber(const ast::Node& node, const Schema& schema,
                              const std::string& field, ir::Value value) {
  double number = value.as_double();
  if (schema.minimum && number < *schema.minimum) {
    diagnostics_.Error(DiagCode::kInvalidValue, node.range,
                       "'" + field + "' must be at least " + FormatNumber(*schema.minimum) +
                           ", not " + node.text);
  } else if (schema.maximum && number > *schema.maximum) {
    diagnostics_.Error(DiagCode::kInvalidValue, node.range,
                       "'" + field + "' must be at most " + FormatNumber(*schema.maximum) +
                           ", not " + node.text);
  }
  if (schema.format == "duration") {
    if (value.type() != ir::Value::Type::kInt || value.as_int() < 0) {
      diagnostics_.Error(DiagCode::kInvalidValue, node.range,
                         "malformed duration '" + node.text + "' for '" + field + "'")
          .Hint("write whole seconds (300) or a duration such as 5m, 1h30m or PT5M");
    }
  }
  return value;
}

ir::Value Binder::CheckString(const ast::Node& node, const Schema& schema,
                              const std::string& field, std::string text) {
  if (!schema.ref_kind.empty() || schema.path != PathKind::kNone) {
    return BindLocator(node, schema, field);
  }
  if (!schema.enum_values.empty()) {
    std::string lower = Lower(text);
    if (auto alias = schema.enum_aliases.find(lower); alias != schema.enum_aliases.end()) {
      return ir::Value::String(alias->second);
    }
    for (const std::string& allowed : schema.enum_values) {
      if (Lower(allowed) == lower) return ir::Value::String(allowed);
    }
    std::string list;
    for (const std::string& allowed : schema.enum_values) list += (list.empty() ? "" : ", ") + allowed;
    diagnostics_
        .Error(DiagCode::kInvalidValue, node.range,
               "'" + text + "' is not a valid value for '" + field + "'" +
                   DidYouMean(text, schema.enum_values))
        .Hint("expected one of: " + list);
    return ir::Value::String(text);
  }
  if (schema.format == "duration") {
    int64_t seconds = ParseDurationSeconds(text);
    if (seconds < 0) {
      diagnostics_
          .Error(DiagCode::kInvalidValue, node.range,
                 "malformed duration '" + text + "' for '" + field + "'")
          .Hint("write whole seconds (300) or a duration such as 5m, 1h30m or PT5M");
      return ir::Value::String(text);
    }
    return ir::Value::Int(seconds);
  }
  if (schema.format == "name" && !IsValidName(text) && !StartsWith(text, "${{")) {
    diagnostics_
        .Error(DiagCode::kInvalidValue, node.range, "'" + text + "' is not a valid name for '" + field + "'")
        .Hint("use letters, digits, '-', '_' and '.', starting with a letter or digit");
  }
  if (schema.format == "metric-condition") {
    if (auto condition = ParseMetricCondition(text); !condition.ok()) {
      diagnostics_.Error(DiagCode::kInvalidValue, node.range, "malformed condition '" + text + "' for '" + field + "'")
          .Hint("compare the run's metrics with numbers: \"metrics.accuracy >= 0.9\", joined by 'and'");
    }
  }
  return ir::Value::String(std::move(text));
}

ir::Value Binder::BindMapping(const ast::Node& node, const Schema& schema,
                              const std::string& field) {
  if (!schema.unchecked_types.empty()) {
    std::string type = Lower(node.ScalarAt("type"));
    for (const std::string& unchecked : schema.unchecked_types) {
      if (type == unchecked) return Untyped(node);
    }
  }
  ir::Value::Map bound;  // sorted once at the end: per-entry Set is quadratic on a large map
  bool typed = !schema.properties.empty() || schema.additional || !schema.additional_allowed;
  for (const ast::Entry& entry : node.entries) {
    std::string child_field = JoinField(field, entry.key);
    if (field.empty() && entry.key == "$schema") continue;
    location_.push_back(entry.key);
    const Schema* property = schema.Property(entry.key);
    if (property && !property->unsupported.empty()) {
      diagnostics_
          .Warning(DiagCode::kUnsupported, entry.key_range,
                   "'" + child_field + "' is not supported: " + property->unsupported)
          .Hint("amlc ignores this field");
    } else if (property || schema.additional) {
      bool present = true;
      ir::Value value = Bind(entry.value, property ? *property : *schema.additional, child_field,
                             &present);
      if (present || (!property && schema.additional)) bound.emplace_back(entry.key, std::move(value));
    } else if (!typed || schema.additional_allowed) {
      bound.emplace_back(entry.key, Untyped(entry.value));
    } else {
      diagnostics_
          .Error(DiagCode::kUnknownField, entry.key_range,
                 "unknown field '" + child_field + "'" + DidYouMean(entry.key, schema.PropertyNames()))
          .Hint(schema.properties.empty() ? "" : "see the kind's fields in specs/");
    }
    location_.pop_back();
  }
  ir::Value out = ir::Value::MapOf(std::move(bound));
  for (const std::string& name : schema.required) {
    if (!node.Find(name) && !out.Find(name)) {
      diagnostics_.Error(DiagCode::kMissingField, node.range,
                         "missing required field '" + JoinField(field, name) + "'");
    }
  }
  for (const auto& [name, property] : schema.properties) {
    if (property->default_value && !out.Find(name) && !node.Find(name)) {
      out.Set(name, *property->default_value);
    }
  }
  return out;
}

ir::Value Binder::BindSequence(const ast::Node& node, const Schema& schema,
                               const std::string& field) {
  ir::Value out = ir::Value::EmptyList();
  if (node.items.size() < schema.min_items) {
    diagnostics_.Error(DiagCode::kInvalidValue, node.range,
                       "'" + field + "' needs at least " + std::to_string(schema.min_items) +
                           " item" + (schema.min_items == 1 ? "" : "s"));
  }
  for (size_t i = 0; i < node.items.size(); ++i) {
    location_.push_back("#" + std::to_string(i));
    if (schema.items) {
      out.Append(Bind(node.items[i], *schema.items, field + "[" + std::to_string(i) + "]"));
    } else {
      out.Append(Untyped(node.items[i]));
    }
    location_.pop_back();
  }
  return out;
}

ir::Value Binder::Untyped(const ast::Node& node) {
  switch (node.kind) {
    case ast::NodeKind::kScalar:
      return node.style == ast::ScalarStyle::kPlain ? InferScalar(node.text)
                                                    : ir::Value::String(node.text);
    case ast::NodeKind::kSequence: {
      ir::Value list = ir::Value::EmptyList();
      for (const ast::Node& item : node.items) list.Append(Untyped(item));
      return list;
    }
    case ast::NodeKind::kMapping: {
      ir::Value::Map entries;
      entries.reserve(node.entries.size());
      for (const ast::Entry& entry : node.entries) entries.emplace_back(entry.key, Untyped(entry.value));
      return ir::Value::MapOf(std::move(entries));
    }
    case ast::NodeKind::kReference:
      diagnostics_.Error(DiagCode::kType, node.range,
                         "a reference is not allowed here; write a quoted string");
      return {};
    case ast::NodeKind::kNull:
      return {};
  }
  return {};
}

void Binder::ParseAssetName(std::string_view text, PendingRef& ref) {
  if (StartsWith(text, "azureml:")) text.remove_prefix(8);
  if (size_t at = text.find('@'); at != std::string_view::npos) {
    ref.name = std::string(text.substr(0, at));
    ref.label = std::string(text.substr(at + 1));
  } else if (size_t colon = text.find(':'); colon != std::string_view::npos) {
    ref.name = std::string(text.substr(0, colon));
    ref.version = std::string(text.substr(colon + 1));
  } else {
    ref.name = std::string(text);
  }
}

ir::Value Binder::Reference(PendingRef ref, const ast::Node& node, const std::string& field) {
  ref.field = field;
  ref.range = node.range;
  ref.location = location_;
  std::string target = ref.kind + "/" + ref.name;
  if (!ref.version.empty()) target += ":" + ref.version;
  if (!ref.label.empty()) target += "@" + ref.label;
  ir::Ref value{target, ref.member, false};
  refs_.push_back(std::move(ref));
  return ir::Value::Reference(std::move(value));
}

ir::Value Binder::BindDslReference(const ast::Node& node, const Schema& schema,
                                   const std::string& field) {
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    size_t dot = node.text.find('.', start);
    parts.push_back(node.text.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  std::string wanted = schema.ref_kind == "job-output" ? "job" : schema.ref_kind;
  if (wanted.empty()) {
    diagnostics_.Error(DiagCode::kType, node.range,
                       "'" + field + "' takes a value, not a reference to '" + node.text + "'")
        .Hint("write a quoted string");
    return {};
  }
  PendingRef ref;
  ref.kind = parts[0];
  ref.from_dsl = true;
  // Paths take a job's output or a data asset.
  if (schema.ref_kind == "job-output" && ref.kind == "data" && parts.size() == 2) wanted = "data";
  if (ref.kind != wanted || parts.size() < 2) {
    diagnostics_.Error(DiagCode::kType, node.range,
                       "'" + field + "' must refer to a " + wanted + ", not '" + node.text + "'")
        .Hint("write " + wanted + ".NAME");
    return {};
  }
  ref.name = parts[1];
  if (parts.size() > 2) {
    if (schema.ref_kind != "job-output" || parts.size() != 4 || parts[2] != "outputs") {
      diagnostics_.Error(DiagCode::kType, node.range,
                         "'" + node.text + "' is not a reference " + field + " can take")
          .Hint(schema.ref_kind == "job-output" ? "write job.NAME.outputs.OUTPUT"
                                                : "write " + wanted + ".NAME");
      return {};
    }
    ref.member = "outputs." + parts[3];
  }
  return Reference(std::move(ref), node, field);
}

ir::Value Binder::BindLocator(const ast::Node& node, const Schema& schema,
                              const std::string& field) {
  const std::string& text = node.text;
  if (StartsWith(text, "${{") || StartsWith(text, "$[[")) return ir::Value::String(text);
  // A job's output: azureml://jobs/JOB/outputs/OUTPUT[/paths...]
  if (StartsWith(text, "azureml://jobs/")) {
    std::string_view rest = std::string_view(text).substr(15);
    size_t slash = rest.find('/');
    std::string_view after = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
    if (slash == std::string_view::npos || !StartsWith(after, "outputs/")) {
      diagnostics_.Error(DiagCode::kInvalidValue, node.range, "malformed job output URI '" + text + "'")
          .Hint("write azureml://jobs/JOB/outputs/OUTPUT");
      return ir::Value::String(text);
    }
    std::string_view output = after.substr(8);
    bool logged_artifact = StartsWith(output, "artifacts/paths/");
    if (logged_artifact) output.remove_prefix(16);
    output = output.substr(0, output.find('/'));
    PendingRef ref;
    ref.logged_artifact = logged_artifact;
    ref.kind = "job";
    ref.name = std::string(rest.substr(0, slash));
    ref.member = "outputs." + std::string(output);
    return Reference(std::move(ref), node, field);
  }
  if (IsUri(text)) return ir::Value::Reference({text, "", true});  // registries, datastores, https
  std::string kind = schema.ref_kind == "job-output" ? "" : schema.ref_kind;
  bool asset = StartsWith(text, "azureml:");
  bool spec_file = StartsWith(text, "file:") || text.find('/') != std::string::npos ||
                   text.ends_with(".yml") || text.ends_with(".yaml") || text.ends_with(".aml");
  if ((kind == "component" || (kind == "job" && spec_file)) && !asset) {
    std::string path = StartsWith(text, "file:") ? text.substr(5) : text;
    PendingRef ref;
    ref.kind = kind;
    ref.file = ResolveRelative(spec_file_, path);
    return Reference(std::move(ref), node, field);
  }
  if (!kind.empty() || (asset && schema.path != PathKind::kNone)) {
    PendingRef ref;
    ref.kind = kind.empty() ? "data" : kind;
    ParseAssetName(text, ref);
    if (ref.name.empty()) {
      diagnostics_.Error(DiagCode::kInvalidValue, node.range, "'" + field + "' names nothing");
      return {};
    }
    return Reference(std::move(ref), node, field);
  }
  return BindLocalPath(node, StartsWith(text, "file:") ? text.substr(5) : text, schema, field);
}

ir::Value Binder::BindLocalPath(const ast::Node& node, std::string path, const Schema& schema,
                                const std::string& field) {
  if (path.empty()) {
    diagnostics_.Error(DiagCode::kInvalidValue, node.range, "'" + field + "' is an empty path");
    return ir::Value::String(path);
  }
  if (path[0] == '/') {
    // Taken as they are when an allowed root holds them; checked to exist by the runtime.
    std::string folder = tree_.HostPath(".");  // an absolute path into the spec folder is inside
    bool inside = !folder.empty() && UnderAnyRoot(tree_.HostPath(path), {folder});
    if (!inside && !UnderAnyRoot(tree_.HostPath(path), allowed_roots_)) {
      ReportOutsideRoot(node, path, tree_.HostPath(path), field);
    }
    return ir::Value::String(path);
  }
  std::string resolved = ResolveRelative(spec_file_, path);
  bool is_file = tree_.IsFile(resolved);
  bool is_folder = !is_file && tree_.IsDirectory(resolved);
  if ((is_file || is_folder) && !tree_.Contains(resolved)) {
    std::string host = tree_.HostPath(resolved);
    if (host.empty() || !UnderAnyRoot(host, allowed_roots_)) {
      ReportOutsideRoot(node, path, host, field);
      return ir::Value::String(resolved);
    }
  }
  if (!is_file && !is_folder) {
    diagnostics_
        .Error(DiagCode::kMissingFile, node.range,
               "'" + field + "' names '" + path + "', which does not exist")
        .Hint("looked for " + tree_.DisplayPath(resolved) + " (paths are relative to the spec file)");
  } else if (schema.path == PathKind::kFile && !is_file) {
    diagnostics_.Error(DiagCode::kInvalidValue, node.range,
                       "'" + field + "' must name a file, but '" + path + "' is a folder");
  } else if (schema.path == PathKind::kFolder && !is_folder) {
    diagnostics_.Error(DiagCode::kInvalidValue, node.range,
                       "'" + field + "' must name a folder, but '" + path + "' is a file");
  }
  return ir::Value::String(resolved);
}

}  // namespace amlc::compiler::sema

namespace amlc::compiler::sema {

namespace fs = std::filesystem;

// Specs ship only what lies under their folder: a code folder, a model or
// data path outside it would be snapshotted or uploaded from wherever it
// points (another user's home, /proc) without the spec's readers knowing.
void Binder::ReportOutsideRoot(const ast::Node& node, const std::string& path, const std::string& host,
                               const std::string& field) {
  std::string folder = tree_.DisplayPath(".");
  while (folder.size() > 1 && folder.back() == '/') folder.pop_back();
  std::string where = host.empty() || host == path ? "" : " (" + host + ")";
  std::string allow = host;  // the folder itself, or a file's folder; never all of "/"
  if (!allow.empty() && !tree_.IsDirectory(path[0] == '/' ? path : ResolveRelative(spec_file_, path))) {
    allow = fs::path(host).parent_path().generic_string();
  }
  if (allow == "/") allow.clear();
  diagnostics_
      .Error(DiagCode::kOutsideRoot, node.range,
             "'" + field + "' names '" + path + "'" + where + ", which is outside the spec folder '" +
                 (folder.empty() ? "." : folder) + "'" +
                 (allowed_roots_.empty() ? "" : " and every root in AMLC_ALLOWED_ROOTS"))
      .Hint(allow.empty()
                ? "move it under the spec folder: amlc ships only files inside it"
                : "move it under the spec folder, or allow its folder for this machine: "
                  "AMLC_ALLOWED_ROOTS=" + allow + " (absolute folders separated by ':')");
}

}  // namespace amlc::compiler::sema
