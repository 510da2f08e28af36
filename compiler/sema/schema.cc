// Implementation notes: schemas are parsed from JSON once per process (the
// registry is a function-local static). "$ref" is followed within a file
// ("#/$defs/x") and across files ("common.schema.json#/$defs/x"); each
// target is parsed once and shared, which also makes recursive shapes (a
// pipeline step that is itself a pipeline) terminate. nlohmann::json is used
// in this file only.
#include "compiler/sema/schema.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>

namespace amlc::compiler::sema {

namespace {

using Json = nlohmann::json;

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

ir::Value JsonToValue(const Json& json) {
  switch (json.type()) {
    case Json::value_t::boolean: return ir::Value::Bool(json.get<bool>());
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return ir::Value::Int(json.get<int64_t>());
    case Json::value_t::number_float: return ir::Value::Double(json.get<double>());
    case Json::value_t::string: return ir::Value::String(json.get<std::string>());
    case Json::value_t::array: {
      ir::Value list = ir::Value::EmptyList();
      for (const Json& item : json) list.Append(JsonToValue(item));
      return list;
    }
    case Json::value_t::object: {
      ir::Value map = ir::Value::EmptyMap();
      for (auto it = json.begin(); it != json.end(); ++it) map.Set(it.key(), JsonToValue(it.value()));
      return map;
    }
    default: return {};
  }
}

uint8_t TypeBit(const std::string& name) {
  if (name == "null") return kTypeNull;
  if (name == "boolean") return kTypeBoolean;
  if (name == "integer") return kTypeInteger;
  if (name == "number") return kTypeNumber;
  if (name == "string") return kTypeString;
  if (name == "array") return kTypeArray;
  if (name == "object") return kTypeObject;
  return 0;
}

}  // namespace

const Schema* Schema::Property(std::string_view name) const {
  for (const auto& [key, schema] : properties) {
    if (key == name) return schema;
  }
  return nullptr;
}

std::vector<std::string> Schema::PropertyNames() const {
  std::vector<std::string> names;
  for (const auto& [key, schema] : properties) names.push_back(key);
  return names;
}

Schema* SchemaRegistry::NewSchema() {
  arena_.push_back(std::make_unique<Schema>());
  return arena_.back().get();
}

class SchemaParser {
 public:
  explicit SchemaParser(SchemaRegistry& registry) : registry_(registry) {}

  Status AddFile(const std::string& name, const std::string& text) {
    Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
    if (json.is_discarded()) return Status(StatusCode::kInternal, "specs/" + name + " is not JSON");
    files_[name] = std::move(json);
    return Status::Ok();
  }

  Status Build() {
    for (auto& [name, json] : files_) {
      if (name == "kinds.json") {
        ReadUnsupported(json);
        continue;
      }
      if (!json.contains("x-amlc-kind")) continue;  // shared definitions only
      KindSchema kind;
      kind.file = name;
      kind.kind = json.value("x-amlc-kind", "");
      kind.type = json.value("x-amlc-type", "");
      kind.default_for_kind = json.value("x-amlc-default", false);
      kind.versioned = json.value("x-amlc-versioned", false);
      for (const Json& azure : json.value("x-amlc-azure-schemas", Json::array())) {
        kind.azure_names.push_back(azure.get<std::string>());
      }
      for (const Json& type : json.value("x-amlc-type-values", Json::array())) {
        kind.type_values.push_back(Lower(type.get<std::string>()));
      }
      kind.root = Resolve(name, "");
      if (!error_.ok()) return error_;
      registry_.kinds_.push_back(std::move(kind));
    }
    return error_;
  }

 private:
  void ReadUnsupported(const Json& json) {
    for (auto it = json["unsupported"].begin(); it != json["unsupported"].end(); ++it) {
      registry_.unsupported_.push_back({it.key(), it.value().get<std::string>()});
    }
    for (auto it = json["unsupported_types"].begin(); it != json["unsupported_types"].end(); ++it) {
      registry_.unsupported_types_[Lower(it.key())] = it.value().get<std::string>();
    }
  }

