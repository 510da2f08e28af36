#ifndef AMLC_COMPILER_SEMA_SCHEMA_H_
#define AMLC_COMPILER_SEMA_SCHEMA_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compiler/ir/value.h"
#include "base/status.h"

namespace amlc::compiler::sema {

/// JSON types a field may take, as a bit set.
enum TypeBits : uint8_t {
  kTypeNull = 1,
  kTypeBoolean = 2,
  kTypeInteger = 4,
  kTypeNumber = 8,
  kTypeString = 16,
  kTypeArray = 32,
  kTypeObject = 64,
};

/// What a path-valued field points at, for the existence check.
enum class PathKind { kNone, kFile, kFolder, kAny };

/// One node of a kind's schema: the subset of JSON Schema amlc interprets
/// (specs/README.md lists it) plus amlc's x-amlc-* keywords. Loaded from the
/// specs/*.schema.json files compiled into the binary, so the editor schemas
/// and the compiler can never disagree.
struct Schema {
  uint8_t types = 0;  // 0 means any
  std::string description;
  std::optional<ir::Value> default_value;
  std::vector<std::string> enum_values;
  std::map<std::string, std::string> enum_aliases;  // lower-case alias -> canonical
  std::optional<double> minimum;
  std::optional<double> maximum;
  size_t min_items = 0;
  std::string format;       // "duration", "name", "cron"
  std::string ref_kind;     // x-amlc-ref: the kind this string refers to
  PathKind path = PathKind::kNone;
  std::string unsupported;  // x-amlc-unsupported: why amlc ignores the field
  std::vector<std::pair<std::string, const Schema*>> properties;
  std::vector<std::string> required;
  bool additional_allowed = true;
  const Schema* additional = nullptr;
  const Schema* items = nullptr;
  std::vector<const Schema*> one_of;
  /// x-amlc-unchecked-types: a mapping whose `type` is one of these (a step
  /// amlc does not run, already warned about) is kept as written, unchecked.
  std::vector<std::string> unchecked_types;

  const Schema* Property(std::string_view name) const;
  std::vector<std::string> PropertyNames() const;
};

/// A top-level spec shape: one schema file, e.g. job-command.schema.json.
struct KindSchema {
  std::string file;                      // "job-command.schema.json"
  std::string kind;                      // x-amlc-kind: "job"
  std::string type;                      // x-amlc-type: "command" ("" when the kind has one shape)
  std::vector<std::string> azure_names;  // x-amlc-azure-schemas: "commandJob", ...
  std::vector<std::string> type_values;  // values of `type:` that select this shape
  bool default_for_kind = false;         // x-amlc-default: used when a DSL block gives no type
  bool versioned = false;                // x-amlc-versioned: identity includes the version
  const Schema* root = nullptr;
};

/// Azure ML shapes amlc recognizes but does not carry out, with the reason.
struct UnsupportedShape {
  std::string azure_name;
  std::string reason;
};

/// Every kind's schema, parsed once from the embedded specs/ files.
class SchemaRegistry {
 public:
  /// The registry of the schemas built into this binary.
  static const SchemaRegistry& Builtin();
  /// Parses schema files given as (file name, JSON text) pairs.
  static StatusOr<std::unique_ptr<SchemaRegistry>> Parse(
      const std::vector<std::pair<std::string, std::string>>& files);

  const std::vector<KindSchema>& kinds() const { return kinds_; }
  /// By Azure schema name ("commandJob", case-insensitive) or amlc file stem.
  const KindSchema* FindBySchemaName(std::string_view name) const;
  /// By the value of a `type:` field (case-insensitive).
  const KindSchema* FindByType(std::string_view type) const;
  /// By DSL kind keyword and optional type.
  const KindSchema* FindByKind(std::string_view kind, std::string_view type) const;
  /// By Azure schema name ("sparkJob") or "pipelineJob/STEP_TYPE".
  const UnsupportedShape* FindUnsupported(std::string_view name) const;
  /// By the value of a `type:` field ("spark", "automl").
  const UnsupportedShape* FindUnsupportedType(std::string_view type) const;
  std::vector<std::string> KindNames() const;
  std::vector<std::string> SchemaNames() const;

  Schema* NewSchema();

 private:
  std::vector<KindSchema> kinds_;
  std::vector<UnsupportedShape> unsupported_;
  std::map<std::string, std::string> unsupported_types_;  // lower-case type -> azure name
  std::vector<std::unique_ptr<Schema>> arena_;
  friend class SchemaParser;
};

/// The embedded specs/*.schema.json and specs/kinds.json files (generated at build time).
const std::vector<std::pair<std::string, std::string>>& EmbeddedSpecFiles();

}  // namespace amlc::compiler::sema

#endif  // AMLC_COMPILER_SEMA_SCHEMA_H_