  // The schema at a JSON pointer ("" = the whole file) of a file; parsed once.
  const Schema* Resolve(const std::string& file, const std::string& pointer) {
    std::string key = file + "#" + pointer;
    if (auto it = parsed_.find(key); it != parsed_.end()) return it->second;
    auto found = files_.find(file);
    if (found == files_.end()) {
      error_ = Status(StatusCode::kInternal, "schema reference to unknown file " + file);
      return registry_.NewSchema();
    }
    Json::json_pointer json_pointer(pointer);
    if (!found->second.contains(json_pointer)) {
      error_ = Status(StatusCode::kInternal, "schema reference " + key + " leads nowhere");
      return registry_.NewSchema();
    }
    Schema* schema = registry_.NewSchema();
    parsed_[key] = schema;
    Fill(file, found->second.at(json_pointer), *schema);
    return schema;
  }

  // A "$ref" alone (or with documentation only) shares its target; with other
  // keywords beside it, the target is copied and those keywords applied on top.
  const Schema* Child(const std::string& file, const Json& json) {
    if (json.is_object() && json.contains("$ref")) {
      std::string ref = json["$ref"].get<std::string>();
      size_t hash = ref.find('#');
      std::string target_file = hash == 0 ? file : ref.substr(0, hash);
      std::string pointer = hash == std::string::npos ? "" : ref.substr(hash + 1);
      const Schema* target = Resolve(target_file, pointer);
      bool documentation_only = true;
      for (auto it = json.begin(); it != json.end(); ++it) {
        documentation_only = documentation_only && (it.key() == "$ref" || it.key() == "description" ||
                                                    it.key() == "examples" || it.key() == "title");
      }
      if (documentation_only) return target;
      Schema* overlay = registry_.NewSchema();
      *overlay = *target;
      Fill(file, json, *overlay);
      return overlay;
    }
    Schema* schema = registry_.NewSchema();
    Fill(file, json, *schema);
    return schema;
  }

  void Fill(const std::string& file, const Json& json, Schema& schema) {
    if (json.is_boolean()) return;  // `true` accepts anything
    if (json.contains("type")) {
      const Json& type = json["type"];
      if (type.is_string()) schema.types = TypeBit(type.get<std::string>());
      for (const Json& t : type.is_array() ? type : Json::array()) {
        schema.types |= TypeBit(t.get<std::string>());
      }
    }
    if (json.contains("description")) schema.description = json["description"].get<std::string>();
    if (json.contains("default")) schema.default_value = JsonToValue(json["default"]);
    for (const Json& value : json.value("enum", Json::array())) {
      if (value.is_string()) schema.enum_values.push_back(value.get<std::string>());
    }
    if (json.contains("x-amlc-aliases")) {
      for (auto& [alias, canonical] : json["x-amlc-aliases"].items()) {
        schema.enum_aliases[Lower(alias)] = canonical.get<std::string>();
      }
    }
    if (json.contains("minimum")) schema.minimum = json["minimum"].get<double>();
    if (json.contains("maximum")) schema.maximum = json["maximum"].get<double>();
    if (json.contains("minItems")) schema.min_items = json["minItems"].get<size_t>();
    schema.format = json.value("format", schema.format);
    schema.ref_kind = json.value("x-amlc-ref", schema.ref_kind);
    schema.unsupported = json.value("x-amlc-unsupported", schema.unsupported);
    std::string path = json.value("x-amlc-path", "");
    if (!path.empty()) {
      schema.path = path == "file" ? PathKind::kFile
                    : path == "folder" ? PathKind::kFolder
                                       : PathKind::kAny;
    }
    if (json.contains("properties")) {
      for (auto it = json["properties"].begin(); it != json["properties"].end(); ++it) {
        schema.properties.emplace_back(it.key(), Child(file, it.value()));
      }
    }
    for (const Json& name : json.value("required", Json::array())) {
      schema.required.push_back(name.get<std::string>());
    }
    if (json.contains("additionalProperties")) {
      const Json& additional = json["additionalProperties"];
      if (additional.is_boolean()) {
        schema.additional_allowed = additional.get<bool>();
      } else {
        schema.additional = Child(file, additional);
      }
    }
    if (json.contains("items")) schema.items = Child(file, json["items"]);
    for (const Json& type : json.value("x-amlc-unchecked-types", Json::array())) {
      schema.unchecked_types.push_back(type.get<std::string>());
    }
    for (const Json& branch : json.value("oneOf", Json::array())) {
      schema.one_of.push_back(Child(file, branch));
    }
  }

  SchemaRegistry& registry_;
  std::map<std::string, Json> files_;
  std::map<std::string, const Schema*> parsed_;
  Status error_;
};

StatusOr<std::unique_ptr<SchemaRegistry>> SchemaRegistry::Parse(
    const std::vector<std::pair<std::string, std::string>>& files) {
  auto registry = std::make_unique<SchemaRegistry>();
  SchemaParser parser(*registry);
  try {
    for (const auto& [name, text] : files) {
      if (Status status = parser.AddFile(name, text); !status.ok()) return status;
    }
    if (Status status = parser.Build(); !status.ok()) return status;
  } catch (const nlohmann::json::exception& error) {
    return Status(StatusCode::kInternal, std::string("malformed schema: ") + error.what());
  }
  return registry;
}

const SchemaRegistry& SchemaRegistry::Builtin() {
  static const std::unique_ptr<SchemaRegistry> registry = [] {
    StatusOr<std::unique_ptr<SchemaRegistry>> parsed = Parse(EmbeddedSpecFiles());
    // The embedded schemas are part of the binary; a broken one is a build defect.
    if (!parsed.ok()) {
      std::fprintf(stderr, "amlc: internal error: %s\n", parsed.status().message().c_str());
      std::abort();
    }
    return std::move(parsed.value());
  }();
  return *registry;
}

const KindSchema* SchemaRegistry::FindBySchemaName(std::string_view name) const {
  std::string wanted = Lower(name);
  for (const KindSchema& kind : kinds_) {
    if (Lower(kind.file.substr(0, kind.file.find('.'))) == wanted) return &kind;
    for (const std::string& azure : kind.azure_names) {
      if (Lower(azure) == wanted) return &kind;
    }
  }
  return nullptr;
}

const KindSchema* SchemaRegistry::FindByType(std::string_view type) const {
  std::string wanted = Lower(type);
  for (const KindSchema& kind : kinds_) {
    if (std::find(kind.type_values.begin(), kind.type_values.end(), wanted) !=
        kind.type_values.end()) {
      return &kind;
    }
  }
  return nullptr;
}

const KindSchema* SchemaRegistry::FindByKind(std::string_view kind, std::string_view type) const {
  std::string wanted_type = Lower(type);
  const KindSchema* fallback = nullptr;
  for (const KindSchema& candidate : kinds_) {
    if (candidate.kind != kind) continue;
    if (!wanted_type.empty() &&
        (Lower(candidate.type) == wanted_type ||
         std::find(candidate.type_values.begin(), candidate.type_values.end(), wanted_type) !=
             candidate.type_values.end())) {
      return &candidate;
    }
    if (candidate.default_for_kind || !fallback) fallback = &candidate;
  }
  return fallback;
}

const UnsupportedShape* SchemaRegistry::FindUnsupported(std::string_view name) const {
  std::string wanted = Lower(name);
  for (const UnsupportedShape& shape : unsupported_) {
    if (Lower(shape.azure_name) == wanted) return &shape;
  }
  return nullptr;
}

const UnsupportedShape* SchemaRegistry::FindUnsupportedType(std::string_view type) const {
  auto it = unsupported_types_.find(Lower(type));
  return it == unsupported_types_.end() ? nullptr : FindUnsupported(it->second);
}

std::vector<std::string> SchemaRegistry::KindNames() const {
  std::vector<std::string> names;
  for (const KindSchema& kind : kinds_) {
    if (std::find(names.begin(), names.end(), kind.kind) == names.end()) names.push_back(kind.kind);
  }
  return names;
}

std::vector<std::string> SchemaRegistry::SchemaNames() const {
  std::vector<std::string> names;
  for (const KindSchema& kind : kinds_) {
    names.insert(names.end(), kind.azure_names.begin(), kind.azure_names.end());
  }
  return names;
}

}  // namespace amlc::compiler::sema
